import { createHash, randomUUID } from "node:crypto";
import type { Action } from "../../src-shared/actions";
import type { Decision, DisplayInfo, RunError, RunState, RunStep, ScreenElement } from "../../src-shared/bridge-api";
import type { Plan } from "../../src-shared/plan";
import { runConfirmed } from "../actions/confirmed-run";
import type { ActionExecutor } from "../actions/executor";
import { type ActionContext, assessRisk, type ConfirmationSettings } from "../actions/policy";
import type { Capture } from "../capture/capture";
import type { DisplayGeometry } from "../coords/spaces";
import { TypedEvents } from "../util/typed-events";
import { describeFailure } from "./failures";
import type { Planner } from "./planner";

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
  /** Aborted by the global kill switch; a run also stops when its own cancel is called. */
  killSignal?: () => AbortSignal;
};

type ActiveRun = {
  state: RunState;
  abort: AbortController;
  capture?: Capture;
  pendingDecision?: (decision: Decision) => void;
  confirmLowRiskRest: boolean;
};

/** Runs kept for `getRun`/`getRunScreenshot` after they end; each holds a screenshot. */
const KEPT_RUNS = 4;

export class RunNotFound extends Error {
  readonly code = "unknown_run";
}

/**
 * One instruction's life: capture → observe → plan → confirm ⇄ execute. Every
 * change is pushed as a full RunState. An action is performed only inside
 * runConfirmed's "confirm" branch, so a plan nobody confirms changes nothing.
 */
export class RunManager extends TypedEvents<{ run: RunState }> {
  private readonly runs = new Map<string, ActiveRun>();

  constructor(private readonly deps: RunDependencies) {
    super();
  }

