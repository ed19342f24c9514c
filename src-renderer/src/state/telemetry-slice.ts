import type { Settings, TelemetrySample, VramPlanResult } from "../../../src-shared/bridge-api";
import { asFailure, type CallFailure, type SliceCreator } from "./slice";
import { appendSample, EMPTY_HISTORY, type TelemetryHistory } from "./telemetry-history";

export type ProfileId = Settings["profile"];

export type VramPlanState =
  | { status: "idle" }
  /** `previous`: the last answer for the same profile, shown while it is checked again. */
  | { status: "loading"; profile: ProfileId; previous?: { plan: VramPlanResult; at: number } }
  | { status: "ready"; profile: ProfileId; plan: VramPlanResult; at: number }
  | { status: "error"; profile: ProfileId; error: CallFailure };

export type TelemetrySlice = {
  /** The latest sample; undefined until the first arrives. */
  telemetry: TelemetrySample | undefined;
  /** The last 60 seconds, per GPU and for system memory. */
  telemetryHistory: TelemetryHistory;
  /** Why the stream stopped or could not start; cleared by the next sample. */
  telemetryError: CallFailure | undefined;
  vramPlan: VramPlanState;
  receiveTelemetry: (sample: TelemetrySample) => void;
  setTelemetryError: (error: CallFailure) => void;
  /**
   * Asks the main process for telemetry and keeps asking (renewing the lease) until the returned stop is
   * called, which says it is no longer wanted. The VRAM panel calls it while it is shown.
   */
  watchTelemetry: () => () => void;
  /** The planner's verdict for `profile` on the GPUs the host sees now; an older answer never replaces a newer one. */
  loadVramPlan: (profile: ProfileId) => Promise<void>;
};

function watcherId(): string {
  return `renderer-${globalThis.crypto.randomUUID()}`;
}

export const createTelemetrySlice: SliceCreator<TelemetrySlice> = (set, get, { api }) => {
  let planRequest = 0;
  return {
    telemetry: undefined,
    telemetryHistory: EMPTY_HISTORY,
    telemetryError: undefined,
    vramPlan: { status: "idle" },
    receiveTelemetry: (sample) =>
      set({
        telemetry: sample,
        telemetryHistory: appendSample(get().telemetryHistory, sample),
        telemetryError: undefined,
      }),
    setTelemetryError: (error) => set({ telemetryError: error }),
    watchTelemetry: () => {
      const watcher = watcherId();
      let stopped = false;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const renew = async (): Promise<void> => {
        let next = 5000;
        try {
          const { leaseMs } = await api.call("watchTelemetry", { watcher });
          next = Math.max(1000, Math.floor(leaseMs / 3));
        } catch (error) {
          // The bridge is reconnecting, say: try again soon; the stream resumes with the next lease.
          set({ telemetryError: asFailure(error) });
        }
        if (!stopped) timer = setTimeout(() => void renew(), next);
      };
      void renew();
      return () => {
        stopped = true;
        clearTimeout(timer);
        api.call("unwatchTelemetry", { watcher }).catch(() => {});
      };
    },
    loadVramPlan: async (profile) => {
      const request = ++planRequest;
      const before = get().vramPlan;
      const previous =
        before.status === "ready" && before.profile === profile
          ? { plan: before.plan, at: before.at }
          : before.status === "loading" && before.profile === profile
            ? before.previous
            : undefined;
      set({ vramPlan: previous ? { status: "loading", profile, previous } : { status: "loading", profile } });
      try {
        const plan = await api.call("getVramPlan", { profile });
        if (request === planRequest) set({ vramPlan: { status: "ready", profile, plan, at: Date.now() } });
      } catch (error) {
        if (request === planRequest) set({ vramPlan: { status: "error", profile, error: asFailure(error) } });
      }
    },
  };
};
