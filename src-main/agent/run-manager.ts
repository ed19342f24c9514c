import { createHash, randomUUID } from "node:crypto";
import type { Action } from "../../src-shared/actions";
import type { Decision, RunError, RunState, RunStep, ScreenBox, ScreenElement } from "../../src-shared/bridge-api";
import type { Plan } from "../../src-shared/plan";
import { runConfirmed } from "../actions/confirmed-run";
import type { ActionExecutor, ExecutionContext } from "../actions/executor";
import { type ActionContext, assessRisk, type ConfirmationSettings } from "../actions/policy";
import type { Capture } from "../capture/capture";
import { boxCentre, type DisplayGeometry } from "../coords/spaces";
import { TypedEvents } from "../util/typed-events";
import { checkExpectation } from "./expectation";
import { describeFailure } from "./failures";
import { describedTargetsOf, groundDescribed, type PointOnScreenshot, TargetNotFound, targetsOf } from "./grounding";
import { PartialPlanReader } from "./partial-plan";
import type { Planner, PlanProgress } from "./planner";
import { reconcileElements } from "./reconcile";

/** What a run needs from the rest of the app; each piece is real in the app and in the tests. */
export type RunDependencies = {
  capture: () => Promise<Capture>;
  beforeCapture?: () => Promise<void>;
  afterCapture?: () => Promise<void>;
  observe: (capture: Capture) => Promise<{ elements: ScreenElement[]; timingsMs: Record<string, number> }>;
  planner: () => Planner;
  executor: () => Promise<ActionExecutor>;
  displays: () => Promise<DisplayGeometry[]>;
  confirmation: () => ConfirmationSettings["mode"];
  /** The host's vlm, which grounds described targets; without it a described target fails with the fix. */
  point?: PointOnScreenshot;
  /** Whether the host can point now (it announces the capability); the planner is offered described targets only then. */
  canPoint?: () => Promise<boolean>;
  /** Aborted by the global kill switch; a run also stops when its own cancel is called. */
  killSignal?: () => AbortSignal;
  limits?: LoopLimits;
};

type ActiveRun = {
  state: RunState;
  abort: AbortController;
  capture?: Capture;
  pendingDecision?: (decision: Decision) => void;
  confirmLowRiskRest: boolean;
  /** The highest element id handed out in this run; re-observed screens never reuse a vanished element's id. */
  highestElementId: number;
  /**
   * Described targets grounded on `capture`, by description, in desktop physical pixels. Emptied by every new
   * capture, so a point is never reused on a screen it was not found on.
   */
  describedPoints: Map<string, { x: number; y: number }>;
  /** Actions performed so far, against the step budget. */
  actionsTaken: number;
  /** This run's own planner and bounds (a recording's replay), instead of the app's. */
  planner?: Planner;
  limits: LoopLimits;
};

/** What one run may use instead of the app's defaults. */
export type RunOptions = { planner?: Planner; limits?: LoopLimits };

/** The closed loop's bounds: actions performed per run, and plans made per run (the first plus replans). */
export type LoopLimits = { maxActions: number; maxRounds: number };
export const DEFAULT_LOOP_LIMITS: LoopLimits = { maxActions: 24, maxRounds: 3 };

/** How one plan's steps ended. */
type RoundOutcome =
  | { kind: "finished" }
  | { kind: "stopped" }
  | { kind: "failed"; index: number }
  | { kind: "asks"; question: string }
  | { kind: "replan"; problem: string }
  | { kind: "budget" };

/** How long the screen gets to react before a step-at-a-time planner's next look. */
const CONTINUE_SETTLE_MS = 400;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs kept for `getRun`/`getRunScreenshot` after they end; each holds a screenshot. */
const KEPT_RUNS = 4;

export class RunNotFound extends Error {
  readonly code = "unknown_run";
}

/**
 * One instruction's life, as a closed loop: capture → observe → plan →
 * confirm ⇄ act → re-capture → observe → check the step's expected change →
 * continue, replan, or stop and ask, within a step budget. Every change is
 * pushed as a full RunState. An action is performed only inside runConfirmed's
 * "confirm" branch, so a plan nobody confirms changes nothing.
 */
export class RunManager extends TypedEvents<{ run: RunState }> {
  private readonly runs = new Map<string, ActiveRun>();
  private readonly limits: LoopLimits;

