import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { type Browser, chromium, expect, type Page, test } from "@playwright/test";
import { chromiumPath } from "../../playwright.config";
import type { HeadlessApp } from "./headless-app";
import {
  collectPageErrors,
  connectTestBridge,
  openOverlay,
  openTargetWindow,
  shoot,
  startRendererApp,
  type TargetWindow,
  type TestBridge,
} from "./renderer-helpers";

/**
 * The Record view in Chromium through the headless entry, on a real X display:
 * the overlay page (a real window, placed away from the target) starts a
 * recording; xdotool performs real clicks on a real target window, which the
 * real global hook sees; the real host's OCR names the elements; the page
 * stops the recording and shows the steps; the library renames and opens it.
 * Screenshots go to test-reports/screenshots/recording-*.png.
 */
const run = promisify(execFile);
const xdotool = (...args: string[]) => run("xdotool", args);
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

test.describe.configure({ mode: "serial" });

let app: HeadlessApp & { configDir: string };
let target: TargetWindow;
let overlayBrowser: Browser;
let page: Page;
let bridge: TestBridge;
let pageErrors: string[];

test.beforeAll(async () => {
  test.setTimeout(180_000);
  app = await startRendererApp();
  target = await openTargetWindow();
  // The overlay page is a real window too, far right of the target: the recorder leaves clicks on it out.
  overlayBrowser = await chromium.launch({
    executablePath: chromiumPath,
    headless: false,
    args: ["--no-sandbox", "--disable-gpu", "--window-position=2200,0", "--window-size=1100,1040"],
  });
  page = await (await overlayBrowser.newContext({ viewport: null })).newPage();
  pageErrors = collectPageErrors(page);
  await openOverlay(page, app.url);
  bridge = await connectTestBridge(app.url);
});

test.afterAll(async () => {
  bridge?.close();
  await overlayBrowser?.close();
  await target?.browser.close();
  await app?.stop();
});

test.afterEach(() => {
  expect(pageErrors.join("\n"), "console errors or CSP violations on the overlay page").toBe("");
});

const view = () => page.getByTestId("record-view");

/** A person's click on the target window: the pointer comes to rest, then presses. */
async function clickTarget(id: string) {
  const p = await target.point(id);
  await xdotool("mousemove", String(p.x), String(p.y));
  await pause(700);
  await xdotool("click", "1");
  await pause(500);
}

