import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { type Browser, chromium, expect, type Page, test } from "@playwright/test";
import { chromiumPath } from "../../playwright.config";
import type { RunState, ScreenElement } from "../../src-shared/bridge-api";
import { type HeadlessApp, startHeadlessApp } from "./headless-app";
import { connectTestBridge, type TestBridge } from "./renderer-helpers";

/**
 * Observe's element list against a page whose controls are known, on a real X display: the app really captures
 * the screen, the real host runs the real OCR and a real detector network through its tiling, decoding and
 * merging, and every labelled control on the page must come back as an element whose box overlaps the control's
 * true box (IoU ≥ 0.5) and whose text is the control's label.
 *
 * What gives the boxes, honestly: no YOLO-World weights can be had where this runs, so
 * - the detector is the hand-wired square finder (`sightline_host.vision.synthetic.square_finder`, classes
 *   "checkbox" and "icon"): it finds the page's checked checkboxes (filled dark squares) and the red record icon.
 *   Their true box is the control itself, and a checkbox's text must be the label beside it (the merge's rule);
 * - tabs, buttons and the link have no detector here: they come back as OCR text elements, so their true box is
 *   their label's text box, not the control's outline. With a real YOLO-World export
 *   (SIGHTLINE_DETECTOR_ONNX) the same merge would label those controls' boxes with the same text.
 */

type Box = { x: number; y: number; width: number; height: number };
type Control = { kind: string; text: string; controlBox: Box; textBox: Box };

const FROM_DETECTOR = new Set(["checkbox", "icon"]);
// Playwright runs from the repository root (scripts/test-e2e.sh).
const PAGE = readFileSync(resolve("tests/fixtures/vision-controls.html"), "utf8");
const PYTHON = resolve("inference/.venv/bin/python");

let target: Browser;
let targetPage: Page;
let app: HeadlessApp;
let bridge: TestBridge;

test.beforeAll(async () => {
  if (!process.env.DISPLAY)
    throw new Error("the desktop end-to-end test needs an X display (run it through scripts/test-e2e.sh)");
  const work = mkdtempSync(join(tmpdir(), "sightline-observe-elements-"));
  const model = join(work, "square-finder.onnx");
  // The detector network: built in code (no weights to download), run by ONNX Runtime inside the host.
  execFileSync(PYTHON, [
    "-c",
    `from pathlib import Path; from sightline_host.vision.synthetic import square_finder; square_finder(Path(${JSON.stringify(model)}), classes=("checkbox", "icon"))`,
  ]);
  target = await chromium.launch({
    executablePath: chromiumPath,
    headless: false,
    args: ["--no-sandbox", "--disable-gpu", "--window-position=0,0", "--window-size=1600,900", "--disable-infobars"],
  });
  targetPage = await (await target.newContext({ viewport: null })).newPage();
  await targetPage.setContent(PAGE);
  // The window covers the whole X screen, as a maximised window would: the bare root window around it is black,
  // and a black screen is thousands of "dark squares" to the test's detector.
  const screen = await targetPage.evaluate(() => ({ width: window.screen.width, height: window.screen.height }));
  const cdp = await targetPage.context().newCDPSession(targetPage);
  const { windowId } = await cdp.send("Browser.getWindowForTarget");
  await cdp.send("Browser.setWindowBounds", { windowId, bounds: { left: 0, top: 0, ...screen } });
  // (Chromium may stop a pixel short of the screen's edge.)
  await expect.poll(() => targetPage.evaluate(() => window.outerWidth)).toBeGreaterThanOrEqual(screen.width - 2);
  app = await startHeadlessApp({ SIGHTLINE_CONFIG_DIR: join(work, "config"), SIGHTLINE_DETECTOR_ONNX: model });
  bridge = await connectTestBridge(app.url);
});

test.afterAll(async () => {
  bridge?.close();
  await app?.stop();
  await target?.close();
});