  constructor(private readonly deps: RunDependencies) {
    super();
    this.limits = deps.limits ?? DEFAULT_LOOP_LIMITS;
  }

  start(instruction: string, plan?: Plan, options: RunOptions = {}): { runId: string } {
    for (const run of this.runs.values()) if (!isFinished(run.state)) this.cancel(run.state.runId);
    const runId = randomUUID();
    const run: ActiveRun = {
      state: { runId, instruction, stage: "capturing", elements: [], steps: [], timingsMs: {} },
      abort: new AbortController(),
      confirmLowRiskRest: false,
      highestElementId: 0,
      describedPoints: new Map(),
      actionsTaken: 0,
      ...(options.planner ? { planner: options.planner } : {}),
      limits: options.limits ?? this.limits,
    };
    this.runs.set(runId, run);
    this.forgetOldRuns();
    this.publish(run);
    void this.execute(run, plan);
    return { runId };
  }

  decide(runId: string, decision: Decision): void {
    const run = this.get(runId);
    if (!run.pendingDecision)
      throw Object.assign(new Error("this run is not waiting for a decision"), { code: "not_waiting" });
    const resolve = run.pendingDecision;
    run.pendingDecision = undefined;
    resolve(decision);
  }

  cancel(runId: string): void {
    const run = this.get(runId);
    run.abort.abort(new Error("cancelled by the user"));
    run.pendingDecision?.("stop");
    run.pendingDecision = undefined;
  }

  state(runId: string): RunState {
    return this.get(runId).state;
  }

  screenshot(runId: string): Capture {
    const capture = this.get(runId).capture;
    if (!capture) throw Object.assign(new Error("this run has no screenshot yet"), { code: "no_screenshot" });
    return capture;
  }

  private get(runId: string): ActiveRun {
    const run = this.runs.get(runId);
    if (!run) throw new RunNotFound(`no run ${runId}`);
    return run;
  }

  private plannerOf(run: ActiveRun): Planner {
    return run.planner ?? this.deps.planner();
  }

  private forgetOldRuns(): void {
    const finished = [...this.runs.values()].filter((run) => isFinished(run.state));
    for (const run of finished.slice(0, Math.max(0, this.runs.size - KEPT_RUNS))) this.runs.delete(run.state.runId);
  }

  private update(run: ActiveRun, patch: Partial<RunState>): void {
    run.state = { ...run.state, ...patch };
    this.publish(run);
  }

  private publish(run: ActiveRun): void {
    this.emit("run", run.state);
  }

  private setStep(run: ActiveRun, index: number, patch: Partial<RunStep>): void {
    const steps = run.state.steps.map((step) => (step.index === index ? { ...step, ...patch } : step));
    this.update(run, { steps });
  }