  start(instruction: string, plan?: Plan): { runId: string } {
    for (const run of this.runs.values()) if (!isFinished(run.state)) this.cancel(run.state.runId);
    const runId = randomUUID();
    const run: ActiveRun = {
      state: { runId, instruction, stage: "capturing", elements: [], steps: [], timingsMs: {} },
      abort: new AbortController(),
      confirmLowRiskRest: false,
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

  private async execute(run: ActiveRun, givenPlan: Plan | undefined): Promise<void> {
    const signal = anySignal([run.abort.signal, this.deps.killSignal?.()]);
    const timings: Record<string, number> = {};
    const timed = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
      const started = performance.now();
      try {
        return await work();
      } finally {
        timings[name] = performance.now() - started;
      }
    };
    try {
      const capture = await timed("capture", async () => {
        await this.deps.beforeCapture?.();
        try {
          return await this.deps.capture();
        } finally {
          await this.deps.afterCapture?.();
        }
      });
      run.capture = capture;
      throwIfAborted(signal);
      this.update(run, { stage: "observing", display: capture.display, timingsMs: { ...timings } });
      const observed = await timed("observe", () => this.deps.observe(capture));
      throwIfAborted(signal);
      this.update(run, { stage: "planning", elements: observed.elements, timingsMs: { ...timings } });

      const plan = givenPlan ?? (await timed("plan", () => this.plan(run, capture.display, observed.elements, signal)));
      throwIfAborted(signal);
      const steps = planSteps(plan, observed.elements, capture);
      this.update(run, {
        stage: "confirming",
        steps,
        planningText: undefined,
        planner: givenPlan ? "given plan" : this.deps.planner().name,
        timingsMs: { ...timings },
      });
      await this.confirmAndExecute(run, capture, observed.elements, signal);
      const stopped = signal.aborted || run.state.steps.some((s) => s.status === "pending" || s.status === "waiting");
      const failed = run.state.steps.find((s) => s.status === "failed");
      if (failed) {
        this.update(run, {
          stage: "failed",
          error: {
            code: "step_failed",
            message: `step ${failed.index + 1} failed: ${failed.detail ?? ""}`.trim(),
            retryable: true,
          },
        });
      } else {
        this.update(run, { stage: stopped ? "cancelled" : "done", confirmation: undefined });
      }
    } catch (error) {
      if (signal.aborted) {
        this.update(run, { stage: "cancelled", confirmation: undefined, timingsMs: { ...timings } });
      } else {
        const failure: RunError = describeFailure(error);
        this.update(run, { stage: "failed", error: failure, confirmation: undefined, timingsMs: { ...timings } });
      }
    } finally {
      run.pendingDecision = undefined;
    }
  }

  private async plan(run: ActiveRun, display: DisplayInfo, elements: ScreenElement[], signal: AbortSignal) {
    const planner = this.deps.planner();
    this.update(run, { planner: planner.name, planningText: "" });
    let lastPush = 0;
    return planner.plan(
      { instruction: run.state.instruction, display, elements },
      {
        signal,
        onText: (text) => {
          // The renderer needs a few updates a second, not one per token.
          const now = performance.now();
          if (now - lastPush < 100) return;
          lastPush = now;
          this.update(run, { planningText: text });
        },
      },
    );
  }

  private async confirmAndExecute(
    run: ActiveRun,
    capture: Capture,
    elements: ScreenElement[],
    signal: AbortSignal,
  ): Promise<void> {
    const actions = run.state.steps.map((step) => step.action);
    const risks = run.state.steps.map((step) => step.risk);
    const setStatus = (index: number, status: RunStep["status"], detail?: string) => {
      const steps = run.state.steps.map((step) =>
        step.index === index ? { ...step, status, ...(detail ? { detail } : {}) } : step,
      );
      this.update(run, { steps });
    };
    const settings: ConfirmationSettings = { mode: this.deps.confirmation() };
    const displays = await this.deps.displays();
    await runConfirmed({
      actions,
      risks,
      settings,
      executor: await this.deps.executor(),
      execution: {
        displays,
        elementCentres: new Map(elements.map((e) => [e.id, centre(e.box)])),
        screenshotSha256: createHash("sha256").update(capture.png).digest("hex"),
        signal,
      },
      confirm: async (batch) => {
        const lowRiskOnly = batch.every((s) => s.risk.level !== "high");
        if (run.confirmLowRiskRest && lowRiskOnly) return "confirm";
        const last = batch.at(-1)?.index ?? 0;
        const lowRiskRest = run.state.steps.some((s) => s.index > last && s.risk.level === "low");
        for (const s of batch) setStatus(s.index, "waiting");
        const decision = await new Promise<Decision>((resolve) => {
          run.pendingDecision = resolve;
          this.update(run, { stage: "confirming", confirmation: { steps: batch.map((s) => s.index), lowRiskRest } });
        });
        this.update(run, { confirmation: undefined, stage: "executing" });
        if (decision === "confirm_low_risk_rest") {
          run.confirmLowRiskRest = true;
          return "confirm";
        }
        if (decision === "stop") run.abort.abort(new Error("stopped by the user"));
        return decision;
      },
      onStart: (index) => {
        this.update(run, { stage: "executing" });
        setStatus(index, "running");
      },
      onStep: (report) => {
        const status = report.status === "stopped" ? "pending" : report.status;
        setStatus(report.index, status, report.detail);
      },
    });
  }
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

function centre(box: { x: number; y: number; width: number; height: number }) {
  return { x: box.x + box.width / 2, y: box.y + box.height / 2 };
}

function targetOf(action: Action) {
  if (action.type === "click" || action.type === "move") return action.target;
  if (action.type === "drag") return action.from;
  if (action.type === "type" || action.type === "scroll") return action.target;
  return undefined;
}

/** What the policy knows about where an action lands: the observed element's text and kind. */
export function contextFor(action: Action, elements: readonly ScreenElement[]): ActionContext {
  const target = targetOf(action);
  if (target?.kind !== "element") return {};
  const element = elements.find((e) => e.id === target.elementId);
  if (!element) return {};
  return { targetText: element.text, secretField: element.kind === "text_field" && /pass/i.test(element.text) };
}

/** The plan's steps with their risk and, where the target is known, its box on the run's screenshot. */
export function planSteps(plan: Plan, elements: readonly ScreenElement[], capture: Capture): RunStep[] {
  const { bounds } = capture.display;
  const sx = capture.width / (bounds.width || capture.width);
  const sy = capture.height / (bounds.height || capture.height);
  return plan.steps.map((step, index) => {
    const target = targetOf(step.action);
    let box: RunStep["targetBox"];
    if (target?.kind === "element") {
      const element = elements.find((e) => e.id === target.elementId);
      if (element) box = element.box;
    } else if (target?.kind === "point" && target.space === "desktop_px") {
      box = { x: target.x - 12, y: target.y - 12, width: 24, height: 24 };
    }
    const targetBox = box && {
      x: (box.x - bounds.x) * sx,
      y: (box.y - bounds.y) * sy,
      width: box.width * sx,
      height: box.height * sy,
    };
    const risk = assessRisk(
      { ...step.action, ...withDescription(step.action, step.description) } as Action,
      contextFor(step.action, elements),
    );
    return {
      index,
      description: step.description,
      action: step.action,
      risk,
      status: "pending",
      ...(targetBox ? { targetBox } : {}),
    };
  });
}

/** The policy reads an action's description for destructive words; a plan step's sentence is that description. */
function withDescription(action: Action, description: string): Partial<Action> {
  if (action.type === "ask" || action.type === "done") return {};
  return { description: action.description ?? description };
}
