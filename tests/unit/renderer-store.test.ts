import { describe, expect, it } from "vitest";
import { HISTORY_KEY } from "../../src-renderer/src/state/history";
import { connectStore, createAppStore } from "../../src-renderer/src/state/store";
import type {
  ApiEvent,
  ApiMethod,
  EventPayload,
  MethodInput,
  MethodOutput,
  RecordingSummaryView,
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

  it("opens the Record view on the library, and the other views as before", async () => {
    const { api, calls } = fakeApi({ listRecordings: () => [] });
    const store = createAppStore({ api, storage: memoryStorage() });
    store.getState().showView("record");
    expect(store.getState()).toMatchObject({ view: "record", notice: undefined });
    await flush();
    expect(calls.map((c) => c.method)).toEqual(["listRecordings"]);
    expect(store.getState().recordings).toEqual([]);
    store.getState().showView("vram");
    expect(store.getState()).toMatchObject({ view: "vram", notice: undefined });
    store.getState().showView("settings");
    expect(store.getState()).toMatchObject({ view: "settings", notice: undefined });
  });
});

const summary = (patch: Partial<RecordingSummaryView> = {}): RecordingSummaryView => ({
  id: "20250101-120000-abcdef",
  title: "Create an account",
  createdAt: "2025-01-01T12:00:00.000Z",
  endedAt: "2025-01-01T12:01:00.000Z",
  status: "complete",
  stepCount: 2,
  folder: "/rec/20250101-120000-abcdef",
  ...patch,
});
const live = {
  phase: "recording",
  id: "20250101-120000-abcdef",
  title: "Create an account",
  startedAt: "2025-01-01T12:00:00.000Z",
  steps: 0,
  pending: 0,
} as const;
const step = (index: number, sentence: string) => ({ index, kind: "click" as const, sentence, time: index * 100 });

describe("the recording slice", () => {
  it("starts, shows steps as they arrive (in order, from this recording only), and stops into the library", async () => {
    const exports = { folder: "/rec/x", markdown: "/rec/x/tutorial.md", html: "/rec/x/tutorial.html" };
    const { api, calls, push } = fakeApi({
      recordingStart: () => live,
      recordingStop: () => ({
        recording: summary(),
        steps: [step(1, "Click **Name**"), step(2, "Click **Save**")],
        exports,
      }),
      listRecordings: () => [summary()],
      recordingState: () => ({ phase: "idle" }),
      getHostStatus: () => ({ phase: "ready", version: "1", pid: 2 }),
      getSettings: () => Settings.parse({}),
    });
    const store = createAppStore({ api, storage: memoryStorage() });
    connectStore(store, api);
    const box = { x: 0, y: 0, width: 800, height: 600 };
    await store.getState().startRecording({ title: "Create an account", ownWindow: box });
    expect(calls.find((c) => c.method === "recordingStart")?.input).toEqual({
      title: "Create an account",
      ownWindow: box,
    });
    expect(store.getState().recorder).toEqual(live);
    push("recordingStep", { id: live.id, step: step(2, "Click **Save**") });
    push("recordingStep", { id: "another-recording", step: step(9, "Not this one") });
    push("recordingStep", { id: live.id, step: step(1, "Click **Name**") });
    push("recordingState", { ...live, steps: 2 });
    expect(store.getState().liveSteps.map((s) => s.sentence)).toEqual(["Click **Name**", "Click **Save**"]);
    push("recordingProblem", { id: live.id, message: "observe failed" });
    expect(store.getState().recordingProblems).toEqual(["observe failed"]);
    await store.getState().stopRecording();
    expect(store.getState().recorder).toEqual({ phase: "idle" });
    expect(store.getState().lastExports).toEqual({ id: summary().id, ...exports });
    expect(store.getState().recordings).toEqual([summary()]);
  });

  it("follows a recording started and stopped elsewhere (the hotkey), reloading the library at its end", async () => {
    const { api, calls, push } = fakeApi({ listRecordings: () => [summary()] });
    const store = createAppStore({ api, storage: memoryStorage() });
    connectStore(store, api);
    push("recordingState", live);
    push("recordingStep", { id: live.id, step: step(1, "Click **Name**") });
    expect(store.getState().liveSteps).toHaveLength(1);
    push("recordingState", { phase: "idle" });
    await flush();
    expect(calls.filter((c) => c.method === "listRecordings")).toHaveLength(1);
    expect(store.getState().recordings).toEqual([summary()]);
    // A new recording starts with an empty list of steps.
    push("recordingState", { ...live, id: "20250102-120000-abcdef" });
    expect(store.getState().liveSteps).toEqual([]);
  });

  it("renames, deletes, shows the folder, opens the steps, and reports a failed call without losing the list", async () => {
    const { api, calls } = fakeApi({
      listRecordings: () => [summary(), summary({ id: "other", title: "Other" })],
      renameRecording: ({ id, title }) => summary({ id, title }),
      deleteRecording: () => ({}),
      openRecordingFolder: ({ id }) => ({ folder: `/rec/${id}`, opened: false }),
      getRecording: ({ id }) => ({ recording: summary({ id }), steps: [step(1, "Click **Name**")] }),
      exportRecording: () => {
        throw Object.assign(new Error("disk full"), { code: "internal" });
      },
      replayRecording: () => ({ runId: "run-9" }),
    });
    const store = createAppStore({ api, storage: memoryStorage() });
    await store.getState().loadRecordings();
    expect(await store.getState().renameRecording(summary().id, "Sign up")).toBe(true);
    expect(store.getState().recordings?.map((r) => r.title)).toEqual(["Sign up", "Other"]);
    await store.getState().openRecordingFolder("other");
    expect(store.getState().shownFolder).toEqual({ id: "other", folder: "/rec/other", opened: false });
    await store.getState().openRecording(summary().id);
    expect(store.getState().opened?.steps).toHaveLength(1);
    await store.getState().deleteRecording(summary().id);
    expect(store.getState().recordings?.map((r) => r.id)).toEqual(["other"]);
    expect(store.getState().opened).toBeUndefined();
    await store.getState().exportRecording("other");
    expect(store.getState().recordingError).toEqual({ code: "internal", message: "disk full" });
    expect(store.getState().recordingBusy).toBe(false);
    store.getState().showView("record");
    await store.getState().replayRecording("other");
    expect(calls.at(-1)).toEqual({ method: "replayRecording", input: { id: "other" } });
    // The replay is a run: the run view shows its plan and the confirmations.
    expect(store.getState().view).toBe("run");
  });
});
