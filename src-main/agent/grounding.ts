import type { Action, DescribedTarget, Target } from "../../src-shared/actions";
import type { Capture } from "../capture/capture";
import { imagePointToDesktop } from "./observe";

/** The host's vlm pointing at `query` on a screenshot: points in pixels of the image it saw (HostClient.point). */
export type PointOnScreenshot = (
  capture: Capture,
  query: string,
  signal: AbortSignal,
) => Promise<{ points: ReadonlyArray<{ x: number; y: number }>; image_width: number; image_height: number }>;

/** The vlm answered, but with no point: the step fails rather than act on a guess. */
export class TargetNotFound extends Error {
  readonly code = "target_not_found";
}

/** The host has no vlm to point with; the plan should not have offered a described target. */
export class NoPointingModel extends Error {
  readonly code = "model_unavailable";
}

/** Every target an action lands on (a drag has two), in order. */
export function targetsOf(action: Action): Target[] {
  switch (action.type) {
    case "click":
    case "move":
      return [action.target];
    case "drag":
      return [action.from, action.to];
    case "scroll":
    case "type":
      return action.target ? [action.target] : [];
    default:
      return [];
  }
}

/** The action's targets that name what the element list lacks, to be found by the vlm. */
export function describedTargetsOf(action: Action): DescribedTarget[] {
  return targetsOf(action).filter((t): t is DescribedTarget => t.kind === "described");
}

/**
 * Where the vlm finds a described target on this screenshot, in desktop
 * physical pixels: its first point, mapped from the pixels of the image it saw
 * (the display, possibly resized) by the capture's display bounds, as observe
 * maps element boxes. No point is an error, never a guess.
 */
export async function groundDescribed(
  description: string,
  capture: Capture,
  point: PointOnScreenshot | undefined,
  signal: AbortSignal,
): Promise<{ x: number; y: number }> {
  if (!point) {
    throw new NoPointingModel(
      `finding "${description}" needs the host's VLM, and its profile has none; choose a profile with a vlm, or rephrase the instruction; nothing was clicked`,
    );
  }
  const answer = await point(capture, description, signal);
  const first = answer.points[0];
  if (!first) throw new TargetNotFound(`the VLM did not find "${description}" on the screen; nothing was clicked`);
  return imagePointToDesktop(first, { width: answer.image_width, height: answer.image_height }, capture.display);
}