test("records real clicks from the Record view and shows them as steps", async () => {
  test.setTimeout(150_000);
  // Keyboard only: Alt+R opens the view, the title field takes the title, Enter starts.
  await page.keyboard.press("Alt+KeyR");
  await expect(view()).toBeVisible();
  await expect(page.getByRole("heading", { name: "Tutorial recording" })).toBeFocused();
  await expect(view().getByText("No recordings yet.")).toBeVisible();
  await page.getByLabel("Title").focus();
  await page.keyboard.type("Save the draft");
  await shoot(page, "recording-idle");
  await page.keyboard.press("Enter");
  const indicator = page.getByTestId("recording-indicator");
  await expect(indicator).toContainText("Recording");
  await expect(indicator).toContainText("Save the draft");
  await expect(page.getByTestId("recording-step-count")).toHaveText("0 steps");
  await expect(page.getByRole("button", { name: /Record \(recording now/ })).toBeVisible();
  const before = await page.getByTestId("recording-elapsed").textContent();

  await target.reset();
  await pause(500);
  await clickTarget("save");
  await clickTarget("archive");
  expect(await target.clicks()).toEqual(["save", "archive"]);
  // The first click's step arrives while recording (the second is still open: a double click could follow).
  await expect(page.getByTestId("live-step").first()).toContainText("Save", { timeout: 30_000 });
  await expect(page.getByTestId("recording-elapsed")).not.toHaveText(before ?? "");
  await shoot(page, "recording-live");

  await page.getByRole("button", { name: "Stop recording" }).click();
  await expect(page.getByTestId("recorder")).toHaveAttribute("data-phase", "idle", { timeout: 60_000 });
  const steps = page.getByTestId("live-step");
  await expect(steps).toHaveCount(2);
  await expect(steps.nth(0)).toContainText("Save");
  await expect(steps.nth(1)).toContainText("Archive");
  await expect(page.getByTestId("last-exports")).toContainText("recordings");

  const item = page.getByTestId("recording-item");
  await expect(item).toHaveCount(1);
  await expect(item.getByTestId("recording-title")).toHaveText("Save the draft");
  await expect(item.getByTestId("recording-meta")).toContainText("2 steps");
  // Every control in the view has a name a screen reader can say.
  const controls = view().locator("button, input");
  for (let i = 0; i < (await controls.count()); i++) await expect(controls.nth(i)).toHaveAccessibleName(/\S/);
  await shoot(page, "recording-stopped");

  // On disk: the manifest has the same two steps, with the elements the host's OCR read.
  const [recording] = await bridge.call("listRecordings", {});
  const manifest = JSON.parse(await readFile(join(recording?.folder ?? "", "manifest.json"), "utf8")) as {
    steps: Array<{ kind: string; target?: { text: string } }>;
  };
  expect(manifest.steps.map((s) => [s.kind, s.target?.text])).toEqual([
    ["click", "Save"],
    ["click", "Archive"],
  ]);
});

test("replays the recording on a moved window through the run view's confirmations", async () => {
  test.setTimeout(150_000);
  // Move the target window: the replay must find Save and Archive where they are now.
  const { stdout } = await xdotool("search", "--name", "^Drafts");
  const windowId = stdout.trim().split("\n")[0] ?? "";
  await xdotool("windowmove", windowId, "420", "330");
  await pause(500);
  await target.reset();

  const item = page.getByTestId("recording-item");
  await item.getByRole("button", { name: "Replay Save the draft" }).click();
  // The replay is a run: the run view, its plan and the same confirmation dialog as any plan.
  const dialog = page.getByRole("dialog");
  await expect(dialog).toBeVisible({ timeout: 60_000 });
  await expect(dialog).toBeFocused();
  await expect(dialog).toContainText("Step 1 of 2: Click Save");
  // The replay plans a step at a time, but the dialog counts the whole recording.
  await expect(dialog.getByRole("heading")).toHaveText("Confirm step 1 of 2");
  await expect(dialog.getByTestId("target-highlight")).toBeVisible();
  await shoot(page, "recording-replay-confirm");
  await page.keyboard.press("Enter");
  await expect(dialog).toContainText("Step 2 of 2: Click Archive", { timeout: 60_000 });
  await page.keyboard.press("Enter");
  await expect(page.getByTestId("finished")).toBeVisible({ timeout: 60_000 });
  await expect.poll(() => target.clicks(), { timeout: 10_000 }).toEqual(["save", "archive"]);
  const last = bridge.runs.at(-1);
  expect(last?.stage).toBe("done");
  expect(last?.planner).toBe("replay");
  await shoot(page, "recording-replay-done");
  await page.keyboard.press("Alt+KeyR");
  await expect(view()).toBeVisible();
});

test("renames inline, opens the step list with its screenshots, shows the folder, and deletes after asking", async () => {
  const item = page.getByTestId("recording-item");
  await item.getByRole("button", { name: "Rename Save the draft" }).click();
  const field = page.getByLabel("New title for Save the draft");
  await expect(field).toBeFocused();
  await field.fill("Save, then archive");
  await page.keyboard.press("Enter");
  await expect(item.getByTestId("recording-title")).toHaveText("Save, then archive");
  expect((await bridge.call("listRecordings", {}))[0]?.title).toBe("Save, then archive");

  await item.getByRole("button", { name: "Open the folder of Save, then archive" }).click();
  await expect(item.getByTestId("recording-folder")).toContainText(join(app.configDir, "recordings"));

  await item.getByRole("button", { name: "Open the steps of Save, then archive" }).click();
  const opened = page.getByTestId("opened-recording");
  await expect(opened.getByRole("heading", { name: "Save, then archive" })).toBeFocused();
  await expect(opened.getByTestId("opened-step")).toHaveCount(2);
  const shots = opened.getByRole("img", { name: /Screenshot of step/ });
  await expect(shots).toHaveCount(2);
  await expect
    .poll(() => shots.first().evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth))
    .toBeGreaterThan(0);
  await shoot(page, "recording-steps");

  // The theme follows the system's (the default setting): a dark desktop gets the dark theme.
  await page.emulateMedia({ colorScheme: "dark" });
  await shoot(page, "recording-steps-dark");
  await opened.getByRole("button", { name: "Back to the recordings" }).click();
  await shoot(page, "recording-library-dark");
  await page.emulateMedia({ colorScheme: "light" });

  await item.getByRole("button", { name: "Delete Save, then archive" }).click();
  // The safe answer has the focus: Enter here keeps the recording.
  await expect(page.getByRole("button", { name: "Keep" })).toBeFocused();
  await shoot(page, "recording-delete-confirm");
  await item.getByRole("button", { name: "Delete", exact: true }).click();
  await expect(page.getByTestId("recording-item")).toHaveCount(0);
  expect(await bridge.call("listRecordings", {})).toEqual([]);
});