/** Every [data-control] on the page: its kind, its label, and its boxes in desktop pixels. */
async function controls(page: Page): Promise<Control[]> {
  return page.evaluate(() => {
    const left = window.screenX + (window.outerWidth - window.innerWidth) / 2;
    const top = window.screenY + (window.outerHeight - window.innerHeight);
    const onScreen = (r: DOMRect) => ({ x: left + r.x, y: top + r.y, width: r.width, height: r.height });
    const textBox = (element: Element) => {
      const range = document.createRange();
      range.selectNodeContents(element);
      return onScreen(range.getBoundingClientRect());
    };
    return Array.from(document.querySelectorAll("[data-control]")).map((element) => {
      const labelId = element.getAttribute("data-label");
      const label = labelId ? document.getElementById(labelId) : element;
      return {
        kind: element.getAttribute("data-control") ?? "",
        text: (label?.textContent ?? "").trim(),
        controlBox: onScreen(element.getBoundingClientRect()),
        textBox: label ? textBox(label) : onScreen(element.getBoundingClientRect()),
      };
    });
  });
}

function iou(a: Box, b: Box): number {
  const w = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
  const h = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  const inter = Math.max(0, w) * Math.max(0, h);
  return inter / (a.width * a.height + b.width * b.height - inter);
}

// Texts match when their letters and digits do: OCR reads a link's underline between two words as "_", and
// spacing and punctuation are not what a planner or a person reads a label by.
const normal = (text: string) => text.toLowerCase().replace(/[^\p{L}\p{N}]+/gu, "");

async function observeOnce(): Promise<RunState> {
  // A plan that only says "done": the run captures and observes, and touches nothing.
  const { runId } = await bridge.call("runPlan", {
    instruction: "Look at the export settings",
    plan: { steps: [{ description: "Nothing to do", action: { type: "done", summary: "looked" } }] },
  });
  let state: RunState | undefined;
  await expect
    .poll(
      async () => {
        state = await bridge.call("getRun", { runId });
        return state.stage;
      },
      { timeout: 150_000, intervals: [500] },
    )
    .toMatch(/^(done|failed|cancelled|confirming)$/);
  if (!state) throw new Error("no run state");
  const shot = await bridge.call("getRunScreenshot", { runId });
  mkdirSync("test-results", { recursive: true });
  writeFileSync("test-results/observe-elements.png", Buffer.from(shot.dataUrl.split(",")[1] ?? "", "base64"));
  return state;
}

test("observe returns every labelled control where it is, with its label", async () => {
  test.setTimeout(240_000);
  const truth = await controls(targetPage);
  expect(truth.length).toBe(10);
  await expect.poll(async () => (await bridge.call("getHostStatus", {})).phase, { timeout: 90_000 }).toBe("ready");

  const run = await observeOnce();
  expect(run.error, JSON.stringify(run.error)).toBeUndefined();
  const found: ScreenElement[] = run.elements;
  const summary = JSON.stringify(found.map((e) => [e.kind, e.text, Math.round(e.box.x), Math.round(e.box.y)]));

  const report: string[] = [];
  for (const control of truth) {
    const fromDetector = FROM_DETECTOR.has(control.kind);
    const want = fromDetector ? control.controlBox : control.textBox;
    const candidates = found.filter((e) => normal(e.text) === normal(control.text));
    const best = candidates.sort((a, b) => iou(b.box, want) - iou(a.box, want))[0];
    const what = `${control.kind} "${control.text}" at ${JSON.stringify(want)}`;
    expect(best, `${what}: no element with that text among ${summary}`).toBeDefined();
    if (!best) continue;
    report.push(
      `${control.kind} "${control.text}": ${best.kind} "${best.text}", IoU ${iou(best.box, want).toFixed(2)}`,
    );
    expect(iou(best.box, want), `${what}: best box ${JSON.stringify(best.box)}`).toBeGreaterThanOrEqual(0.5);
    // The detector names the kind; an OCR line is a text element (no detector for buttons, tabs or links here).
    expect(best.kind, what).toBe(fromDetector ? control.kind : "text");
  }
  console.log(`observe found ${found.length} elements in ${JSON.stringify(run.timingsMs)}:\n  ${report.join("\n  ")}`);
  // Ids count from 1 in reading order: top to bottom, then left to right.
  expect(found.map((e) => e.id)).toEqual(found.map((_, i) => i + 1));
});
