import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { expect, type Page, test } from "@playwright/test";
import { type HeadlessApp, startHeadlessApp } from "./headless-app";
import { collectPageErrors, openOverlay, shoot } from "./renderer-helpers";

/**
 * The VRAM panel in Chromium through the headless entry, with its telemetry from a real host: (a) this
 * machine's own stream (no NVIDIA GPU on CI: source "system", system memory), (b) the recorded two-H200
 * NVML stream replayed through the real host path (SIGHTLINE_TELEMETRY_REPLAY), in which a model loads on
 * GPU 0 while another process keeps GPU 1 busy. Screenshots go to test-reports/screenshots/.
 */

const REPLAY = resolve("inference/tests/fixtures/nvml-2gpu-h200-models.jsonl");

test.describe.configure({ mode: "serial" });

async function startApp(env: Record<string, string>, settings?: Record<string, unknown>): Promise<HeadlessApp> {
  const configDir = mkdtempSync(join(tmpdir(), "sightline-vram-e2e-"));
  if (settings) writeFileSync(join(configDir, "settings.json"), JSON.stringify(settings));
  return startHeadlessApp({ SIGHTLINE_CONFIG_DIR: configDir, ...env });
}

const panel = (page: Page) => page.getByTestId("vram-panel");
const verdict = (page: Page) => page.getByTestId("vram-verdict");

/** Every button, select and disclosure in the panel has a name a screen reader can say. */
async function expectNamedControls(page: Page): Promise<void> {
  const controls = panel(page).locator("button, select, summary, [role=img]");
  const count = await controls.count();
  expect(count).toBeGreaterThan(3);
  for (let i = 0; i < count; i++) await expect(controls.nth(i)).toHaveAccessibleName(/\S/);
}

test.describe("without an NVIDIA GPU (this machine's own stream)", () => {
  let app: HeadlessApp;
  let page: Page;
  let pageErrors: string[];

  test.beforeAll(async ({ browser }) => {
    app = await startApp({ SIGHTLINE_TELEMETRY_REPLAY: "" });
    page = await browser.newPage({ viewport: { width: 1100, height: 1000 } });
    pageErrors = collectPageErrors(page);
    await openOverlay(page, app.url);
  });

  test.afterAll(async () => {
    await page?.close();
    await app?.stop();
  });

  test.afterEach(() => {
    expect(pageErrors.join("\n"), "console errors or CSP violations on the overlay page").toBe("");
  });

  test("reached with the keyboard: it says there is no NVIDIA GPU and why, and shows system memory", async () => {
    const box = page.getByRole("textbox", { name: "Instruction" });
    await expect(box).toBeFocused();
    // Shift+Tab from the box: Settings, then the VRAM button.
    await page.keyboard.press("Shift+Tab");
    await page.keyboard.press("Shift+Tab");
    const open = page.getByRole("button", { name: "VRAM", exact: true });
    await expect(open).toBeFocused();
    await expect(open).toHaveAttribute("aria-keyshortcuts", "Alt+V");
    await page.keyboard.press("Enter");
    await expect(panel(page)).toBeVisible();
    await expect(page.getByRole("heading", { name: "GPU memory" })).toBeFocused();

    const source = page.getByTestId("telemetry-source");
    await expect(source).toHaveAttribute("data-source", /system|nvml/, { timeout: 30_000 });
    test.skip((await source.getAttribute("data-source")) === "nvml", "this machine has an NVIDIA GPU");
    await expect(source).toHaveText("No NVIDIA GPU: system memory only");
    const noGpu = page.getByTestId("no-gpu");
    await expect(noGpu.getByRole("heading")).toHaveText("No NVIDIA GPU");
    await expect(page.getByTestId("no-gpu-reason")).toContainText(/NVIDIA|NVML/);
    await expect(page.getByTestId("gpu-card")).toHaveCount(0);

    const system = page.getByTestId("system-card");
    await expect(system.getByRole("heading")).toHaveText("System memory");
    await expect(system.getByRole("img", { name: /^System memory: .* GiB of .* GiB in use/ })).toBeVisible();
    await expect(system.getByTestId("legend-free")).toContainText("Free");
    // A few samples, about a second apart, make a line of the last minute.
    await expect(system.getByTestId("spark-memory")).toHaveAttribute("d", /M[\d.]+,[\d.]+ L[\d.]+,[\d.]+ L/, {
      timeout: 15_000,
    });

    // The selected profile (embedded) runs on the CPU: it fits, in system memory.
    await expect(verdict(page)).toHaveAttribute("data-outcome", "fits", { timeout: 30_000 });
    await expect(verdict(page)).toContainText("Fits: CPU only");
    await expect(page.getByRole("combobox", { name: "Model profile" })).toHaveValue("embedded");
    await expectNamedControls(page);
    await shoot(page, "vram-01-no-gpu");
  });

  test("a GPU profile does not fit without a GPU, and the planner says so; Esc closes, Alt+V reopens", async () => {
    const select = page.getByRole("combobox", { name: "Model profile" });
    await select.focus();
    await select.selectOption("workstation");
    await expect(verdict(page)).toHaveAttribute("data-outcome", "does_not_fit", { timeout: 30_000 });
    await expect(verdict(page)).toContainText("Does not fit: no NVIDIA GPU was found and this profile needs one.");
    await page.getByText("The planner's full explanation").click();
    await expect(page.locator(".plan-lines pre")).toContainText("0 GPUs");
    await page.emulateMedia({ colorScheme: "dark" });
    await shoot(page, "vram-02-no-gpu-workstation-dark");
    await page.emulateMedia({ colorScheme: "light" });

    await page.keyboard.press("Escape");
    await expect(panel(page)).toHaveCount(0);
    await expect(page.getByRole("textbox", { name: "Instruction" })).toBeFocused();
    await page.keyboard.press("Alt+v");
    await expect(panel(page)).toBeVisible();
    await page.keyboard.press("Alt+v");
    await expect(panel(page)).toHaveCount(0);
  });
});

