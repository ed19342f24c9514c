import { execFile } from "node:child_process";
import { mkdtemp, readdir, readFile, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { type Browser, chromium, expect, type Page, test } from "@playwright/test";
import { chromiumPath } from "../../playwright.config";
import { ActionExecutor } from "../../src-main/actions/executor";
import { createNutDesktopIO } from "../../src-main/actions/nut-desktop-io";
import { elementsFromObserve } from "../../src-main/agent/observe";
import { type Capture, captureBackend, captureDisplay } from "../../src-main/capture/capture";
import { toGeometry } from "../../src-main/capture/geometry";
import { HostClient } from "../../src-main/host/client";
import { hostPython, projectRoot } from "../../src-main/host/python-env";
import { HostSupervisor } from "../../src-main/host/supervisor";
import { XdotoolActiveWindow } from "../../src-main/recording/active-window";
import { Recorder } from "../../src-main/recording/recorder";
import type { RecordedStep } from "../../src-main/recording/recording-manifest";
import { RecordingsLibrary } from "../../src-main/recording/recordings-library";
import { replayRecording } from "../../src-main/recording/replay";
import { ReplayPlan } from "../../src-main/recording/replay-plan";
import { UiohookInputSource } from "../../src-main/recording/uiohook-input-source";
import { lettersAndDigits } from "../../src-main/util/text-keys";

/**
 * Tutorial recording end to end on a real X display: a real Chromium window
 * with a form, real input events from xdotool seen by the real global hook,
 * frames from the real capture, elements from the real host's OCR; then the
 * exports, and a replay of the plan on the same page in a moved and resized
 * window, through the confirmation gate and the nut-js executor.
 */
const run = promisify(execFile);
const FORM = `file://${resolve("tests/fixtures/recording-form.html")}`;
const NAME = "Ada Lovelace";
/** Words with spaces: only the field's label can tell it is a password (no "looks like a password" rule fires). */
const PASSWORD = "violet meadow 93";

let browser: Browser;
let page: Page;
let supervisor: HostSupervisor;
let client: HostClient;
let library: RecordingsLibrary;

test.beforeAll(async () => {
  if (!process.env.DISPLAY) throw new Error("the desktop end-to-end test needs an X display (scripts/test-e2e.sh)");
  const root = projectRoot();
  supervisor = new HostSupervisor({ python: hostPython(root), cwd: root, log: () => {} });
  const ready = supervisor.start();
  browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: false,
    // No smooth scrolling: a scroll's end position then does not depend on how busy the machine is.
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-smooth-scrolling",
      "--window-position=100,80",
      "--window-size=1000,600",
    ],
  });
  page = await (await browser.newContext({ viewport: null })).newPage();
  await page.goto(FORM);
  await ready;
  client = new HostClient({ endpoint: () => supervisor.whenReady(), requestTimeoutMs: 60_000 });
  library = new RecordingsLibrary(await mkdtemp(join(tmpdir(), "sightline-recordings-")));
});

test.afterAll(async () => {
  client?.close();
  await supervisor?.stop();
  await browser?.close();
});

/** A screen point (desktop physical pixels) inside an element of the page. */
async function spot(selector: string, fx = 0.5, fy = 0.5) {
  const origin = await page.evaluate(() => ({
    x: window.screenX + (window.outerWidth - window.innerWidth) / 2,
    y: window.screenY + window.outerHeight - window.innerHeight,
  }));
  const r = await page.locator(selector).boundingBox();
  if (!r) throw new Error(`${selector} is not visible`);
  return { x: Math.round(origin.x + r.x + r.width * fx), y: Math.round(origin.y + r.y + r.height * fy) };
}

const xdotool = (...args: string[]) => run("xdotool", args);
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A person's pace: the pointer comes to rest on the target before pressing. */
async function clickAt(p: { x: number; y: number }) {
  await xdotool("mousemove", String(p.x), String(p.y));
  await pause(700);
  await xdotool("click", "1");
  await pause(400);
}

async function typeText(text: string) {
  await xdotool("type", "--delay", "60", "--", text);
  await pause(400);
}

async function formState() {
  return page.evaluate(() => (window as unknown as { saved: unknown }).saved) as Promise<{
    name: string;
    password: string;
    agree: boolean;
    volume: number;
    scrolled: number;
  } | null>;
}

