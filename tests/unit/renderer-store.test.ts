import { describe, expect, it } from "vitest";
import { HISTORY_KEY } from "../../src-renderer/src/state/history";
import { connectStore, createAppStore } from "../../src-renderer/src/state/store";
import type {
  ApiEvent,
  ApiMethod,
  EventPayload,
  MethodInput,
  MethodOutput,
  RunState,
  RunStep,
  SightlineApi,
} from "../../src-shared/bridge-api";
import { Settings } from "../../src-shared/bridge-api";
import type { Plan } from "../../src-shared/plan";

type Call = { method: ApiMethod; input: unknown };

/** An API double: records calls, answers from a table, and lets the test push events. */
function fakeApi(
  answers: Partial<{ [M in ApiMethod]: (input: MethodInput<M>) => MethodOutput<M> | Promise<MethodOutput<M>> }>,
) {
  const calls: Call[] = [];
  const listeners = new Map<ApiEvent, Set<(payload: never) => void>>();
  const api: SightlineApi = {
    async call<M extends ApiMethod>(method: M, input: MethodInput<M>): Promise<MethodOutput<M>> {
      calls.push({ method, input });
      const answer = answers[method] as ((input: MethodInput<M>) => MethodOutput<M>) | undefined;
      if (!answer) throw Object.assign(new Error(`no answer for ${method}`), { code: "test_unanswered" });
      return answer(input);
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

function memoryStorage(initial: Record<string, string> = {}) {
  const data = new Map(Object.entries(initial));
  return { getItem: (k: string) => data.get(k) ?? null, setItem: (k: string, v: string) => void data.set(k, v), data };
}

const state = (patch: Partial<RunState>): RunState => ({
  runId: "run-1",
  instruction: "export as PDF",
  stage: "capturing",
  elements: [],
  steps: [],
  timingsMs: {},
  ...patch,
});

const flush = () => new Promise((resolve) => setTimeout(resolve, 0));

describe("the renderer store", () => {
  it("submits the box's text, remembers it, and follows the run's pushed states", async () => {
    const { api, calls, push } = fakeApi({
      submitInstruction: () => ({ runId: "run-1" }),
      getHostStatus: () => ({ phase: "ready", version: "1", pid: 2 }),
      getSettings: () => Settings.parse({}),
    });
    const storage = memoryStorage();
    const store = createAppStore({ api, storage });
    connectStore(store, api);
    await flush();
    expect(store.getState().host.phase).toBe("ready");
    expect(store.getState().settings?.profile).toBe("embedded");

    store.getState().setInstruction("  export as PDF ");
    await store.getState().submitInstruction();
    expect(calls.find((c) => c.method === "submitInstruction")?.input).toEqual({ instruction: "export as PDF" });
    expect(store.getState().instruction).toBe("");
    expect(JSON.parse(storage.data.get(HISTORY_KEY) ?? "[]")).toEqual(["export as PDF"]);
    expect(store.getState().run?.stage).toBe("capturing");

    push("run", state({ stage: "planning", planningText: '{"steps": [' }));
    expect(store.getState().run?.planningText).toBe('{"steps": [');
    // A second submit while the run is live is ignored.
    store.getState().setInstruction("another");
    await store.getState().submitInstruction();
    expect(calls.filter((c) => c.method === "submitInstruction")).toHaveLength(1);
  });

  it("keeps a run event that arrives before the submit's reply", async () => {
    let push: ((e: "run", p: RunState) => void) | undefined;
    const fake = fakeApi({
      submitInstruction: () => {
        push?.("run", state({ stage: "observing" }));
        return { runId: "run-1" };
      },
    });
    push = fake.push;
    const store = createAppStore({ api: fake.api, storage: memoryStorage() });
    connectStore(store, fake.api);
    store.getState().setInstruction("go");
    await store.getState().submitInstruction();
    expect(store.getState().run?.stage).toBe("observing");
  });

  it("loads the screenshot once a step has a target, answers the dialog, and cancels", async () => {
    const { api, calls, push } = fakeApi({
      getRunScreenshot: () => ({ dataUrl: "data:image/png;base64,AAAA", width: 10, height: 10 }),
      decide: () => ({}),
      cancelRun: () => ({}),
    });
    const store = createAppStore({ api, storage: memoryStorage() });
    connectStore(store, api);
    const step: RunStep = {
      index: 0,
      description: "Click **Delete**",
      action: { type: "click", target: { kind: "element", elementId: 1 }, button: "left", count: 1 },
      risk: { level: "high", reasons: ['"Delete" may not be undoable'] },
      status: "waiting",
      targetBox: { x: 1, y: 1, width: 2, height: 2 },
    };
    push("run", state({ stage: "confirming", steps: [step], confirmation: { steps: [0], lowRiskRest: false } }));
    push("run", state({ stage: "confirming", steps: [step], confirmation: { steps: [0], lowRiskRest: false } }));
    await flush();
    expect(calls.filter((c) => c.method === "getRunScreenshot")).toHaveLength(1);
    expect(store.getState().screenshot).toMatchObject({ runId: "run-1", width: 10 });

    await store.getState().decide("skip");
    expect(calls.at(-1)).toEqual({ method: "decide", input: { runId: "run-1", decision: "skip" } });

    await store.getState().cancelRun();
    expect(calls.at(-1)).toEqual({ method: "cancelRun", input: { runId: "run-1" } });
    expect(store.getState().cancelling).toBe(true);
    push("run", state({ stage: "cancelled", steps: [{ ...step, status: "skipped" }] }));
    expect(store.getState().cancelling).toBe(false);
  });

  it("retries a plan run as the same plan, and rephrases into the box", async () => {
    const plan: Plan = { steps: [{ description: "Wait", action: { type: "wait", ms: 1 } }] };
    let runs = 0;
    const { api, calls, push } = fakeApi({ runPlan: () => ({ runId: `plan-${++runs}` }) });
    const store = createAppStore({ api, storage: memoryStorage() });
    connectStore(store, api);
    await store.getState().startPlan("replay the tutorial", plan);
    push(
      "run",
      state({
        runId: "plan-1",
        instruction: "replay the tutorial",
        stage: "failed",
        error: { code: "step_failed", message: "no", retryable: true },
      }),
    );
    await store.getState().retry();
    expect(calls.filter((c) => c.method === "runPlan").map((c) => c.input)).toEqual([
      { instruction: "replay the tutorial", plan },
      { instruction: "replay the tutorial", plan },
    ]);
    expect(store.getState().run?.runId).toBe("plan-2");

    push("run", state({ runId: "plan-2", instruction: "replay the tutorial", stage: "failed" }));
    store.getState().rephrase();
    expect(store.getState().run).toBeUndefined();
    expect(store.getState().instruction).toBe("replay the tutorial");
  });

  it("shows a refused start as a call error", async () => {
    const { api } = fakeApi({});
    const store = createAppStore({ api, storage: memoryStorage() });
    store.getState().setInstruction("go");
    await store.getState().submitInstruction();
    expect(store.getState().callError).toEqual({ code: "test_unanswered", message: "no answer for submitInstruction" });
    expect(store.getState().pending).toBe(false);
  });

  it("saves settings and keeps what the main process read back", async () => {
    const saved = Settings.parse({ theme: "dark", profile: "workstation" });
    const { api, calls } = fakeApi({ updateSettings: () => saved });
    const store = createAppStore({ api, storage: memoryStorage() });
    expect(await store.getState().saveSettings(Settings.parse({ theme: "dark" }))).toBe(true);
    expect(calls[0]?.method).toBe("updateSettings");
    expect(store.getState().settings).toEqual(saved);
    expect(store.getState().settingsStatus).toBe("saved");
  });

  it("recalls history persisted by an earlier page", () => {
    const { api } = fakeApi({});
    const store = createAppStore({ api, storage: memoryStorage({ [HISTORY_KEY]: JSON.stringify(["one", "two"]) }) });
    store.getState().setInstruction("draft");
    expect(store.getState().recallOlder()).toBe(true);
    expect(store.getState().instruction).toBe("two");
    expect(store.getState().recallNewer()).toBe(true);
    expect(store.getState().instruction).toBe("draft");
  });

  it("turns tray views this build lacks into a notice", () => {
    const { api } = fakeApi({});
    const store = createAppStore({ api, storage: memoryStorage() });
    store.getState().showView("record");
    expect(store.getState().view).toBe("run");
    expect(store.getState().notice).toContain("recording");
    store.getState().showView("vram");
    expect(store.getState()).toMatchObject({ view: "vram", notice: undefined });
    store.getState().showView("settings");
    expect(store.getState()).toMatchObject({ view: "settings", notice: undefined });
  });
});