  private async execute(run: ActiveRun, givenPlan: Plan | undefined): Promise<void> {
    const signal = anySignal([run.abort.signal, this.deps.killSignal?.()]);
    const timings: Record<string, number> = {};
    const timed = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
      const started = performance.now();
      try {
        return await work();
      } finally {
        timings[name] = (timings[name] ?? 0) + performance.now() - started;
        run.state = { ...run.state, timingsMs: { ...timings } };
      }
    };
    try {
      await timed("capture", () => this.look(run, "capture", signal));
      this.update(run, { stage: "observing", ...(run.capture ? { display: run.capture.display } : {}) });
      await timed("observe", () => this.look(run, "observe", signal));
      this.update(run, { stage: "planning" });

      const plan = givenPlan ?? (await timed("plan", () => this.plan(run, undefined, signal)));
      throwIfAborted(signal);
      this.update(run, {
        stage: "confirming",
        steps: this.stepsFor(run, plan, 1),
        planningText: undefined,
        ...(givenPlan ? { planner: "given plan" } : {}),
      });

      for (let round = 1; ; round++) {
        let outcome = await this.runRound(run, round, signal, timed);
        if (outcome.kind === "finished" && !givenPlan && this.plannerOf(run).continues?.()) {
          // The planner plans a step at a time (a recording's replay): look again, then ask for the next one.
          await sleep(CONTINUE_SETTLE_MS);
          await timed("verify", async () => {
            await this.look(run, "capture", signal);
            await this.look(run, "observe", signal);
          });
          outcome = { kind: "replan", problem: "the previous step is done; the next one is found on the new screen" };
        }
        if (outcome.kind !== "replan" || givenPlan || round >= run.limits.maxRounds) {
          this.finish(run, outcome, signal);
          return;
        }
        // Steps of the given-up plan that never ran will not run now.
        this.update(run, {
          stage: "planning",
          stageDetail: `replanning: ${outcome.problem}`,
          steps: run.state.steps.map((s) =>
            notRunYet(s) ? { ...s, status: "skipped", detail: "left for a new plan" } : s,
          ),
        });
        // "Confirm the rest" covered the plan the user saw, not one they have not seen yet.
        run.confirmLowRiskRest = false;
        const progress = { done: doneDescriptions(run), problem: outcome.problem };
        const next = await timed("plan", () => this.plan(run, progress, signal));
        throwIfAborted(signal);
        this.update(run, {
          stage: "confirming",
          stageDetail: undefined,
          planningText: undefined,
          steps: [...run.state.steps, ...this.stepsFor(run, next, round + 1)],
        });
      }
    } catch (error) {
      if (signal.aborted) {
        this.update(run, { stage: "cancelled", confirmation: undefined, stageDetail: undefined });
      } else {
        const failure: RunError = describeFailure(error);
        this.update(run, { stage: "failed", error: failure, confirmation: undefined, stageDetail: undefined });
      }
    } finally {
      run.pendingDecision = undefined;
    }
  }

  private finish(run: ActiveRun, outcome: RoundOutcome, signal: AbortSignal): void {
    const end = { confirmation: undefined, stageDetail: undefined } as const;
    if (signal.aborted || outcome.kind === "stopped") {
      this.update(run, { stage: "cancelled", ...end });
      return;
    }
    const stopAndAsk = (code: string, message: string): void =>
      this.update(run, { stage: "failed", ...end, error: { code, message, retryable: true } });
    switch (outcome.kind) {
      case "finished":
        this.update(run, { stage: "done", ...end });
        return;
      case "failed": {
        const failed = run.state.steps[outcome.index];
        stopAndAsk("step_failed", `step ${outcome.index + 1} failed: ${failed?.detail ?? ""}`.trim());
        return;
      }
      case "asks":
        stopAndAsk("planner_asks", outcome.question);
        return;
      case "budget":
        stopAndAsk(
          "step_budget",
          `stopped after ${run.actionsTaken} actions, the most one run may take; check the screen, then run the instruction again to go on`,
        );
        return;
      case "replan":
        stopAndAsk(
          "expectation_not_met",
          `${outcome.problem}; stopped to ask you after ${run.limits.maxRounds} plans — check the screen, then retry or rephrase`,
        );
        return;
    }
  }

  /** Capture (with the overlay out of the way), or observe the run's capture and renumber against the last look. */
  private async look(run: ActiveRun, what: "capture" | "observe", signal: AbortSignal): Promise<void> {
    if (what === "capture") {
      await this.deps.beforeCapture?.();
      try {
        run.capture = await this.deps.capture();
        run.describedPoints.clear();
      } finally {
        await this.deps.afterCapture?.();
      }
    } else {
      if (!run.capture) throw new Error("observe before capture");
      const observed = await this.deps.observe(run.capture);
      const { elements, highestId } = reconcileElements(run.state.elements, observed.elements, run.highestElementId);
      run.highestElementId = highestId;
      this.update(run, { elements });
    }
    throwIfAborted(signal);
  }

  private stepsFor(run: ActiveRun, plan: Plan, round: number): RunStep[] {
    if (!run.capture) throw new Error("a plan needs a screenshot");
    return planSteps(plan, run.state.elements, run.capture, {
      round,
      firstIndex: run.state.steps.length,
      describedPoints: run.describedPoints,
    });
  }

  private async plan(run: ActiveRun, progress: PlanProgress | undefined, signal: AbortSignal): Promise<Plan> {
    const planner = this.plannerOf(run);
    const capture = run.capture;
    if (!capture) throw new Error("a plan needs a screenshot");
    const before = run.state.steps;
    const round = Math.max(0, ...before.map((s) => s.round ?? 1)) + 1;
    this.update(run, {
      planner: planner.name,
      planningText: "",
      ...(planner.totalSteps !== undefined ? { totalSteps: planner.totalSteps } : {}),
    });
    // Described targets are offered only where they can be grounded: a host whose vlm can point.
    const canPoint = this.deps.point !== undefined && ((await this.deps.canPoint?.()) ?? true);
    let lastPush = 0;
    let shown = 0;
    const reader = new PartialPlanReader();
    try {
      return await planner.plan(
        {
          instruction: run.state.instruction,
          display: capture.display,
          elements: run.state.elements,
          canPoint,
          ...(progress ? { progress } : {}),
        },
        {
          signal,
          onModel: (model) => this.update(run, { planner: model }),
          onText: (text) => {
            // Each step shows as soon as its JSON object is complete; nothing runs before the whole plan parses.
            const preview = reader.read(text);
            if (preview.length > shown) {
              shown = preview.length;
              lastPush = performance.now();
              const steps = planSteps({ steps: [...preview] }, run.state.elements, capture, {
                round,
                firstIndex: before.length,
              });
              this.update(run, { planningText: text, steps: [...before, ...steps] });
              return;
            }
            // Otherwise a few updates a second, not one per token.
            const now = performance.now();
            if (now - lastPush < 100) return;
            lastPush = now;
            this.update(run, { planningText: text });
          },
        },
      );
    } finally {
      if (shown > 0) this.update(run, { steps: before });
    }
  }

  /** Confirms and performs one plan's steps, looking at the screen after each one that needs it. */
  private async runRound(
    run: ActiveRun,
    round: number,
    signal: AbortSignal,
    timed: <T>(name: string, work: () => Promise<T>) => Promise<T>,
  ): Promise<RoundOutcome> {
    const roundSteps = run.state.steps.filter((s) => s.round === round);
    const globalIndex = (local: number): number => roundSteps[local]?.index ?? -1;
    let outcome: RoundOutcome | undefined;
    const displays = await this.deps.displays();
    const execution: ExecutionContext = {
      displays,
      elementCentres: centresOf(run.state.elements),
      describedPoints: run.describedPoints,
      screenshotSha256: sha256(run.capture?.png),
      signal,
    };
    const showTargets = (from: number) =>
      this.update(run, {
        steps: run.state.steps.map((s) =>
          s.index >= from && run.capture ? withTargetBox(s, run.state.elements, run.capture, run.describedPoints) : s,
        ),
      });
    const reports = await runConfirmed({
      actions: roundSteps.map((step) => step.action),
      risks: roundSteps.map((step) => step.risk),
      settings: { mode: this.deps.confirmation() },
      executor: await this.deps.executor(),
      execution,
      // The vlm grounds a batch's described targets on the screenshot before the user is asked, so the dialog
      // highlights the very point that a confirmation lets the executor click.
      prepare: async (batch) => {
        for (const step of batch) {
          const missing = await this.ground(run, step.action, signal);
          if (missing) return { index: step.index, detail: missing.message };
        }
        const first = batch[0];
        if (first) showTargets(globalIndex(first.index));
        return undefined;
      },
      confirm: async (batch) => {
        const indexes = batch.map((s) => globalIndex(s.index));
        const lowRiskOnly = batch.every((s) => s.risk.level !== "high");
        if (run.confirmLowRiskRest && lowRiskOnly) return "confirm";
        const last = indexes.at(-1) ?? 0;
        const lowRiskRest = run.state.steps.some(
          (s) => s.index > last && s.status === "pending" && s.risk.level === "low",
        );
        for (const index of indexes) this.setStep(run, index, { status: "waiting" });
        const decision = await new Promise<Decision>((resolve) => {
          run.pendingDecision = resolve;
          this.update(run, { stage: "confirming", confirmation: { steps: indexes, lowRiskRest } });
        });
        this.update(run, { confirmation: undefined, stage: "executing" });
        if (decision === "confirm_low_risk_rest") {
          run.confirmLowRiskRest = true;
          return "confirm";
        }
        if (decision === "stop") run.abort.abort(new Error("stopped by the user"));
        return decision;
      },
      onStart: (local) => {
        this.update(run, { stage: "executing" });
        this.setStep(run, globalIndex(local), { status: "running" });
      },
      onStep: (report) => {
        const status = report.status === "stopped" ? "pending" : report.status;
        this.setStep(run, globalIndex(report.index), { status, ...(report.detail ? { detail: report.detail } : {}) });
      },
      afterStep: async (report) => {
        const index = globalIndex(report.index);
        const action = report.action;
        if (action.type === "done" || action.type === "ask") {
          this.skipRest(
            run,
            round,
            index,
            action.type === "done" ? "the plan was already done" : "waiting on your answer",
          );
          outcome = action.type === "done" ? { kind: "finished" } : { kind: "asks", question: action.question };
          return "end";
        }
        if (action.type !== "wait") run.actionsTaken++;
        const step = run.state.steps[index];
        const rest = run.state.steps.filter((s) => s.round === round && s.index > index && notRunYet(s));
        const moreActions = rest.some((s) => s.action.type !== "done");
        if (run.actionsTaken >= run.limits.maxActions && moreActions) {
          outcome = { kind: "budget" };
          return "end";
        }
        // Element ids are found again, and described targets pointed at again, on the screen as it is now.
        const needsLook =
          step?.expect !== undefined ||
          rest.some((s) => elementTargetOf(s.action) !== undefined || describedTargetsOf(s.action).length > 0);
        if (!needsLook || signal.aborted) return "continue";
        this.update(run, { stage: "verifying" });
        await timed("verify", async () => {
          await this.look(run, "capture", signal);
          await this.look(run, "observe", signal);
        });
        const capture = run.capture as Capture;
        execution.elementCentres = centresOf(run.state.elements);
        execution.screenshotSha256 = sha256(capture.png);
        // Steps already confirmed in this batch run without another prepare: ground them again on the new screen.
        for (const waiting of rest.filter((s) => s.status === "waiting")) {
          const missing = await this.ground(run, waiting.action, signal);
          if (missing) {
            outcome = { kind: "replan", problem: `the target of "${waiting.description}" is no longer on the screen` };
            return "end";
          }
        }
        showTargets(index + 1);
        if (step?.expect !== undefined) {
          const check = checkExpectation(step.expect, run.state.elements);
          this.setStep(run, index, { check });
          if (!check.met) {
            outcome = { kind: "replan", problem: `after "${step.description}", ${check.detail}` };
            return "end";
          }
        }
        const lost = rest.find((s) => {
          const id = elementTargetOf(s.action);
          return id !== undefined && !run.state.elements.some((e) => e.id === id);
        });
        if (lost) {
          outcome = { kind: "replan", problem: `the target of "${lost.description}" is no longer on the screen` };
          return "end";
        }
        return "continue";
      },
    });
    if (signal.aborted) return { kind: "stopped" };
    const failed = reports.find((r) => r.status === "failed");
    if (failed) return { kind: "failed", index: globalIndex(failed.index) };
    if (outcome) return outcome;
    const unfinished = run.state.steps.some((s) => s.round === round && notRunYet(s));
    return unfinished ? { kind: "stopped" } : { kind: "finished" };
  }

  /**
   * Grounds the action's described targets on the run's current screenshot (those not grounded on it yet).
   * Resolves with the not-found error of the first the vlm did not find; a host that cannot point throws.
   */
  private async ground(run: ActiveRun, action: Action, signal: AbortSignal): Promise<TargetNotFound | undefined> {
    for (const target of describedTargetsOf(action)) {
      if (run.describedPoints.has(target.description)) continue;
      const capture = run.capture;
      if (!capture) throw new Error("grounding needs a screenshot");
      try {
        run.describedPoints.set(
          target.description,
          await groundDescribed(target.description, capture, this.deps.point, signal),
        );
      } catch (error) {
        if (error instanceof TargetNotFound) return error;
        throw error;
      }
      throwIfAborted(signal);
    }
    return undefined;
  }

  private skipRest(run: ActiveRun, round: number, after: number, why: string): void {
    this.update(run, {
      steps: run.state.steps.map((s) =>
        s.round === round && s.index > after && notRunYet(s) ? { ...s, status: "skipped", detail: why } : s,
      ),
    });
  }
}