test.describe("a recorded NVML stream of two H200s, replayed through the real host", () => {
  let app: HeadlessApp;
  let page: Page;
  let pageErrors: string[];

  test.beforeAll(async ({ browser }) => {
    app = await startApp({ SIGHTLINE_TELEMETRY_REPLAY: REPLAY }, { profile: "workstation" });
    page = await browser.newPage({ viewport: { width: 1100, height: 1250 } });
    pageErrors = collectPageErrors(page);
    await openOverlay(page, app.url);
  });

  test.afterAll(async () => {
    await page?.close();
    await app?.stop();
  });

  test.afterEach(() => {
    expect(pageErrors.join("\n"), "console errors or CSP violations on the overlay page").toBe("");
  });

  test("per GPU: memory split by model, utilization, temperature, power, clocks, history; the verdict", async () => {
    await page.keyboard.press("Alt+v");
    await expect(panel(page)).toBeVisible();
    await expect(page.getByTestId("telemetry-source")).toHaveText("Replay of a recorded NVML stream", {
      timeout: 30_000,
    });
    const cards = page.getByTestId("gpu-card");
    await expect(cards).toHaveCount(2);
    const gpu0 = cards.nth(0);
    const gpu1 = cards.nth(1);
    await expect(gpu0.getByRole("heading")).toHaveText("GPU 0 · NVIDIA H200");
    await expect(gpu1.getByRole("heading")).toHaveText("GPU 1 · NVIDIA H200");
    await expect(gpu0.getByTestId("gpu-power")).toHaveText(/^\d+ W of 700 W$/);
    await expect(gpu0.getByTestId("gpu-clocks")).toContainText("memory 3201 MHz");
    await expect(gpu0.getByTestId("gpu-temperature")).toHaveText(/^\d+ °C$/);

    // The verdict for the selected profile (the seed's workstation plan) on these two GPUs.
    await expect(verdict(page)).toHaveAttribute("data-outcome", "fits_with_changes", { timeout: 30_000 });
    await expect(verdict(page)).toContainText("Nearest plan that fits: llama-3.1-70b-instruct-awq-int4: TP=2 × PP=1");
    await expect(
      page.getByRole("listitem").filter({ hasText: "64 attention heads do not divide by TP=3 (64 % 3 = 1)" }),
    ).toBeVisible();
    await expect(page.getByTestId("vram-plan-gpus").locator("tbody tr")).toHaveCount(2);
    await expect(page.getByRole("combobox", { name: "Model profile" })).toHaveValue("workstation");

    // Record 11 on: another process runs matrix products on GPU 1 — other use, 100 % busy.
    await expect(gpu1.getByTestId("gpu-util")).toHaveText("100 %", { timeout: 30_000 });
    await expect(gpu1.getByTestId("gpu-processes")).toHaveText("Processes: PID 604 (7.0 GiB)");
    await expect(gpu1.getByTestId("segment-other")).toBeVisible();
    // With 7 GiB taken on GPU 1, the panel planned again against what is free now.
    const planRows = page.getByTestId("vram-plan-gpus").locator("tbody tr");
    await expect(planRows.nth(1).locator("td").nth(2)).toHaveText("133 GiB", { timeout: 10_000 });
    await expect(gpu1.getByTestId("legend-free")).toHaveText("Free 133 GiB");
    // Records 25–28: the demo's model sits on GPU 0, as the host's accounting of the recording says.
    const model = gpu0.getByTestId("segment-model");
    await expect(model).toHaveCount(1, { timeout: 60_000 });
    await expect(model).toHaveAttribute("data-label", "llama-3.2-1b-shapes-random (planner)");
    await expect(model).toHaveAttribute("data-bytes", "2471629056");
    await expect(gpu0.getByTestId("legend-model")).toHaveText("llama-3.2-1b-shapes-random (planner) 2.3 GiB");
    await expect(
      gpu0.getByRole("img", { name: /^GPU 0 memory: .*llama-3\.2-1b-shapes-random \(planner\) 2\.3 GiB/ }),
    ).toBeVisible();
    await shoot(page, "vram-03-replay-2gpu-model");

    // The last minute of GPU 1: utilization went from 0 to 100 %.
    await expect(gpu1.getByRole("img", { name: /utilization from 0 % to 100 %/ })).toBeVisible();
    await expect(gpu1.getByTestId("spark-util")).toHaveAttribute("d", /^M.* L.* L/);
    await expectNamedControls(page);
  });

  test("the dark theme", async () => {
    await page.emulateMedia({ colorScheme: "dark" });
    await expect(page.getByTestId("gpu-card")).toHaveCount(2);
    await shoot(page, "vram-04-replay-2gpu-dark");
    await page.emulateMedia({ colorScheme: "light" });
  });
});
