import type { Action, Target } from "../../src-shared/actions";
import { type DisplayGeometry, desktopPtToDisplay, displayAt, displayToDesktopPx, point } from "../coords/spaces";
import type { AuditLog } from "./audit-log";
import type { DesktopIO } from "./desktop-io";

export type ActionOutcome = { outcome: "done" | "failed" | "stopped"; detail?: string };

export type ExecutionContext = {
  displays: readonly DisplayGeometry[];
  /** Centres of the last observation's elements, in desktop physical pixels. */
  elementCentres?: ReadonlyMap<number, { x: number; y: number }>;
  /**
   * Described targets grounded by the vlm on the last screenshot, by their description, in desktop physical
   * pixels. A description missing here is refused, never guessed.
   */
  describedPoints?: ReadonlyMap<string, { x: number; y: number }>;
  screenshotSha256?: string;
  signal: AbortSignal;
};

export class ActionRefused extends Error {
  override name = "ActionRefused";
}

class Stopped extends Error {}

/** Characters typed between two looks at the kill switch. */
const TYPE_CHUNK = 4;
/** How a drag moves: in steps, so that the target sees motion and the kill switch can stop it half-way. */
export type DragPace = {
  steps: number;
  /** Pause after each step; apps that animate a drag (sliders, canvases) follow a paced pointer better. */
  stepMs: number;
};

/** About 200 ms a drag: one step a frame at 60 Hz. */
export const DEFAULT_DRAG_PACE: DragPace = { steps: 12, stepMs: 16 };
/** Apps update hover state from motion events; a press or wheel that beats them can land on the old target. */
const POINTER_SETTLE_MS = 40;

export function resolveTarget(
  target: Target,
  context: Omit<ExecutionContext, "signal">,
): { x: number; y: number; displayId: string } {
  let desktop: { x: number; y: number };
  if (target.kind === "element") {
    const centre = context.elementCentres?.get(target.elementId);
    if (!centre) throw new ActionRefused(`element ${target.elementId} is not on the last observed screen`);
    desktop = centre;
  } else if (target.kind === "described") {
    const grounded = context.describedPoints?.get(target.description);
    if (!grounded) throw new ActionRefused(`"${target.description}" was not found on the last screen by the VLM`);
    desktop = grounded;
  } else if (target.space === "desktop_pt") {
    const display = displayAt(context.displays, point("desktop_pt", target.x, target.y));
    if (!display) throw new ActionRefused(`point (${target.x}, ${target.y}) pt is outside every display`);
    desktop = displayToDesktopPx(desktopPtToDisplay(point("desktop_pt", target.x, target.y), display), display);
  } else {
    desktop = { x: target.x, y: target.y };
  }
  const display = displayAt(context.displays, point("desktop_px", desktop.x, desktop.y));
  if (!display)
    throw new ActionRefused(`point (${Math.round(desktop.x)}, ${Math.round(desktop.y)}) px is outside every display`);
  return { ...desktop, displayId: display.id };
}

/**
 * Performs confirmed actions. It never decides whether to act: the caller has
 * the user's confirmation in hand before it calls `perform`. It checks the
 * kill switch's signal before every primitive and between chunks of typing
 * and steps of a drag, and lets go of held buttons when stopped.
 */
export class ActionExecutor {
  constructor(
    private readonly io: DesktopIO,
    private readonly audit?: AuditLog,
    private readonly dragPace: DragPace = DEFAULT_DRAG_PACE,
  ) {}

  async perform(action: Action, context: ExecutionContext): Promise<ActionOutcome> {
    const points: Array<{ x: number; y: number; displayId: string }> = [];
    let result: ActionOutcome;
    try {
      await this.run(action, context, points);
      result = { outcome: "done" };
    } catch (error) {
      if (error instanceof Stopped) {
        await this.io.releaseAll();
        result = { outcome: "stopped", detail: "stopped by the kill switch" };
      } else {
        result = { outcome: "failed", detail: (error as Error).message };
      }
    }
    await this.audit?.append({
      time: new Date().toISOString(),
      action,
      points: points.map(({ x, y }) => ({ x, y })),
      displayId: points[0]?.displayId,
      screenshotSha256: context.screenshotSha256,
      ...result,
    });
    return result;
  }

  private async pointAt(x: number, y: number): Promise<void> {
    await this.io.moveTo(x, y);
    await new Promise((resolve) => setTimeout(resolve, POINTER_SETTLE_MS));
  }

  private async run(
    action: Action,
    context: ExecutionContext,
    points: Array<{ x: number; y: number; displayId: string }>,
  ) {
    const check = () => {
      if (context.signal.aborted) throw new Stopped();
    };
    const at = (target: Target) => {
      const resolved = resolveTarget(target, context);
      points.push(resolved);
      return resolved;
    };
    check();
    switch (action.type) {
      case "click": {
        const p = at(action.target);
        await this.pointAt(p.x, p.y);
        check();
        await this.io.click(action.button, action.count);
        return;
      }
      case "move": {
        const p = at(action.target);
        await this.io.moveTo(p.x, p.y);
        return;
      }
      case "drag": {
        const from = at(action.from);
        const to = at(action.to);
        await this.pointAt(from.x, from.y);
        check();
        await this.io.press(action.button);
        try {
          const { steps, stepMs } = this.dragPace;
          for (let step = 1; step <= steps; step++) {
            check();
            const t = step / steps;
            await this.io.moveTo(from.x + (to.x - from.x) * t, from.y + (to.y - from.y) * t);
            // The kill switch ends the pause at once; the check at the loop's top then stops the drag.
            if (step < steps) await abortableSleep(stepMs, context.signal);
          }
        } finally {
          await this.io.release(action.button);
        }
        return;
      }
      case "scroll": {
        if (action.target) {
          const p = at(action.target);
          await this.pointAt(p.x, p.y);
        }
        check();
        await this.io.scroll(action.dx, action.dy);
        return;
      }
      case "type": {
        if (action.target) {
          const p = at(action.target);
          await this.pointAt(p.x, p.y);
          await this.io.click("left", 1);
        }
        const characters = Array.from(action.text);
        const endTyping = await this.io.beginTyping(action.text);
        try {
          for (let i = 0; i < characters.length; i += TYPE_CHUNK) {
            check();
            await this.io.typeText(characters.slice(i, i + TYPE_CHUNK).join(""));
          }
        } finally {
          await endTyping();
        }
        return;
      }
      case "key":
        await this.io.pressKeys(action.keys);
        return;
      case "wait":
        await abortableSleep(action.ms, context.signal);
        check();
        return;
      case "ask":
      case "done":
        return;
    }
  }
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      // A drag sleeps once a step on the same signal: each pause takes its listener away with it.
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}