/** Pending, or confirmed in a batch ("waiting") but not started. */
function notRunYet(step: RunStep): boolean {
  return step.status === "pending" || step.status === "waiting";
}

/** What was carried out, in the plan's own words, for a replan's prompt. */
function doneDescriptions(run: ActiveRun): string[] {
  return run.state.steps.filter((s) => s.status === "done").map((s) => s.description);
}

function sha256(png: Buffer | undefined): string | undefined {
  return png ? createHash("sha256").update(png).digest("hex") : undefined;
}

function centresOf(elements: readonly ScreenElement[]): Map<number, { x: number; y: number }> {
  return new Map(elements.map((e) => [e.id, boxCentre(e.box)]));
}

function elementTargetOf(action: Action): number | undefined {
  const target = targetOf(action);
  return target?.kind === "element" ? target.elementId : undefined;
}

function isFinished(state: RunState): boolean {
  return state.stage === "done" || state.stage === "failed" || state.stage === "cancelled";
}

function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw signal.reason ?? new Error("cancelled");
}

function anySignal(signals: ReadonlyArray<AbortSignal | undefined>): AbortSignal {
  return AbortSignal.any(signals.filter((s): s is AbortSignal => s !== undefined));
}

function targetOf(action: Action) {
  return targetsOf(action)[0];
}

