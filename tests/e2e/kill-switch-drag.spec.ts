import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { type Browser, chromium, expect, type Page, test } from "@playwright/test";
import { chromiumPath } from "../../playwright.config";
import { ActionExecutor } from "../../src-main/actions/executor";
import { createNutDesktopIO } from "../../src-main/actions/nut-desktop-io";
import { captureBackend } from "../../src-main/capture/capture";
import { toGeometry } from "../../src-main/capture/geometry";
import { Action } from "../../src-shared/actions";
import { armListeningKillSwitch } from "./kill-switch-helpers";

/**
 * A long, slow drag of a real slider in a real Chromium window, stopped by a
 * real press of the kill-switch hotkey (an X key event the global hook hears):
 * the slider ends part-way and the button is up.
 */
const run = promisify(execFile);

const PAGE = `<!doctype html><html><body style="margin:0">
<input id="slider" type="range" min="0" max="1000" value="0"
  style="position:absolute;left:40px;top:120px;width:800px;height:30px;margin:0">
<script>
  window.log = [];
  for (const type of ["pointerdown", "pointerup", "pointermove"]) {
    document.addEventListener(type, (e) => window.log.push({ type, x: e.clientX, buttons: e.buttons }), true);
  }
</script></body></html>`;

let browser: Browser;
let page: Page;

test.beforeAll(async () => {
  browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: false,
    args: ["--no-sandbox", "--disable-gpu", "--window-position=120,90", "--window-size=1000,500"],
  });
  page = await (await browser.newContext({ viewport: null })).newPage();
  await page.setContent(PAGE);
  await page.bringToFront();
});

test.afterAll(async () => browser?.close());

type Logged = { type: string; x: number; buttons: number };
const slider = () => page.evaluate(() => Number((document.getElementById("slider") as HTMLInputElement).value));
const events = () => page.evaluate(() => (window as unknown as { log: Logged[] }).log);

test("the kill switch hotkey stops a long drag part-way and the button is released", async () => {
  const displays = (await (await captureBackend()).listDisplays()).map(toGeometry);
  const origin = await page.evaluate(() => ({
    x: window.screenX + (window.outerWidth - window.innerWidth) / 2,
    y: window.screenY + window.outerHeight - window.innerHeight,
  }));
  const box = await page.locator("#slider").boundingBox();
  if (!box) throw new Error("the slider is not visible");
  const at = (fraction: number) => ({
    kind: "point" as const,
    space: "desktop_px" as const,
    x: origin.x + box.x + box.width * fraction,
    y: origin.y + box.y + box.height / 2,
  });

  const { killSwitch, signal } = await armListeningKillSwitch();

  // 60 steps, 50 ms apart: about 3 s end to end, seconds longer than the hotkey's way to the hook.
  const executor = new ActionExecutor(createNutDesktopIO(), undefined, { steps: 60, stepMs: 50 });
  const dragging = executor.perform(Action.parse({ type: "drag", from: at(0.01), to: at(0.99) }), {
    displays,
    signal,
  });
  await expect.poll(slider, { intervals: [20] }).toBeGreaterThan(150);
  await run("xdotool", ["key", "ctrl+alt+Escape"]);
  const outcome = await dragging;
  killSwitch.dispose();

  expect(outcome).toMatchObject({ outcome: "stopped" });
  const stoppedAt = await slider();
  expect(stoppedAt).toBeGreaterThan(150);
  expect(stoppedAt).toBeLessThan(900);

  // Released: the page saw the button go up after it went down, where the drag stopped.
  const log = await events();
  const down = log.findIndex((e) => e.type === "pointerdown");
  const up = log.findIndex((e, i) => i > down && e.type === "pointerup");
  expect(down).toBeGreaterThanOrEqual(0);
  expect(up).toBeGreaterThan(down);
  expect(log[up]?.buttons).toBe(0);

  // And it stays up: moving the pointer to the slider's end now moves nothing.
  const end = at(0.99);
  await run("xdotool", ["mousemove", String(Math.round(end.x)), String(Math.round(end.y))]);
  await expect
    .poll(async () =>
      (await events()).slice(up + 1).some((e) => e.type === "pointermove" && e.x > box.x + box.width * 0.95),
    )
    .toBe(true);
  expect(await slider()).toBe(stoppedAt);
  expect((await events()).slice(up + 1).every((e) => e.buttons === 0)).toBe(true);
});
