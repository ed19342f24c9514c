/**
 * Replays a recording through the app's normal run flow: a Planner over the
 * recording's replay plan, started by RunManager like any instruction.
 *
 * Why this and not replayRecording with a bridged confirm callback: a run of
 * RunManager is what the renderer already shows (plan view, the same
 * confirmation dialog with the target highlighted on the screenshot, the same
 * stop button), what the audit log records (the executor RunManager builds)
 * and what the kill switch aborts (RunManager's kill signal). A second,
 * parallel flow would need its own copy of each of these and could drift.
 *
 * The planner plans ONE recorded step at a time: each plan() grounds the next
 * step's element descriptions (groundDescription) on the elements RunManager
 * has just observed, and `continues()` tells RunManager to look at the screen
 * again after the step ran and ask for the next one, so every step is found
 * on a fresh look, as the window may have moved. A target that cannot be
 * found again fails the run (code `target_not_found`): the recorded screen
 * point is never used instead.
 */
import type { ScreenElement } from "../../src-shared/bridge-api";
import { PLAN_LIMITS, type Plan } from "../../src-shared/plan";
import type { Planner, PlanOptions, PlanRequest } from "../agent/planner";
import type { LoopLimits } from "../agent/run-manager";
import type { ElementDescription } from "./element-description";
import { type Grounding, groundDescription } from "./grounding";
import { groundedAction } from "./replay";
import type { ReplayPlan, ReplayStep } from "./replay-plan";

export class ReplayTargetNotFound extends Error {
  readonly code = "target_not_found";
}

type Found = Partial<Record<keyof ReplayStep["targets"], Grounding>>;

/** "Step 2 of 5: Click **Save**", within the plan's sentence limit. */
function numbered(index: number, total: number, description: string): string {
  const text = `Step ${index + 1} of ${total}: ${description}`;
  return text.length <= PLAN_LIMITS.maxDescription ? text : `${text.slice(0, PLAN_LIMITS.maxDescription - 1)}…`;
}

/** The replay step with its targets found on `elements`, or the texts that were not found. */
export function groundReplayStep(
  step: ReplayStep,
  elements: readonly ScreenElement[],
  display: PlanRequest["display"],
): { action: ReplayStep["step"]["action"] } | { missing: string[] } {
  const action = step.step.action;
  const wanted = Object.entries(step.targets) as Array<[keyof Found, ElementDescription]>;
  const pointTargets = action.type === "drag" ? 2 : "target" in action && action.target ? 1 : 0;
  if (wanted.length < pointTargets) return { missing: ["a target the recording has nothing to find by"] };
  const found: Found = {};
  const missing: string[] = [];
  for (const [key, target] of wanted) {
    const grounding = groundDescription(target, elements, display);
    if (grounding) found[key] = grounding;
    else missing.push(target.text);
  }
  if (missing.length > 0) return { missing };
  // An "ask" (typing the recording did not keep) stays an ask: the run stops there and says what to type.
  return { action: groundedAction(action, found, undefined) };
}

export class ReplayPlanner implements Planner {
  readonly name = "replay";
  /** The next replay step to plan. */
  private next = 0;

  constructor(private readonly replay: ReplayPlan) {}

  /** One plan per step, plus room for the run's first: RunManager's bounds for this run. */
  get limits(): LoopLimits {
    const steps = this.replay.steps.length;
    return { maxActions: steps, maxRounds: steps };
  }

  get totalSteps(): number {
    return this.replay.steps.length;
  }

  continues(): boolean {
    return this.next < this.replay.steps.length;
  }

  async plan(request: PlanRequest, options: PlanOptions): Promise<Plan> {
    options.signal.throwIfAborted();
    options.onModel?.(this.name);
    const index = this.next;
    const step = this.replay.steps[index];
    if (!step) throw new ReplayTargetNotFound("the recording has no steps left to replay");
    const grounded = groundReplayStep(step, request.elements, request.display);
    if ("missing" in grounded) {
      throw new ReplayTargetNotFound(
        `step ${index + 1} of the recording ("${step.step.description}") cannot be found on the screen: ${grounded.missing.join(", ")} — replay stopped; bring the window into view and replay again`,
      );
    }
    this.next++;
    const description = numbered(index, this.replay.steps.length, step.step.description);
    const text = JSON.stringify({ steps: [{ description, action: grounded.action }] });
    options.onText?.(text);
    return { steps: [{ description, action: grounded.action }] };
  }
}