/** What the policy knows about where an action lands: the observed element's text and kind. */
export function contextFor(action: Action, elements: readonly ScreenElement[]): ActionContext {
  const target = targetOf(action);
  // The policy reads a described target's words as it reads an element's text ("the Delete button").
  if (target?.kind === "described") return { targetText: target.description };
  if (target?.kind !== "element") return {};
  const element = elements.find((e) => e.id === target.elementId);
  if (!element) return {};
  return { targetText: element.text, secretField: element.kind === "text_field" && /pass/i.test(element.text) };
}

/** Where a step's target lies on a screenshot, in that screenshot's pixels (for the highlight). */
function targetBoxOn(
  action: Action,
  elements: readonly ScreenElement[],
  capture: Capture,
  describedPoints: ReadonlyMap<string, { x: number; y: number }> = new Map(),
): ScreenBox | undefined {
  const { bounds } = capture.display;
  const sx = capture.width / (bounds.width || capture.width);
  const sy = capture.height / (bounds.height || capture.height);
  const target = targetOf(action);
  let box: ScreenBox | undefined;
  if (target?.kind === "element") {
    box = elements.find((e) => e.id === target.elementId)?.box;
  } else if (target?.kind === "point" && target.space === "desktop_px") {
    box = pointBox(target);
  } else if (target?.kind === "described") {
    const grounded = describedPoints.get(target.description);
    if (grounded) box = pointBox(grounded);
  }
  return (
    box && { x: (box.x - bounds.x) * sx, y: (box.y - bounds.y) * sy, width: box.width * sx, height: box.height * sy }
  );
}

