import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { type Browser, chromium, expect, type Page, test } from "@playwright/test";
import { chromiumPath } from "../../playwright.config";
import { AuditLog } from "../../src-main/actions/audit-log";
import { runConfirmed } from "../../src-main/actions/confirmed-run";
import { ActionExecutor } from "../../src-main/actions/executor";
import { createNutDesktopIO } from "../../src-main/actions/nut-desktop-io";
import { captureBackend } from "../../src-main/capture/capture";
import { toGeometry } from "../../src-main/capture/geometry";
import type { DisplayGeometry } from "../../src-main/coords/spaces";
import { type Action, Action as ActionSchema } from "../../src-shared/actions";
import { armListeningKillSwitch } from "./kill-switch-helpers";

/**
 * Real input on a real X display: a form in a real Chromium window, a plan of
 * actions with screen points, the executor on nut-js, the confirmation gate
 * and the kill switch.
 */
const run = promisify(execFile);
const FORM = `file://${resolve("tests/fixtures/form.html")}`;

let browser: Browser;
let form: Page;
let displays: DisplayGeometry[];
let origin: { x: number; y: number };

test.beforeAll(async () => {
  browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: false,
    args: ["--no-sandbox", "--disable-gpu", "--window-position=100,80", "--window-size=1000,600"],
  });
  form = await (await browser.newContext({ viewport: null })).newPage();
  displays = (await (await captureBackend()).listDisplays()).map(toGeometry);
});

test.afterAll(async () => browser?.close());

test.beforeEach(async () => {
  await form.goto(FORM);
  await form.bringToFront();
  origin = await form.evaluate(() => ({
    x: window.screenX + (window.outerWidth - window.innerWidth) / 2,
    y: window.screenY + window.outerHeight - window.innerHeight,
  }));
});

/** The screen point (desktop physical pixels) of a spot inside an element of the form. */
async function spot(selector: string, fx = 0.5, fy = 0.5) {
  const r = await form.locator(selector).boundingBox();
  if (!r) throw new Error(`${selector} is not visible`);
  return {
    kind: "point",
    space: "desktop_px",
    x: origin.x + r.x + r.width * fx,
    y: origin.y + r.y + r.height * fy,
  } as const;
}

async function formState() {
  return form.evaluate(() => ({
    name: (document.getElementById("name") as HTMLInputElement).value,
    agree: (document.getElementById("agree") as HTMLInputElement).checked,
    colour: (document.getElementById("colour") as HTMLSelectElement).value,
    scrolled: (document.getElementById("list") as HTMLElement).scrollTop,
    volume: Number((document.getElementById("volume") as HTMLInputElement).value),
    submitted: (window as unknown as { submitted: unknown }).submitted,
  }));
}

const NAME = "Zoë Ångström – 東京 ✓";

async function formPlan(): Promise<Action[]> {
  const plan = [
    { type: "type", text: NAME, target: await spot("#name", 0.3) },
    { type: "click", target: await spot("#agree") },
    { type: "click", target: await spot("#colour") },
    { type: "key", keys: ["Down"] },
    { type: "key", keys: ["Enter"] },
    { type: "scroll", target: await spot("#list"), dy: 4 },
    { type: "wait", ms: 300 },
    { type: "drag", from: await spot("#volume", 0.02), to: await spot("#volume", 0.98) },
    { type: "click", target: await spot("#submit"), description: "press the form's button" },
  ];
  return plan.map((a) => ActionSchema.parse(a));
}

test("a confirmed plan fills the form; the audit log records every action", async () => {
  const audit = new AuditLog(join(await mkdtemp(join(tmpdir(), "audit-")), "actions.jsonl"));
  const asked: number[][] = [];
  const reports = await runConfirmed({
    actions: await formPlan(),
    settings: { mode: "each" },
    confirm: async (steps) => {
      asked.push(steps.map((s) => s.index));
      return "confirm";
    },
    executor: new ActionExecutor(createNutDesktopIO(), audit),
    execution: { displays, signal: new AbortController().signal, screenshotSha256: "ab".repeat(32) },
  });
  expect(reports.map((r) => `${r.index}:${r.status}${r.detail ? ` ${r.detail}` : ""}`)).toEqual(
    reports.map((r) => `${r.index}:done`),
  );
  // The wait touches nothing, so it is not put before the user.
  expect(asked).toEqual([[0], [1], [2], [3], [4], [5], [7], [8]]);
  await expect.poll(async () => (await formState()).submitted, { timeout: 5000 }).not.toBeNull();
  const state = await formState();
  const submitted = state.submitted as {
    name: string;
    agree: boolean;
    colour: string;
    scrolled: number;
    volume: number;
  };
  expect(submitted).toMatchObject({ name: NAME, agree: true, colour: "green" });
  expect(submitted.scrolled).toBeGreaterThan(0);
  expect(submitted.volume).toBeGreaterThan(90);

  const lines = readFileSync(audit.path, "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
  expect(lines).toHaveLength(9);
  expect(lines[1]).toMatchObject({ action: { type: "click" }, outcome: "done", screenshotSha256: "ab".repeat(32) });
  expect(lines[1].points[0].x).toBeCloseTo((await spot("#agree")).x, 0);
  // What was typed is not in the log, only how much of it.
  expect(readFileSync(audit.path, "utf8")).not.toContain(NAME);
  expect(lines.find((l) => l.action.type === "type")?.action.text).toBe(`[${[...NAME].length} characters]`);
});

test("the same plan, unconfirmed, changes nothing", async () => {
  for (const decision of ["stop", "skip"] as const) {
    const reports = await runConfirmed({
      actions: await formPlan(),
      settings: { mode: "batch-low-risk" },
      confirm: async () => decision,
      executor: new ActionExecutor(createNutDesktopIO()),
      execution: { displays, signal: new AbortController().signal },
    });
    expect(reports.every((r) => r.status === "skipped")).toBe(true);
    await form.waitForTimeout(300);
    expect(await formState()).toEqual({
      name: "",
      agree: false,
      colour: "red",
      scrolled: 0,
      volume: 0,
      submitted: null,
    });
  }
});

test("a point outside every display is refused, not clamped", async () => {
  const executor = new ActionExecutor(createNutDesktopIO());
  const outcome = await executor.perform(
    ActionSchema.parse({ type: "click", target: { kind: "point", space: "desktop_px", x: 99_999, y: 10 } }),
    { displays, signal: new AbortController().signal },
  );
  expect(outcome).toMatchObject({ outcome: "failed", detail: expect.stringMatching(/outside every display/) });
});

test("the kill switch hotkey stops a long typing action part-way", async () => {
  const { killSwitch, signal } = await armListeningKillSwitch();
  // Long enough that typing outlasts the hotkey's way through the X server and the hook by seconds.
  const text = "abcdefghij".repeat(400);
  const typing = new ActionExecutor(createNutDesktopIO()).perform(
    ActionSchema.parse({ type: "type", text, target: await spot("#long", 0.1) }),
    { displays, signal },
  );
  await expect
    .poll(async () => (await formState()).name.length + (await form.inputValue("#long")).length, { intervals: [20] })
    .toBeGreaterThan(20);
  // A person presses the hotkey: a real X key event, seen by the global hook.
  await run("xdotool", ["key", "ctrl+alt+Escape"]);
  const outcome = await typing;
  killSwitch.dispose();
  expect(outcome.outcome).toBe("stopped");
  const typed = await form.inputValue("#long");
  expect(typed.length).toBeGreaterThan(0);
  expect(typed.length).toBeLessThan(text.length);
  expect(text.startsWith(typed)).toBe(true);
});
