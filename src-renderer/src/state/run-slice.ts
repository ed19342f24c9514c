import type { Decision, RunState } from "../../../src-shared/bridge-api";
import type { Plan } from "../../../src-shared/plan";
import { isActive, shouldFollow, startingRun } from "./run-logic";
import { asFailure, type CallFailure, type SliceCreator } from "./slice";

export type RunScreenshot = { runId: string; dataUrl: string; width: number; height: number };

/** How the shown run was started, so Retry can start it the same way. */
export type RunRequest =
  | { kind: "instruction"; instruction: string }
  | { kind: "plan"; instruction: string; plan: Plan };

export type RunSlice = {
  run: RunState | undefined;
  screenshot: RunScreenshot | undefined;
  /** A call that failed outside any run's own error (the bridge closed, a refused input). */
  callError: CallFailure | undefined;
  /** A start or a decision is on its way to the main process; buttons wait for it. */
  pending: boolean;
  /** The user asked to stop; the run ends when its current stage lets go (an observe in flight, say). */
  cancelling: boolean;
  lastRequest: RunRequest | undefined;
  /** Starts a run of the instruction box's text. */
  submitInstruction: () => Promise<void>;
  startPlan: (instruction: string, plan: Plan) => Promise<void>;
  decide: (decision: Decision) => Promise<void>;
  cancelRun: () => Promise<void>;
  retry: () => Promise<void>;
  /** Puts the run's instruction back into the box to be reworded. */
  rephrase: () => void;
  /** Forgets a finished run and any error, leaving the overlay idle. */
  clearRun: () => void;
  receiveRun: (state: RunState) => void;
};

export const createRunSlice: SliceCreator<RunSlice> = (set, get, { api }) => {
  let screenshotFor: string | undefined;

  const loadScreenshot = async (runId: string): Promise<void> => {
    if (screenshotFor === runId) return;
    screenshotFor = runId;
    try {
      const shot = await api.call("getRunScreenshot", { runId });
      if (get().run?.runId === runId) set({ screenshot: { runId, ...shot } });
    } catch {
      // The dialog still shows the step in words; allow another try on the next update.
      screenshotFor = undefined;
    }
  };

  const start = async (request: RunRequest): Promise<void> => {
    if (get().pending || isActive(get().run)) return;
    set({ pending: true, callError: undefined, lastRequest: request });
    try {
      const { runId } =
        request.kind === "plan"
          ? await api.call("runPlan", { instruction: request.instruction, plan: request.plan })
          : await api.call("submitInstruction", { instruction: request.instruction });
      // The first `run` event may have come before this reply; keep it if so.
      if (get().run?.runId !== runId) set({ run: startingRun(runId, request.instruction), screenshot: undefined });
    } catch (error) {
      set({ callError: asFailure(error) });
    } finally {
      set({ pending: false });
    }
  };

  return {
    run: undefined,
    screenshot: undefined,
    callError: undefined,
    pending: false,
    cancelling: false,
    lastRequest: undefined,
    submitInstruction: async () => {
      const instruction = get().instruction.trim();
      if (!instruction || get().pending || isActive(get().run)) return;
      get().rememberInstruction(instruction);
      get().setInstruction("");
      await start({ kind: "instruction", instruction });
    },
    startPlan: (instruction, plan) => start({ kind: "plan", instruction, plan }),
    decide: async (decision) => {
      const run = get().run;
      if (!run?.confirmation || get().pending) return;
      set({ pending: true });
      try {
        await api.call("decide", { runId: run.runId, decision });
      } catch (error) {
        set({ callError: asFailure(error) });
      } finally {
        set({ pending: false });
      }
    },
    cancelRun: async () => {
      const run = get().run;
      if (!isActive(run) || get().cancelling) return;
      set({ cancelling: true });
      try {
        await api.call("cancelRun", { runId: run.runId });
      } catch (error) {
        set({ callError: asFailure(error), cancelling: false });
      }
    },
    retry: async () => {
      const request =
        get().lastRequest ?? (get().run && { kind: "instruction", instruction: get().run?.instruction ?? "" });
      if (!request || !request.instruction) return;
      await start(request);
    },
    rephrase: () => {
      const instruction = get().run?.instruction ?? get().lastRequest?.instruction ?? "";
      if (isActive(get().run)) return;
      set({ run: undefined, screenshot: undefined, callError: undefined });
      get().setInstruction(instruction);
    },
    clearRun: () => {
      if (isActive(get().run)) return;
      set({ run: undefined, screenshot: undefined, callError: undefined });
    },
    receiveRun: (state) => {
      const current = get().run;
      if (!shouldFollow(current, state)) return;
      const sameRun = current?.runId === state.runId;
      set({
        run: state,
        cancelling: sameRun && get().cancelling && isActive(state),
        ...(sameRun ? {} : { screenshot: undefined, callError: undefined }),
        // A run started elsewhere (the tray, a test) cannot be retried as a plan it never showed us.
        ...(sameRun || get().lastRequest?.instruction === state.instruction
          ? {}
          : { lastRequest: { kind: "instruction", instruction: state.instruction } }),
      });
      if (state.steps.some((s) => s.targetBox) || state.confirmation) void loadScreenshot(state.runId);
    },
  };
};
