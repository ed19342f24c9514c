import { execFileSync } from "node:child_process";
import { expect, test } from "@playwright/test";
import { pickDisplay } from "../../src-main/capture/backend";
import { captureAllDisplays, captureDisplay } from "../../src-main/capture/capture";
import { cursorPoint } from "../../src-main/capture/cursor";
import type { DisplayInfo } from "../../src-shared/bridge-api";

/** A capture takes the display under the pointer: the pointer is read from the real X server. */
test("the pointer's position is read from the X display and picks the display under it", async () => {
  if (!process.env.DISPLAY) throw new Error("needs an X display (run it through scripts/test-e2e.sh)");
  // XTEST motion reaches the server asynchronously (a fresh Xvfb drops the very first one), so move and poll.
  await expect
    .poll(async () => {
      execFileSync("xdotool", ["mousemove", "2900", "345"]);
      return cursorPoint();
    })
    .toEqual({ x: 2900, y: 345 });

  // Two logical displays side by side, as the multi-display test splits the wide Xvfb screen.
  const display = (id: string, x: number, primary: boolean): DisplayInfo => ({
    id,
    name: id,
    bounds: { x, y: 0, width: 1920, height: 1080 },
    primary,
    scaleFactor: 1,
  });
  const displays = [display("left", 0, true), display("right", 1920, false)];
  expect(pickDisplay(displays, await cursorPoint()).id).toBe("right");
  execFileSync("xdotool", ["mousemove", "100", "100"]);
  await expect.poll(async () => pickDisplay(displays, await cursorPoint()).id).toBe("left");
});

test("every display can be captured at once, each at its own size", async () => {
  const all = await captureAllDisplays();
  expect(all.length).toBeGreaterThan(0);
  for (const capture of all) {
    expect(capture.width).toBe(capture.display.bounds.width);
    expect(capture.height).toBe(capture.display.bounds.height);
  }
  const one = await captureDisplay({ point: { x: 5, y: 5 } });
  expect(all.map((c) => c.display.id)).toContain(one.display.id);
});
