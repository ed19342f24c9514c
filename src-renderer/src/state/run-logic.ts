/** Pure rules about runs: which pushed state the overlay follows, and what a state means for the user. */
import type { RunStage, RunState, RunStep } from "../../../src-shared/bridge-api";

const FINISHED: ReadonlySet<RunStage> = new Set(["done", "failed", "cancelled"]);

export function isFinished(run: RunState | undefined): boolean {
  return run !== undefined && FINISHED.has(run.stage);
}

export function isActive(run: RunState | undefined): run is RunState {
  return run !== undefined && !FINISHED.has(run.stage);
}

/**
 * Whether a pushed run state replaces the one shown. The same run always
 * does. Another run does when ours is over or it is live: the main process
 * cancels older runs when one starts, so a live stranger is the newest run
 * (one started from the tray or another window). A late, finished stranger is
 * an older run's last word and is dropped.
 */
export function shouldFollow(current: RunState | undefined, incoming: RunState): boolean {
  if (!current || current.runId === incoming.runId) return true;
  return isFinished(current) || !isFinished(incoming);
}

/** The state to show until the first `run` event arrives for a run just started. */
export function startingRun(runId: string, instruction: string): RunState {
  return { runId, instruction, stage: "capturing", elements: [], steps: [], timingsMs: {} };
}

export function stepsAwaitingDecision(run: RunState | undefined): RunStep[] {
  if (!run?.confirmation || run.stage !== "confirming") return [];
  const wanted = new Set(run.confirmation.steps);
  return run.steps.filter((step) => wanted.has(step.index));
}

/** "Confirm the rest of the low-risk steps" must never be the key that confirms a risky step. */
export function canConfirmLowRiskRest(run: RunState | undefined): boolean {
  const steps = stepsAwaitingDecision(run);
  return Boolean(run?.confirmation?.lowRiskRest) && steps.length > 0 && steps.every((s) => s.risk.level !== "high");
}

/** The milestones shown in the progress line, in order; confirming and executing share one. */
export const MILESTONES = [
  { id: "capturing", label: "Capture" },
  { id: "observing", label: "Read screen" },
  { id: "planning", label: "Plan" },
  { id: "acting", label: "Confirm & act" },
  { id: "verifying", label: "Verify" },
] as const;

export type MilestoneId = (typeof MILESTONES)[number]["id"];
export type MilestoneState = "upcoming" | "current" | "complete";

function milestoneOf(stage: RunStage): MilestoneId | undefined {
  if (stage === "confirming" || stage === "executing") return "acting";
  if (stage === "capturing" || stage === "observing" || stage === "planning" || stage === "verifying") return stage;
  return undefined;
}

/**
 * Where each milestone stands. A finished run marks complete what it got
 * through: a failure or cancel leaves the milestone it stopped in "current"
 * so the user sees where it stopped.
 */
export function milestoneStates(run: RunState): Record<MilestoneId, MilestoneState> {
  const ids = MILESTONES.map((m) => m.id);
  let reached = milestoneOf(run.stage);
  if (reached === undefined) {
    if (run.stage === "done") {
      return Object.fromEntries(ids.map((id) => [id, "complete"])) as Record<MilestoneId, MilestoneState>;
    }
    reached = lastReachedMilestone(run);
  }
  const at = ids.indexOf(reached);
  return Object.fromEntries(
    ids.map((id, i) => [id, i < at ? "complete" : i === at ? "current" : "upcoming"]),
  ) as Record<MilestoneId, MilestoneState>;
}

/** A finished run does not say where it stopped, so infer it from what it had produced. */
function lastReachedMilestone(run: RunState): MilestoneId {
  if (run.steps.some((s) => s.status !== "pending")) return "acting";
  if (run.steps.length > 0 || run.planningText !== undefined || run.planner !== undefined) return "planning";
  if (run.display !== undefined || run.elements.length > 0) return "observing";
  return "capturing";
}

export type ShownStepStatus = RunStep["status"] | "not_run";

/**
 * A finished run never acts again, so a step it left pending, waiting or
 * running is shown as "not run" rather than as still waiting for the user.
 */
export function shownStepStatus(run: RunState, step: RunStep): ShownStepStatus {
  if (isFinished(run) && (step.status === "pending" || step.status === "waiting" || step.status === "running")) {
    return "not_run";
  }
  return step.status;
}
