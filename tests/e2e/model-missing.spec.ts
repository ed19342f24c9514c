import { expect, type Page, test } from "@playwright/test";
import { type FakeHub, startAppWithFakeHub } from "./fake-hub";
import type { HeadlessApp } from "./headless-app";
import { collectPageErrors, openOverlay, shoot } from "./renderer-helpers";

/**
 * A planner that is not on this machine, through the headless entry and the app's real host: the run fails
 * with the command that fetches it and a way to the Models view; pulled there from a local fake hub, the same
 * instruction then plans (with a tiny random-weight GGUF, held to the plan schema by constrained decoding).
 */

test.describe.configure({ mode: "serial" });

let hub: FakeHub;
let app: HeadlessApp;
let page: Page;
let pageErrors: string[];

test.beforeAll(async ({ browser }) => {
  ({ hub, app } = await startAppWithFakeHub({ planner: true }));
  page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  pageErrors = collectPageErrors(page);
  await openOverlay(page, app.url);
});

test.afterAll(async () => {
  await page?.close();
  await app?.stop();
  hub?.stop();
});

test("a missing planner: the error names the pull command and leads to Models; once pulled, it plans", async () => {
  test.setTimeout(240_000);
  const box = page.getByRole("textbox", { name: "Instruction" });
  await box.fill("Open the settings");
  await box.press("Enter");
  const error = page.getByTestId("error");
  await expect(error).toBeVisible({ timeout: 120_000 });
  await expect(error).toContainText(`sightline-host models pull ${hub.modelId}`);
  // Retrying cannot help until the model is there: the way forward is the command, or the Models view.
  await expect(error.getByRole("button", { name: "Retry" })).toHaveCount(0);
  await shoot(page, "17-error-model-missing");

  await error.getByRole("button", { name: `Pull ${hub.modelId} in Models` }).click();
  await expect(page.getByTestId("models-view")).toBeVisible();
  const row = page.locator(`[data-testid=model-row][data-model="${hub.modelId}"]`);
  await expect(row.getByTestId("model-state")).toHaveText("Missing", { timeout: 30_000 });
  await expect(row).toContainText("embedded");
  await row.getByRole("button", { name: "Pull Tiny end-to-end test planner" }).click();
  await expect(row.getByTestId("model-state")).toHaveText("Present", { timeout: 60_000 });

  await page.keyboard.press("Escape");
  await expect(page.getByTestId("models-view")).toHaveCount(0);
  // Rephrase puts the instruction back; Enter runs it again, now with the planner present.
  await page.getByTestId("error").getByRole("button", { name: "Rephrase" }).click();
  await expect(box).toHaveValue("Open the settings");
  await box.press("Enter");
  const stage = page.getByTestId("stage");
  await expect(stage).toHaveAttribute("data-stage", /^(confirming|done)$/, { timeout: 120_000 });
  await expect(page.locator("#plan-heading")).toContainText(hub.modelId);
  expect(await page.getByTestId("plan-step").count()).toBeGreaterThan(0);
  await shoot(page, "18-planned-after-pull");
  if ((await stage.getAttribute("data-stage")) === "confirming") {
    await page.keyboard.press("Escape");
    await expect(stage).toHaveAttribute("data-stage", "cancelled", { timeout: 30_000 });
  }
  expect(pageErrors.join("\n"), "console errors or CSP violations on the overlay page").toBe("");
});
