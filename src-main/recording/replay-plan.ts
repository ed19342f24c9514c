/**
 * The replayable form of a recording: each step is a PlanStep (the app's own
 * plan schema, so the same confirmation and risk rules apply), plus the
 * element descriptions its targets are found again by. The PlanStep's point
 * targets are where the recording acted; replay never uses them as they are
 * but replaces them with the points re-grounded on the live screen.
 */
import { z } from "zod";
import type { Action, ScreenPoint } from "../../src-shared/actions";
import { DisplayInfo } from "../../src-shared/bridge-api";
import { PLAN_LIMITS, PlanStep } from "../../src-shared/plan";
import { ElementDescription } from "./element-description";
import { plainSentence } from "./export-markdown";
import { type RecordedStep, RecordingId, type RecordingManifest } from "./recording-manifest";

export const REPLAY_FORMAT = "sightline-replay";

export const ReplayStep = z
  .object({
    /** The recorded step this one comes from. */
    recordedIndex: z.number().int().positive(),
    step: PlanStep,
    /** What each point target of the action is found again by; a target without one cannot be replayed. */
    targets: z
      .object({
        target: ElementDescription.optional(),
        from: ElementDescription.optional(),
        to: ElementDescription.optional(),
      })
      .strict(),
    /** Typing whose text was not kept: the step is an "ask", and replay asks the user for the text. */
    input: z
      .object({ kind: z.enum(["secret", "masked"]) })
      .strict()
      .optional(),
  })
  .strict();
export type ReplayStep = z.infer<typeof ReplayStep>;

export const ReplayPlan = z
  .object({
    format: z.literal(REPLAY_FORMAT),
    version: z.literal(1),
    recordingId: RecordingId,
    title: z.string().min(1).max(200),
    /** The display the recording was made on; the rough positions in the descriptions are fractions of it. */
    display: DisplayInfo,
    steps: z.array(ReplayStep).min(1),
  })
  .strict();
export type ReplayPlan = z.infer<typeof ReplayPlan>;

const at = (p: { x: number; y: number }): ScreenPoint => ({ kind: "point", space: "desktop_px", x: p.x, y: p.y });

const description = (sentence: string) => {
  const text = sentence.length <= PLAN_LIMITS.maxDescription ? sentence : plainSentence(sentence);
  return text.length <= PLAN_LIMITS.maxDescription ? text : `${text.slice(0, PLAN_LIMITS.maxDescription - 1)}…`;
};

/** The drop point of a drag described from the drag's start anchor, when the drop had no element of its own. */
function dropFromStart(step: Extract<RecordedStep, { kind: "drag" }>, scaleFactor: number) {
  if (step.toTarget || !step.target) return step.toTarget;
  return {
    ...step.target,
    offset: {
      dx: step.target.offset.dx + (step.to.x - step.from.x) / scaleFactor,
      dy: step.target.offset.dy + (step.to.y - step.from.y) / scaleFactor,
    },
  };
}

function replayStepOf(
  step: RecordedStep,
  previous: RecordedStep | undefined,
  display: RecordingManifest["display"],
): Omit<ReplayStep, "step"> & { action: Action } {
  const base = { recordedIndex: step.index, targets: {} };
  switch (step.kind) {
    case "click":
      return {
        ...base,
        action: { type: "click", target: at(step.at), button: step.button, count: step.count },
        targets: step.target ? { target: step.target } : {},
      };
    case "drag":
      return {
        ...base,
        action: { type: "drag", from: at(step.from), to: at(step.to), button: step.button },
        targets: {
          ...(step.target ? { from: step.target } : {}),
          ...pick("to", dropFromStart(step, display.scaleFactor)),
        },
      };
    case "scroll":
      return {
        ...base,
        action: { type: "scroll", target: at(step.at), dx: step.dx, dy: step.dy },
        targets: step.target ? { target: step.target } : {},
      };
    case "key":
      return { ...base, action: { type: "key", keys: step.keys } };
    case "type": {
      // The click just before put the focus in the field; clicking it again could move the caret.
      const focused = step.focusedBy !== undefined && previous?.index === step.focusedBy;
      const field = !focused && step.field ? step.field : undefined;
      if (step.typed.kind !== "text") {
        return {
          ...base,
          action: { type: "ask", question: plainSentence(step.sentence) },
          targets: field ? { target: field } : {},
          input: { kind: step.typed.kind },
        };
      }
      return {
        ...base,
        action: field
          ? { type: "type", text: step.typed.text, target: recordedPoint(field, display) }
          : { type: "type", text: step.typed.text },
        targets: field ? { target: field } : {},
      };
    }
  }
}

const pick = <K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } =>
  (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };

/** Where a description's point was on the recorded display (rough position plus offset). */
function recordedPoint(field: ElementDescription, display: RecordingManifest["display"]): ScreenPoint {
  const { bounds, scaleFactor } = display;
  return at({
    x: bounds.x + field.position.x * bounds.width + field.offset.dx * scaleFactor,
    y: bounds.y + field.position.y * bounds.height + field.offset.dy * scaleFactor,
  });
}

/** The replayable plan of a recording; every step parses with the app's PlanStep schema. */
export function toReplayPlan(manifest: RecordingManifest): ReplayPlan {
  const steps = manifest.steps.map((step, i) => {
    const { action, ...rest } = replayStepOf(step, manifest.steps[i - 1], manifest.display);
    return { ...rest, step: PlanStep.parse({ description: description(step.sentence), action }) };
  });
  return ReplayPlan.parse({
    format: REPLAY_FORMAT,
    version: 1,
    recordingId: manifest.id,
    title: manifest.title,
    display: manifest.display,
    steps,
  });
}
