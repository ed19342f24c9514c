import type { Action } from "../../src-shared/actions";
import type { ActionExecutor, ActionOutcome, ExecutionContext } from "./executor";
import { type ActionContext, assessRisk, type ConfirmationSettings, nextConfirmationBatch, type Risk } from "./policy";

export type Decision = "confirm" | "skip" | "stop";

export type StepReport = {
  index: number;
  action: Action;
  risk: Risk;
  status: "done" | "failed" | "skipped" | "stopped";
  detail?: string;
};

export type ConfirmedRunOptions = {
  actions: readonly Action[];
  contexts?: readonly ActionContext[];
  /** Risks already assessed by the caller (with what it knows beyond the action); assessed here otherwise. */
  risks?: readonly Risk[];
  settings: ConfirmationSettings;
  /** Asks the user about these steps (one, or a batch of low-risk ones) and resolves with their decision. */
  confirm: (steps: ReadonlyArray<{ index: number; action: Action; risk: Risk }>) => Promise<Decision>;
  executor: ActionExecutor;
  execution: ExecutionContext;
  /**
   * Called before a batch is confirmed (or run unasked), to resolve what its steps land on (a vlm grounding a
   * described target). A failure it names fails that step, and nothing of the batch runs or is asked about.
   */
  prepare?: (
    steps: ReadonlyArray<{ index: number; action: Action; risk: Risk }>,
  ) => Promise<{ index: number; detail: string } | undefined>;
  /** Called right before the executor starts a confirmed step. */
  onStart?: (index: number) => void;
  onStep?: (report: StepReport) => void;
  /**
   * Called after each step that ran to completion, before anything else is
   * asked or done: the closed loop looks at the screen here, and "end" stops
   * the run after this step (to replan, or to ask the user).
   */
  afterStep?: (report: StepReport) => Promise<"continue" | "end">;
};

/**
 * Runs a plan's actions, each only after the user's confirmation. Nothing in
 * here can perform an action whose batch was not confirmed: the executor is
 * called only on the "confirm" branch.
 */
export async function runConfirmed(options: ConfirmedRunOptions): Promise<StepReport[]> {
  const { actions, settings, execution } = options;
  const risks = options.risks ?? actions.map((action, i) => assessRisk(action, options.contexts?.[i]));
  const reports: StepReport[] = [];
  const report = (r: StepReport) => {
    reports.push(r);
    options.onStep?.(r);
  };
  let index = 0;
  while (index < actions.length) {
    if (execution.signal.aborted) break;
    const batch = nextConfirmationBatch(risks, index, settings);
    const steps = batch.map((i) => ({ index: i, action: actions[i] as Action, risk: risks[i] as Risk }));
    const unprepared = await options.prepare?.(steps);
    if (unprepared) {
      const step = steps.find((s) => s.index === unprepared.index) ?? steps[0];
      if (step) report({ ...step, status: "failed", detail: unprepared.detail });
      return reports;
    }
    if (execution.signal.aborted) break;
    const needsAsking = steps.some((s) => s.risk.level !== "none");
    const decision: Decision = needsAsking ? await options.confirm(steps) : "confirm";
    if (decision === "stop" || execution.signal.aborted) break;
    for (const step of steps) {
      if (decision === "skip") {
        report({ ...step, status: "skipped" });
        continue;
      }
      options.onStart?.(step.index);
      const outcome: ActionOutcome = await options.executor.perform(step.action, execution);
      const stepReport: StepReport = {
        ...step,
        status: outcome.outcome,
        ...(outcome.detail ? { detail: outcome.detail } : {}),
      };
      report(stepReport);
      if (outcome.outcome !== "done") return reports;
      if ((await options.afterStep?.(stepReport)) === "end") return reports;
    }
    index = (batch.at(-1) ?? index) + 1;
  }
  return reports;
}
