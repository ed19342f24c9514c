import { expect, type Locator, type Page, test } from "@playwright/test";
import { type FakeHub, startAppWithFakeHub } from "./fake-hub";
import type { HeadlessApp } from "./headless-app";
import { collectPageErrors, openOverlay, shoot } from "./renderer-helpers";

/**
 * The Models view in Chromium through the headless entry, its pulls made by the app's real host from a local
 * fake hub (inference/tests/fake_hub_server.py) that the test starts with a catalog of its own: the repository's
 * models plus one small model whose hub serves 24 MiB at 8 MiB/s, so that a pull lasts about three seconds and
 * its progress bar can be watched. Screenshots go to test-reports/screenshots/models-*.png.
 */

const MIB = 1 << 20;

test.describe.configure({ mode: "serial" });

let hub: FakeHub;
let app: HeadlessApp;
let page: Page;
let pageErrors: string[];

const row = (modelId: string): Locator => page.locator(`[data-testid=model-row][data-model="${modelId}"]`);

/** The progress bar's value as the user's screen reader would read it, or undefined while indeterminate. */
async function barValue(bar: Locator): Promise<number | undefined> {
  return bar.evaluate((el) =>
    (el as HTMLProgressElement).position < 0 ? undefined : (el as HTMLProgressElement).value,
  );
}

test.beforeAll(async ({ browser }) => {
  ({ hub, app } = await startAppWithFakeHub({ sizeBytes: 24 * MIB, rateBytesPerS: 8 * MIB }));
  page = await browser.newPage({ viewport: { width: 1100, height: 1000 } });
  pageErrors = collectPageErrors(page);
  await openOverlay(page, app.url);
});

test.afterAll(async () => {
  await page?.close();
  await app?.stop();
  hub?.stop();
});

test.afterEach(() => {
  expect(pageErrors.join("\n"), "console errors or CSP violations on the overlay page").toBe("");
});

test("reached with the keyboard: every model with its role, size, state and profiles", async () => {
  await expect(page.getByRole("textbox", { name: "Instruction" })).toBeFocused();
  // Shift+Tab from the box: Settings, VRAM, then Models.
  for (let i = 0; i < 3; i++) await page.keyboard.press("Shift+Tab");
  const open = page.getByRole("button", { name: "Models", exact: true });
  await expect(open).toBeFocused();
  await page.keyboard.press("Enter");
  await expect(page.getByTestId("models-view")).toBeVisible();
  await expect(page.getByRole("heading", { name: "Models", exact: true })).toBeFocused();

  const tiny = row(hub.modelId);
  await expect(tiny.getByTestId("model-state")).toHaveText("Missing", { timeout: 30_000 });
  await expect(tiny).toContainText("detector");
  await expect(tiny).toContainText("24 MiB");
  await expect(tiny).toContainText("no profile");
  // The repository's catalog came along: the embedded profile's planner, shipped in a wheel.
  const smollm = row("smollm2-135m-instruct-q4_1");
  await expect(smollm).toContainText("embedded");
  await expect(smollm.getByTestId("model-state")).toHaveAttribute("data-state", /installed|not_installed/);
  await expect(smollm.getByRole("button", { name: /^Pull/ })).toHaveCount(0);
  await expect(row("molmo-7b-d")).toContainText("single-gpu");
  for (const button of await page.getByTestId("models-view").getByRole("button").all())
    await expect(button).toHaveAccessibleName(/\S/);
  await shoot(page, "models-list");
});

test("a pull shows a moving progress bar and can be cancelled; Resume finishes it and the model is present", async () => {
  const tiny = row(hub.modelId);
  await tiny.getByRole("button", { name: `Pull ${"Tiny end-to-end test detector"}` }).click();
  const bar = tiny.getByRole("progressbar", { name: "Pulling Tiny end-to-end test detector" });
  await expect(bar).toBeVisible();
  await expect.poll(async () => (await barValue(bar)) ?? 0, { timeout: 15_000 }).toBeGreaterThan(2 * MIB);
  await expect(tiny.getByTestId("pull-file")).toContainText("model.onnx");
  await expect(tiny.getByTestId("pull-bytes")).toContainText(/MiB of 24 MiB \(\d+ %\)/);
  await shoot(page, "models-pulling");
  await tiny.getByRole("button", { name: "Cancel pulling Tiny end-to-end test detector" }).click();
  await expect(tiny.getByTestId("pull-cancelled")).toBeVisible({ timeout: 10_000 });
  await expect(tiny.getByTestId("model-state")).toHaveText("Partly downloaded");
  await shoot(page, "models-cancelled");

  // Resume: the bar starts where the cancelled pull stopped and keeps moving to the end.
  await tiny.getByRole("button", { name: "Resume Tiny end-to-end test detector" }).click();
  const seen: number[] = [];
  await expect
    .poll(
      async () => {
        const value = await barValue(bar).catch(() => undefined);
        if (value !== undefined) seen.push(value);
        return new Set(seen).size;
      },
      { timeout: 15_000, intervals: [100] },
    )
    .toBeGreaterThanOrEqual(3);
  expect(seen).toEqual([...seen].sort((a, b) => a - b));
  await expect(tiny.getByTestId("model-state")).toHaveText("Present", { timeout: 30_000 });
  await expect(tiny.getByTestId("pull-done")).toHaveText("Downloaded and verified.");
  await expect(tiny.getByRole("button", { name: /^(Pull|Resume)/ })).toHaveCount(0);
  await shoot(page, "models-present");
});

test("a pull the hub refuses ends in an error that says what happened and what to run", async () => {
  // The fake hub serves only the test's model: any other repository is "not found", as a private one would be.
  const yolo = row("yolo-world-v2-s");
  await yolo.getByRole("button", { name: /^Pull YOLO-World/ }).click();
  const error = yolo.getByTestId("pull-error");
  await expect(error).toBeVisible({ timeout: 30_000 });
  await expect(error).toHaveAttribute("data-code", "download_failed");
  await expect(error).toContainText("no repository");
  await expect(yolo.getByTestId("pull-error-command")).toHaveText("sightline-host models pull yolo-world-v2-s");
  await expect(yolo.getByTestId("model-state")).toHaveText("Missing");
  await expect(yolo.getByRole("button", { name: /^Pull YOLO-World/ })).toBeVisible();
  await yolo.scrollIntoViewIfNeeded();
  await shoot(page, "models-error");
});

test("the dark theme", async () => {
  await page.emulateMedia({ colorScheme: "dark" });
  await expect(page.getByTestId("models-view")).toBeVisible();
  await shoot(page, "models-dark");
  await page.emulateMedia({ colorScheme: "light" });
});
