import { describe, expect, it } from "vitest";
import { ActionExecutor } from "../../src-main/actions/executor";
import type { DisplayGeometry } from "../../src-main/coords/spaces";
import { Action } from "../../src-shared/actions";
import { loggingDesktopIO } from "../support/logging-desktop-io";

const displays: DisplayGeometry[] = [
  {
    id: "0",
    originPx: { x: 0, y: 0 },
    originPt: { x: 0, y: 0 },
    sizePx: { width: 1920, height: 1080 },
    scaleFactor: 1,
  },
];
const drag = Action.parse({
  type: "drag",
  from: { kind: "point", space: "desktop_px", x: 100, y: 500 },
  to: { kind: "point", space: "desktop_px", x: 1100, y: 500 },
});

describe("a drag", () => {
  it("moves in paced steps from press to release", async () => {
    const io = loggingDesktopIO();
    const started = performance.now();
    const outcome = await new ActionExecutor(io, undefined, { steps: 4, stepMs: 30 }).perform(drag, {
      displays,
      signal: new AbortController().signal,
    });
    expect(outcome).toEqual({ outcome: "done" });
    expect(io.calls).toEqual([
      "moveTo(100,500)",
      'press("left")',
      "moveTo(350,500)",
      "moveTo(600,500)",
      "moveTo(850,500)",
      "moveTo(1100,500)",
      'release("left")',
    ]);
    expect(performance.now() - started).toBeGreaterThanOrEqual(3 * 30 - 5);
  });

  it("stops part-way when the kill switch fires during a pause, and lets go of the button at once", async () => {
    const io = loggingDesktopIO();
    const kill = new AbortController();
    const moves = () => io.calls.filter((c) => c.startsWith("moveTo")).length;
    const executor = new ActionExecutor(io, undefined, { steps: 10, stepMs: 10_000 });
    const performing = executor.perform(drag, { displays, signal: kill.signal });
    while (moves() < 2) await new Promise((resolve) => setTimeout(resolve, 5));
    const killedAt = performance.now();
    kill.abort();
    expect(await performing).toMatchObject({ outcome: "stopped" });
    // The 10-second pause did not run out: the abort ended it.
    expect(performance.now() - killedAt).toBeLessThan(1000);
    expect(io.calls).toEqual([
      "moveTo(100,500)",
      'press("left")',
      "moveTo(200,500)",
      'release("left")',
      "releaseAll()",
    ]);
  });
});
