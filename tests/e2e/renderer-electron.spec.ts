import { existsSync, mkdtempSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { _electron as electron, expect, test } from "@playwright/test";
import { draftPlan, openTargetWindow, shoot } from "./renderer-helpers";

/**
 * The same overlay flow inside Electron, through Playwright's Electron
 * support, where an Electron binary is installed. Machines that cannot
 * download one (CI, this project's build machines) skip it and say why.
 */

function electronBinary(): { path?: string; why?: string } {
  try {
    const path = createRequire(import.meta.url)("electron") as unknown;
    if (typeof path === "string" && existsSync(path)) return { path };
    return { why: `require("electron") gave ${String(path)}, which is not an existing file` };
  } catch (error) {
    return { why: `require("electron") failed: ${(error as Error).message}` };
  }
}

const binary = electronBinary();

test("Electron: the overlay shows, is secured, runs a plan with confirmations, and hides on Escape", async () => {
  test.skip(!binary.path, `no Electron binary on this machine, so the Electron window is not tested: ${binary.why}`);
  const target = await openTargetWindow();
  const configDir = mkdtempSync(join(tmpdir(), "sightline-electron-e2e-"));
  const electronApp = await electron.launch({
    executablePath: binary.path,
    args: ["."],
    env: { ...process.env, SIGHTLINE_CONFIG_DIR: configDir },
  });
  try {
    const page = await electronApp.firstWindow();
    await expect(page.getByTestId("host-status")).toContainText("Host ready", { timeout: 90_000 });
    await expect(page.getByRole("textbox", { name: "Instruction" })).toBeFocused();

    // The security checklist, as the running app has it.
    const prefs = await electronApp.evaluate(({ BrowserWindow }) => {
      const win = BrowserWindow.getAllWindows()[0];
      // Not in Electron's typings, but present at run time: the preferences the page really got.
      const web = (
        win?.webContents as unknown as { getLastWebPreferences(): Record<string, unknown> } | undefined
      )?.getLastWebPreferences();
      return {
        contextIsolation: web?.contextIsolation,
        sandbox: web?.sandbox,
        nodeIntegration: web?.nodeIntegration,
        alwaysOnTop: win?.isAlwaysOnTop(),
      };
    });
    expect(prefs).toEqual({ contextIsolation: true, sandbox: true, nodeIntegration: false, alwaysOnTop: true });
    expect(await page.evaluate(() => typeof (window as unknown as { require?: unknown }).require)).toBe("undefined");

    // A plan through the window's own API (window.sightline, the preload), answered with the keyboard.
    const plan = await draftPlan(target);
    await page.evaluate(
      (p) =>
        (window as unknown as { sightline: { call: (m: string, i: unknown) => Promise<unknown> } }).sightline.call(
          "runPlan",
          { instruction: "Tidy up the quarterly draft", plan: p },
        ),
      plan,
    );
    const dialog = page.getByRole("dialog");
    await expect(dialog).toBeVisible({ timeout: 60_000 });
    await shoot(page, "20-electron-confirm");
    await page.keyboard.press("s");
    await expect(dialog.getByRole("heading")).toHaveText("Confirm step 3 of 5");
    await page.keyboard.press("a");
    await expect(page.getByTestId("stage")).toHaveText("Done", { timeout: 30_000 });
    expect(await target.clicks()).toEqual(["save", "archive", "save"]);

    // Escape with no run hides the overlay window.
    await page.keyboard.press("Escape");
    await expect
      .poll(() => electronApp.evaluate(({ BrowserWindow }) => BrowserWindow.getAllWindows()[0]?.isVisible()))
      .toBe(false);
  } finally {
    await electronApp.close();
    await target.browser.close();
  }
});
