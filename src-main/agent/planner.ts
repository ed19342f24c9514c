import type { DisplayInfo, ScreenElement } from "../../src-shared/bridge-api";
import type { Plan } from "../../src-shared/plan";

export type PlanRequest = { instruction: string; display: DisplayInfo; elements: readonly ScreenElement[] };

export type PlanOptions = {
  signal: AbortSignal;
  /** The answer so far, as it streams. */
  onText?: (text: string) => void;
};

/** Turns an instruction and the observed screen into a plan that has passed the Plan schema. */
export type Planner = {
  readonly name: string;
  plan(request: PlanRequest, options: PlanOptions): Promise<Plan>;
};

export class PlanRejected extends Error {
  readonly code = "plan_invalid";
}
