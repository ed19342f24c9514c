import type { DisplayInfo, ScreenElement } from "../../src-shared/bridge-api";
import type { Plan } from "../../src-shared/plan";

/** Where a replan starts from: the steps already carried out, and why the last plan was given up. */
export type PlanProgress = { done: readonly string[]; problem: string };

export type PlanRequest = {
  instruction: string;
  display: DisplayInfo;
  elements: readonly ScreenElement[];
  /** The host's vlm can ground described targets: the planner may use them for what the element list lacks. */
  canPoint?: boolean;
  progress?: PlanProgress;
};

export type PlanOptions = {
  signal: AbortSignal;
  /** The answer so far, as it streams. */
  onText?: (text: string) => void;
  /** The model that is answering, as the endpoint names it (a role such as "planner" resolves to a real model). */
  onModel?: (model: string) => void;
};

/** Turns an instruction and the observed screen into a plan that has passed the Plan schema. */
export type Planner = {
  readonly name: string;
  plan(request: PlanRequest, options: PlanOptions): Promise<Plan>;
  /**
   * A planner that plans a step at a time (a recording's replay) says here, once a plan's steps all ran,
   * that it has more: the run then looks at the screen again and asks it for the next plan.
   */
  continues?(): boolean;
  /** How many steps the whole run will have, where the planner knows before planning them (a recording's length). */
  readonly totalSteps?: number;
};

export class PlanRejected extends Error {
  readonly code = "plan_invalid";
}
