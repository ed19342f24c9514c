import { afterEach, describe, expect, it, vi } from "vitest";
import { connectStore, createAppStore } from "../../src-renderer/src/state/store";
import type {
  ApiEvent,
  ApiMethod,
  EventPayload,
  MethodInput,
  MethodOutput,
  SightlineApi,
  TelemetrySample,
  VramPlanResult,
} from "../../src-shared/bridge-api";
import { Settings } from "../../src-shared/bridge-api";

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

const storage = () => {
  const data = new Map<string, string>();
  return { getItem: (k: string) => data.get(k) ?? null, setItem: (k: string, v: string) => void data.set(k, v) };
};

const sample = (t: number, usedBytes = 1024): TelemetrySample => ({
  source: "system",
  reason: "no NVIDIA GPU driver",
  time_ms: t,
  gpus: [],
  system: { memory_used_bytes: usedBytes, memory_total_bytes: 4096 },
  models: [],
});

const plan = (profile: string, verdict: string): VramPlanResult => ({
  profile,
  gpus_from: "system",
  outcome: "fits",
  verdict,
  requested: null,
  requested_problems: [],
  chosen: null,
  changes: [],
  gpus: [],
  placements: [],
  unplaced: [],
  cpu: [],
  lines: [verdict],
});

const flush = () => new Promise((resolve) => setTimeout(resolve, 0));

afterEach(() => {
  vi.useRealTimers();
});

describe("the telemetry slice", () => {
  it("takes pushed samples into the latest reading and the history, and shows a stream error until the next sample", () => {
    const { api, push } = fakeApi({
      getHostStatus: () => ({ phase: "ready", version: "1", pid: 2 }),
      getSettings: () => Settings.parse({}),
    });
    const store = createAppStore({ api, storage: storage() });
    const disconnect = connectStore(store, api);
    push("telemetry", sample(1000));
    push("telemetry", sample(2000, 2048));
    expect(store.getState().telemetry?.time_ms).toBe(2000);
    expect(store.getState().telemetryHistory.system.map((p) => p.usedBytes)).toEqual([1024, 2048]);
    push("telemetryError", { code: "telemetry_unavailable", message: "the recording is unreadable" });
    expect(store.getState().telemetryError?.message).toBe("the recording is unreadable");
    push("telemetry", sample(3000));
    expect(store.getState().telemetryError).toBeUndefined();
    disconnect();
    push("telemetry", sample(4000));
    expect(store.getState().telemetry?.time_ms).toBe(3000);
  });

  it("watches with one watcher id, renews a third of the way into each lease, and unwatches when stopped", async () => {
    vi.useFakeTimers();
    const { api, calls } = fakeApi({ watchTelemetry: () => ({ leaseMs: 15_000 }), unwatchTelemetry: () => ({}) });
    const store = createAppStore({ api, storage: storage() });
    const stop = store.getState().watchTelemetry();
    await vi.advanceTimersByTimeAsync(0);
    expect(calls.map((c) => c.method)).toEqual(["watchTelemetry"]);
    await vi.advanceTimersByTimeAsync(4999);
    expect(calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    await vi.advanceTimersByTimeAsync(5000);
    expect(calls.map((c) => c.method)).toEqual(["watchTelemetry", "watchTelemetry", "watchTelemetry"]);
    const watcher = (calls[0]?.input as { watcher: string }).watcher;
    expect(watcher).toMatch(/^renderer-/);
    expect(calls.every((c) => (c.input as { watcher: string }).watcher === watcher)).toBe(true);
    stop();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(calls.map((c) => c.method)).toEqual([
      "watchTelemetry",
      "watchTelemetry",
      "watchTelemetry",
      "unwatchTelemetry",
    ]);
    expect(calls[3]?.input).toEqual({ watcher });
  });

  it("keeps trying when a renewal fails (the bridge reconnecting), and says so", async () => {
    vi.useFakeTimers();
    let fail = true;
    const { api, calls } = fakeApi({
      watchTelemetry: () => {
        if (fail) throw Object.assign(new Error("the connection to Sightline closed"), { code: "bridge_closed" });
        return { leaseMs: 3000 };
      },
      unwatchTelemetry: () => ({}),
    });
    const store = createAppStore({ api, storage: storage() });
    const stop = store.getState().watchTelemetry();
    await vi.advanceTimersByTimeAsync(0);
    expect(store.getState().telemetryError?.code).toBe("bridge_closed");
    fail = false;
    await vi.advanceTimersByTimeAsync(5000);
    expect(calls.filter((c) => c.method === "watchTelemetry")).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1000);
    expect(calls.filter((c) => c.method === "watchTelemetry")).toHaveLength(3);
    stop();
  });

  it("loads the plan for a profile, and an older answer never replaces a newer one", async () => {
    const resolvers: Record<string, (plan: VramPlanResult) => void> = {};
    const { api } = fakeApi({
      getVramPlan: ({ profile }) =>
        new Promise<VramPlanResult>((resolve) => {
          resolvers[profile] = resolve;
        }),
    });
    const store = createAppStore({ api, storage: storage() });
    const first = store.getState().loadVramPlan("workstation");
    expect(store.getState().vramPlan).toEqual({ status: "loading", profile: "workstation" });
    const second = store.getState().loadVramPlan("single-gpu");
    resolvers["single-gpu"]?.(plan("single-gpu", "Fits as requested"));
    await second;
    resolvers.workstation?.(plan("workstation", "Does not fit"));
    await first;
    const state = store.getState().vramPlan;
    expect(state.status).toBe("ready");
    if (state.status === "ready") {
      expect(state.profile).toBe("single-gpu");
      expect(state.plan.verdict).toBe("Fits as requested");
    }
  });

  it("while a profile is checked again, its last answer stays (another profile's does not)", async () => {
    let answered = false;
    const waiting: Array<() => void> = [];
    const { api } = fakeApi({
      getVramPlan: ({ profile }) => {
        if (!answered) {
          answered = true;
          return plan(profile, "first");
        }
        return new Promise<VramPlanResult>((resolve) => {
          waiting.push(() => resolve(plan(profile, "later")));
        });
      },
    });
    const store = createAppStore({ api, storage: storage() });
    await store.getState().loadVramPlan("workstation");
    const again = store.getState().loadVramPlan("workstation");
    const loading = store.getState().vramPlan;
    expect(loading.status === "loading" && loading.previous?.plan.verdict).toBe("first");
    // A third request for the same profile before the second answers keeps the same answer on show.
    void store.getState().loadVramPlan("workstation");
    const still = store.getState().vramPlan;
    expect(still.status === "loading" && still.previous?.plan.verdict).toBe("first");
    void store.getState().loadVramPlan("single-gpu");
    expect(store.getState().vramPlan).toEqual({ status: "loading", profile: "single-gpu" });
    for (const resolve of waiting) resolve();
    await again;
    await flush();
    expect(store.getState().vramPlan).toMatchObject({ status: "ready", profile: "single-gpu" });
  });

  it("keeps a failed plan's code and message", async () => {
    const { api } = fakeApi({
      getVramPlan: () => {
        throw Object.assign(new Error("host did not answer plan_vram within 60000 ms"), { code: "timeout" });
      },
    });
    const store = createAppStore({ api, storage: storage() });
    await store.getState().loadVramPlan("embedded");
    await flush();
    expect(store.getState().vramPlan).toEqual({
      status: "error",
      profile: "embedded",
      error: { code: "timeout", message: "host did not answer plan_vram within 60000 ms" },
    });
  });
});