async function filesUnder(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

let observes = 0;
const observe = async (capture: Capture) => {
  observes++;
  return elementsFromObserve(await client.observePng(capture.png), capture);
};

const targetText = (step: RecordedStep | undefined) => {
  if (!step) return undefined;
  const target = step.kind === "type" ? step.field : step.kind === "key" ? undefined : step.target;
  return target && lettersAndDigits(target.text);
};

test("a recorded session becomes a tutorial without the password, and its plan replays on a moved window", async () => {
  test.setTimeout(360_000);
  await page.bringToFront();

  // --- Record: real input through the real global hook ------------------------------------------
  const recorder = new Recorder({
    library,
    input: new UiohookInputSource(),
    capture: (point) => captureDisplay(point ? { point } : {}),
    observe,
    activeWindow: new XdotoolActiveWindow(),
    frames: { intervalMs: 1000, settleMs: 100 },
    log: (line) => console.error(line),
  });
  await recorder.start({ title: "Create an account" });
  await pause(500);

  await clickAt(await spot("#name", 0.3));
  await typeText(NAME);
  await clickAt(await spot("#password", 0.3));
  await typeText(PASSWORD);
  await clickAt(await spot("#agree"));
  const thumb = await spot("#volume", 0.03);
  const end = await spot("#volume", 0.97);
  await xdotool("mousemove", String(thumb.x), String(thumb.y));
  await pause(700);
  await xdotool("mousedown", "1");
  for (let i = 1; i <= 10; i++) {
    await xdotool("mousemove", String(Math.round(thumb.x + ((end.x - thumb.x) * i) / 10)), String(thumb.y));
    await pause(30);
  }
  await xdotool("mouseup", "1");
  await pause(400);
  const row = await spot("#history", 0.4, 82 / 220);
  await xdotool("mousemove", String(row.x), String(row.y));
  await pause(700);
  await xdotool("click", "--repeat", "3", "--delay", "80", "5");
  await pause(600);
  await clickAt(await spot("#save"));
  await expect.poll(formState).not.toBeNull();
  const recordedEnd = await formState();
  expect(recordedEnd).toMatchObject({ name: NAME, password: PASSWORD, agree: true });
  expect(recordedEnd?.volume).toBeGreaterThan(90);
  expect(recordedEnd?.scrolled).toBeGreaterThan(0);

  const { manifest, exports } = await recorder.stop();
  // One observe per screenshot: the check that typed text shows in its field reuses the next click's.
  expect(observes).toBe(manifest.steps.filter((s) => s.image).length);

  // --- The steps, in order, with the elements the host saw ---------------------------------------
  const summary = manifest.steps.map((s) => `${s.index}. ${s.sentence}`);
  expect(
    manifest.steps.map((s) => s.kind),
    summary.join("\n"),
  ).toEqual(["click", "type", "click", "type", "click", "drag", "scroll", "click"]);
  expect(manifest.steps.map(targetText), summary.join("\n")).toEqual([
    "name",
    "name",
    "password",
    "password",
    "sendmeupdates",
    "volume",
    "tuesday1",
    "save",
  ]);
  const [clickName, typeName, , typePassword, , drag, scroll, save] = manifest.steps;
  expect(typeName).toMatchObject({ typed: { kind: "text", text: NAME }, focusedBy: 1 });
  expect(typePassword).toMatchObject({ typed: { kind: "secret" }, focusedBy: 3 });
  expect(typePassword?.sentence).toBe("Type your password in **Password**");
  expect(clickName?.sentence).toBe("Click the **Name** field");
  expect(save?.sentence).toBe("Click **Save**");
  expect(scroll).toMatchObject({ kind: "scroll", dy: 3 });
  expect(drag?.kind === "drag" && drag.to.x - drag.from.x).toBeGreaterThan(250);
  for (const step of manifest.steps) {
    expect(step.windowTitle, `step ${step.index}`).toMatch(/Sightline recording form/);
    if (step.kind !== "type") {
      expect(step.image?.timing, `step ${step.index}`).toBe("before");
    }
  }

  // --- Not a trace of the password in any saved file ----------------------------------------------
  const files = await filesUnder(exports.folder);
  expect(files.length).toBeGreaterThanOrEqual(9);
  for (const file of files) {
    const bytes = await readFile(file);
    expect(bytes.includes(PASSWORD), file).toBe(false);
    expect(bytes.includes(Buffer.from(PASSWORD, "utf16le")), file).toBe(false);
  }

  // --- The exports --------------------------------------------------------------------------------
  const markdown = await readFile(exports.markdown, "utf8");
  expect(markdown).toContain("# Create an account");
  expect(markdown).toContain("1. Click the **Name** field");
  expect(markdown).toContain(`2. Type "${NAME}" in **Name**`);
  expect(markdown).toContain("4. Type your password in **Password**");
  expect(markdown).toContain("8. Click **Save**");
  const linked = [...markdown.matchAll(/\]\((images\/step-\d+\.png)\)/g)].map((m) => m[1] as string);
  expect(linked).toEqual(manifest.steps.flatMap((s) => (s.image ? [s.image.file] : [])));
  for (const file of linked) expect((await stat(join(exports.folder, file))).size).toBeGreaterThan(1000);
  const html = await readFile(exports.html, "utf8");
  const inlined = [...html.matchAll(/src="data:image\/png;base64,([^"]+)"/g)].map((m) => m[1] as string);
  expect(inlined).toHaveLength(linked.length);
  expect(Buffer.from(inlined[0] as string, "base64")).toEqual(
    await readFile(join(exports.folder, linked[0] as string)),
  );
  expect(html).toContain("<p>Click <strong>Save</strong></p>");
  expect(html).not.toMatch(/<script|src="(?!data:)/i);
  // The tutorial page opens as a page, showing every step and its picture.
  const tutorial = await browser.newPage();
  await tutorial.goto(`file://${exports.html}`);
  await expect(tutorial.locator("li")).toHaveCount(manifest.steps.length);
  expect(
    await tutorial.locator("img").evaluateAll((imgs) => imgs.every((i) => (i as HTMLImageElement).naturalWidth > 0)),
  ).toBe(true);
  await tutorial.close();

  // --- Replay on a moved, resized window ------------------------------------------------------------
  const plan = ReplayPlan.parse(JSON.parse(await readFile(exports.plan as string, "utf8")));
  await page.goto(FORM);
  const cdp = await page.context().newCDPSession(page);
  const { windowId } = (await cdp.send("Browser.getWindowForTarget")) as { windowId: number };
  const before = await spot("#name");
  await cdp.send("Browser.setWindowBounds", { windowId, bounds: { left: 900, top: 260, width: 1200, height: 700 } });
  await expect
    .poll(async () => page.evaluate(() => [window.screenX, window.screenY, window.outerWidth, window.outerHeight]))
    .toEqual([900, 260, 1200, 700]);
  await page.bringToFront();
  const after = await spot("#name");
  expect(after.x - before.x).toBeGreaterThan(500);
  expect(await formState()).toBeNull();

  const displays = (await (await captureBackend()).listDisplays()).map(toGeometry);
  const asked: Array<{ index: number; type: string; risk: string }> = [];
  const textAsked: Array<{ index: number; secret: boolean }> = [];
  let looks = 0;
  const reports = await replayRecording({
    plan,
    look: async () => {
      looks++;
      const capture = await captureDisplay();
      return { display: capture.display, elements: await observe(capture) };
    },
    executor: new ActionExecutor(createNutDesktopIO()),
    displays,
    settings: { mode: "each" },
    // The user's answers, given programmatically: confirm every step.
    confirm: async (steps) => {
      for (const s of steps) asked.push({ index: s.index, type: s.action.type, risk: s.risk.level });
      return "confirm";
    },
    askText: async (request) => {
      textAsked.push({ index: request.index, secret: request.secret });
      return PASSWORD;
    },
    signal: new AbortController().signal,
    settleMs: 500,
  });
  expect(reports.map((r) => `${r.index}:${r.status}${r.detail ? ` ${r.detail}` : ""}`)).toEqual(
    plan.steps.map((_, i) => `${i}:done`),
  );
  expect(asked.map((a) => a.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  expect(asked[3]).toEqual({ index: 3, type: "type", risk: "high" });
  expect(textAsked).toEqual([{ index: 3, secret: true }]);
  expect(looks).toBe(6);

  // The same end state as when it was recorded.
  await expect.poll(formState).not.toBeNull();
  const replayedEnd = await formState();
  expect(replayedEnd).toMatchObject({ name: NAME, password: PASSWORD, agree: true });
  expect(Math.abs((replayedEnd?.volume ?? 0) - (recordedEnd?.volume ?? 0))).toBeLessThanOrEqual(3);
  expect(replayedEnd?.scrolled).toBe(recordedEnd?.scrolled);
});
