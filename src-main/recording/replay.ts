/**
 * Replays a recording's plan on the live screen: before each step that acts on
 * something, a fresh look (capture + observe) and the step's element
 * descriptions re-grounded on it; then the step goes through the confirmation
 * gate (runConfirmed) like any plan step, and only a confirmed step reaches
 * the executor. A target that cannot be found again stops the replay: the
 * recorded screen point is never used instead.
 */
import type { Action, ScreenPoint } from "../../src-shared/actions";
import type { DisplayInfo, ScreenElement } from "../../src-shared/bridge-api";
import { type ConfirmedRunOptions, runConfirmed } from "../actions/confirmed-run";
import type { ActionExecutor } from "../actions/executor";
import type { ActionContext, ConfirmationSettings } from "../actions/policy";
import type { DisplayGeometry } from "../coords/spaces";
import type { ElementDescription } from "./element-description";
import { type Grounding, groundDescription } from "./grounding";
import { looksSecret } from "./privacy";
import type { ReplayPlan, ReplayStep } from "./replay-plan";

export type LiveScreen = { display: DisplayInfo; elements: ScreenElement[] };

export type ReplayStepReport = {
  /** 0-based position in the plan. */
  index: number;
  description: string;
  status: "done" | "failed" | "skipped" | "stopped" | "not-found";
  detail?: string;
  /** The action as performed (points re-grounded), when it got that far. */
  action?: Action;
};

export type ReplayOptions = {
  plan: ReplayPlan;
  /** Captures the display and observes it; called before every step that has a target to find. */
  look: () => Promise<LiveScreen>;
  executor: ActionExecutor;
  displays: readonly DisplayGeometry[];
  settings: ConfirmationSettings;
  confirm: ConfirmedRunOptions["confirm"];
  /** Asks the user for text the recording did not keep (a password, masked typing); undefined skips the step. */
  askText: (request: { index: number; description: string; secret: boolean }) => Promise<string | undefined>;
  signal: AbortSignal;
  /** Time for the app to react before the next look. */
  settleMs?: number;
  onStep?: (report: ReplayStepReport) => void;
};

const point = (p: { x: number; y: number }): ScreenPoint => ({ kind: "point", space: "desktop_px", x: p.x, y: p.y });

type Found = Partial<Record<keyof ReplayStep["targets"], Grounding>>;

/** The step's action with every target replaced by its re-grounded point. */
export function groundedAction(action: Action, found: Found, text: string | undefined): Action {
  switch (action.type) {
    case "click":
    case "move":
      return found.target ? { ...action, target: point(found.target.point) } : action;
    case "scroll":
      return found.target ? { ...action, target: point(found.target.point) } : action;
    case "drag":
      return found.from && found.to ? { ...action, from: point(found.from.point), to: point(found.to.point) } : action;
    case "type":
      return found.target ? { ...action, target: point(found.target.point) } : action;
    case "ask":
      // Typing whose text was not kept: the user's answer becomes the text.
      return text === undefined
        ? action
        : { type: "type", text, ...(found.target ? { target: point(found.target.point) } : {}) };
    default:
      return action;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function replayRecording(options: ReplayOptions): Promise<ReplayStepReport[]> {
  const reports: ReplayStepReport[] = [];
  const report = (r: ReplayStepReport) => {
    reports.push(r);
    options.onStep?.(r);
  };
  for (const [index, replayStep] of options.plan.steps.entries()) {
    const description = replayStep.step.description;
    if (options.signal.aborted) {
      report({ index, description, status: "stopped", detail: "stopped" });
      break;
    }
    const wanted = Object.entries(replayStep.targets) as Array<[keyof Found, ElementDescription]>;
    const action = replayStep.step.action;
    const pointTargets = action.type === "drag" ? 2 : "target" in action && action.target ? 1 : 0;
    if (wanted.length < pointTargets) {
      report({ index, description, status: "not-found", detail: "the recording has nothing to find this target by" });
      break;
    }
    const found: Found = {};
    if (wanted.length > 0) {
      const screen = await options.look();
      const missing: string[] = [];
      for (const [key, target] of wanted) {
        const grounding = groundDescription(target, screen.elements, screen.display);
        if (grounding) found[key] = grounding;
        else missing.push(target.text);
      }
      if (missing.length > 0) {
        report({ index, description, status: "not-found", detail: `not on the screen: ${missing.join(", ")}` });
        break;
      }
    }
    let text: string | undefined;
    if (replayStep.input) {
      text = await options.askText({ index, description, secret: replayStep.input.kind === "secret" });
      if (text === undefined || text.length === 0) {
        report({ index, description, status: "skipped", detail: "no text given" });
        continue;
      }
    }
    const performed = groundedAction(action, found, text);
    // Text the recording did not keep is not handed on in reports either.
    const shown: Action = replayStep.input && performed.type === "type" ? { ...performed, text: "•••" } : performed;
    const targetText = (replayStep.targets.target ?? replayStep.targets.from)?.text;
    const context: ActionContext = {
      ...(targetText ? { targetText } : {}),
      secretField: replayStep.input?.kind === "secret" || looksSecret(targetText),
    };
    const [outcome] = await runConfirmed({
      actions: [performed],
      contexts: [context],
      settings: options.settings,
      confirm: (steps) => options.confirm(steps.map((s) => ({ ...s, index }))),
      executor: options.executor,
      execution: { displays: options.displays, signal: options.signal },
    });
    if (!outcome) {
      report({ index, description, status: "stopped", detail: "the user stopped the replay", action: shown });
      break;
    }
    report({
      index,
      description,
      status: outcome.status,
      ...(outcome.detail ? { detail: outcome.detail } : {}),
      action: shown,
    });
    if (outcome.status === "failed" || outcome.status === "stopped") break;
    await sleep(options.settleMs ?? 400);
  }
  return reports;
}