/** A point's highlight: a small square around it, in desktop pixels. */
function pointBox(p: { x: number; y: number }): ScreenBox {
  return { x: p.x - 12, y: p.y - 12, width: 24, height: 24 };
}

function withTargetBox(
  step: RunStep,
  elements: readonly ScreenElement[],
  capture: Capture,
  describedPoints: ReadonlyMap<string, { x: number; y: number }>,
): RunStep {
  const { targetBox: _old, ...rest } = step;
  const targetBox = targetBoxOn(step.action, elements, capture, describedPoints);
  return targetBox ? { ...rest, targetBox } : rest;
}

/** The plan's steps with their risk and, where the target is known, its box on the run's screenshot. */
export function planSteps(
  plan: Plan,
  elements: readonly ScreenElement[],
  capture: Capture,
  {
    round = 1,
    firstIndex = 0,
    describedPoints,
  }: { round?: number; firstIndex?: number; describedPoints?: ReadonlyMap<string, { x: number; y: number }> } = {},
): RunStep[] {
  return plan.steps.map((step, i) => {
    const targetBox = targetBoxOn(step.action, elements, capture, describedPoints);
    const risk = assessRisk(
      { ...step.action, ...withDescription(step.action, step.description) } as Action,
      contextFor(step.action, elements),
    );
    return {
      index: firstIndex + i,
      round,
      description: step.description,
      action: step.action,
      risk,
      status: "pending",
      ...(step.expect ? { expect: step.expect } : {}),
      ...(targetBox ? { targetBox } : {}),
    };
  });
}

/** The policy reads an action's description for destructive words; a plan step's sentence is that description. */
function withDescription(action: Action, description: string): Partial<Action> {
  if (action.type === "ask" || action.type === "done") return {};
  return { description: action.description ?? description };
}
