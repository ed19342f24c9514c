import { expect, type Page, test } from "@playwright/test";
import type { HeadlessApp } from "./headless-app";
import {
  draftPlan,
  openOverlay,
  registerOverlaySession,
  shoot,
  type TargetWindow,
  type TestBridge,
} from "./renderer-helpers";

/**
 * Settings saved and read back, the dark theme, the instruction history, and
 * the overlay used with the keyboard alone, through the headless entry.
 */

test.describe.configure({ mode: "serial" });

const session = registerOverlaySession();
let app: HeadlessApp;
let bridge: TestBridge;
let target: TargetWindow;
let page: Page;

test.beforeAll(() => {
  ({ app, bridge, target, page } = session);
});

const instructionBox = () => page.getByRole("textbox", { name: "Instruction" });
const stage = () => page.getByTestId("stage");

/** What has the focus: its accessible name (roughly as a screen reader would say it) and whether a ring shows. */
async function focusedControl() {
  return page.evaluate(() => {
    // Key hints (<kbd aria-hidden>) are not part of a control's name.
    const visibleText = (node: Element): string => {
      const copy = node.cloneNode(true) as Element;
      for (const hidden of copy.querySelectorAll("[aria-hidden=true]")) hidden.remove();
      return copy.textContent ?? "";
    };
    const el = document.activeElement as HTMLElement | null;
    if (!el || el === document.body) return { tag: "body", name: "", ring: false };
    const labelled = el.getAttribute("aria-labelledby");
    const label =
      el.getAttribute("aria-label") ??
      (labelled ? document.getElementById(labelled)?.textContent : undefined) ??
      (el as HTMLInputElement).labels?.[0]?.textContent ??
      visibleText(el);
    const style = getComputedStyle(el);
    const ring = style.outlineStyle !== "none" && Number.parseFloat(style.outlineWidth) >= 2;
    return { tag: el.tagName.toLowerCase(), name: label.trim(), ring };
  });
}

test("settings: changed with the keyboard, saved, read back after a reload", async () => {
  await instructionBox().focus();
  // Shift+Tab from the box reaches the header's Settings button.
  await page.keyboard.press("Shift+Tab");
  expect((await focusedControl()).name).toBe("Settings");
  await page.keyboard.press("Enter");
  const form = page.getByRole("form", { name: "Settings" });
  await expect(form).toBeVisible();
  await shoot(page, "10-settings");

  await form.getByLabel("Show the overlay").fill("CommandOrControl+Alt+K");
  await form.getByLabel("Ask once for a run of low-risk steps", { exact: false }).check();
  await form.getByLabel("On another computer of mine").check();
  await form.getByLabel("Host address").fill("not a url");
  await form.getByLabel("Host token").fill("short");
  await form.getByLabel("Model profile").selectOption("single-gpu");
  await form.getByLabel("Dark").check();
  await form.getByRole("button", { name: "Save settings" }).click();
  // Wrong fields are named, focused, and nothing is saved.
  await expect(form.getByLabel("Host address")).toHaveAttribute("aria-invalid", "true");
  await expect(form.getByLabel("Host address")).toBeFocused();
  await expect(form).toContainText("16 or more characters");
  await shoot(page, "11-settings-invalid");
  expect((await bridge.call("getSettings", {})).host.mode).toBe("local");

  await form.getByLabel("Host address").fill("http://192.168.1.20:8765");
  await form.getByLabel("Host token").fill("0123456789abcdef-token");
  await form.getByRole("button", { name: "Save settings" }).click();
  await expect(page.getByTestId("settings-status")).toHaveText("Saved.");
  // Saved where the main process keeps them…
  const saved = await bridge.call("getSettings", {});
  expect(saved).toMatchObject({
    hotkeys: { overlay: "CommandOrControl+Alt+K" },
    confirmation: "batch-low-risk",
    host: { mode: "remote", url: "http://192.168.1.20:8765", token: "0123456789abcdef-token" },
    profile: "single-gpu",
    theme: "dark",
  });
  // …and shown as read back after a reload.
  await page.reload();
  await expect(page.getByTestId("profile")).toContainText("single-gpu");
  await expect(page.locator("html")).toHaveAttribute("data-theme", "dark");
  await page.getByRole("button", { name: "Settings" }).click();
  await expect(form.getByLabel("Show the overlay")).toHaveValue("CommandOrControl+Alt+K");
  await expect(form.getByLabel("Host address")).toHaveValue("http://192.168.1.20:8765");
  await expect(form.getByLabel("Model profile")).toHaveValue("single-gpu");
  await expect(form.getByLabel("Dark")).toBeChecked();
  await shoot(page, "12-settings-dark");

  // The rest of this file runs against the local host with confirmation per step.
  await form.getByLabel("On this computer", { exact: false }).check();
  await form.getByLabel("Ask before every step").check();
  await form.getByRole("button", { name: "Save settings" }).click();
  await expect(page.getByTestId("settings-status")).toHaveText("Saved.");
  await page.keyboard.press("Escape");
  await expect(form).toHaveCount(0);
  await expect(instructionBox()).toBeVisible();
});

test("dark theme: the confirmation dialog and plan, with the theme's colours", async () => {
  await target.reset();
  await bridge.call("runPlan", { instruction: "Tidy up the quarterly draft", plan: await draftPlan(target) });
  const dialog = page.getByRole("dialog");
  await expect(dialog).toBeVisible({ timeout: 60_000 });
  await expect(dialog.getByTestId("target-crop")).toBeVisible();
  const colours = await page.evaluate(() => ({
    body: getComputedStyle(document.body).backgroundColor,
    dialog: getComputedStyle(document.querySelector("[role=dialog]") as Element).backgroundColor,
  }));
  expect(colours.body).toBe("rgb(15, 16, 19)");
  expect(colours.dialog).toBe("rgb(28, 30, 35)");
  await shoot(page, "13-dark-confirm");
  await page.getByRole("button", { name: "Stop" }).click();
  await expect(stage()).toHaveText("Stopped");
  expect(await target.clicks()).toEqual([]);
  await shoot(page, "14-dark-stopped");
});

test("system theme follows prefers-color-scheme", async () => {
  await bridge.call("updateSettings", { theme: "system" });
  await page.reload();
  await page.emulateMedia({ colorScheme: "light" });
  await expect(page.locator("html")).not.toHaveAttribute("data-theme", /.+/);
  expect(await page.evaluate(() => getComputedStyle(document.body).backgroundColor)).toBe("rgb(238, 240, 243)");
  await page.emulateMedia({ colorScheme: "dark" });
  expect(await page.evaluate(() => getComputedStyle(document.body).backgroundColor)).toBe("rgb(15, 16, 19)");
  await page.emulateMedia({ colorScheme: "light" });
});

test("history: Up and Down recall earlier instructions, also after a reload; Shift+Enter adds a line", async () => {
  await openOverlay(page, app.url);
  const box = instructionBox();
  for (const text of ["Open the quarterly report", "Export it as PDF"]) {
    await box.fill(text);
    await box.press("Enter");
    await expect(stage()).toHaveAttribute("data-stage", /capturing|observing|planning/);
    await page.keyboard.press("Escape");
    await expect(stage()).toHaveText("Stopped", { timeout: 20_000 });
  }
  await box.focus();
  await box.pressSequentially("draft");
  await box.press("ArrowUp");
  await expect(box).toHaveValue("Export it as PDF");
  await box.press("ArrowUp");
  await expect(box).toHaveValue("Open the quarterly report");
  await box.press("ArrowUp");
  await expect(box).toHaveValue("Open the quarterly report");
  await box.press("ArrowDown");
  await expect(box).toHaveValue("Export it as PDF");
  await box.press("ArrowDown");
  await expect(box).toHaveValue("draft");

  // Multi-line: Shift+Enter adds a line and does not submit; Up on the second line moves the caret, not the history.
  await box.press("Shift+Enter");
  await box.pressSequentially("second line");
  await expect(box).toHaveValue("draft\nsecond line");
  await expect(stage()).toHaveText("Stopped");
  await box.press("ArrowUp");
  await expect(box).toHaveValue("draft\nsecond line");
  await shoot(page, "15-multiline");

  await page.reload();
  await instructionBox().press("ArrowUp");
  await expect(instructionBox()).toHaveValue("Export it as PDF");
  // Escape with no run clears the box (the headless browser has no window to hide).
  await page.keyboard.press("Escape");
  await expect(instructionBox()).toHaveValue("");
});

test("keyboard only: every control is reachable, named, and shows a focus ring", async () => {
  await openOverlay(page, app.url);
  await expect(instructionBox()).toBeFocused();
  await page.keyboard.type("Export the report");
  const seen: { tag: string; name: string; ring: boolean }[] = [];
  // In document order: the header's Settings button, the instruction box, Run.
  await page.keyboard.press("Shift+Tab");
  for (let i = 0; i < 3; i++) {
    seen.push(await focusedControl());
    await page.keyboard.press("Tab");
  }
  expect(seen.map((s) => s.name)).toEqual(["Settings", "Instruction", "Run"]);
  for (const control of seen) expect(control.ring, `${control.name} shows a focus ring`).toBe(true);

  // A whole plan with the keyboard: the dialog takes the focus, Tab stays inside it, keys answer it.
  await target.reset();
  await bridge.call("runPlan", { instruction: "Tidy up the quarterly draft", plan: await draftPlan(target) });
  const dialog = page.getByRole("dialog");
  await expect(dialog).toBeVisible({ timeout: 60_000 });
  await expect(dialog).toBeFocused();
  const inDialog: string[] = [];
  for (let i = 0; i < 4; i++) {
    await page.keyboard.press("Tab");
    const control = await focusedControl();
    expect(control.ring, `${control.name} shows a focus ring`).toBe(true);
    inDialog.push(control.name);
  }
  expect(inDialog).toEqual(["Confirm", "Skip", "Stop", "Confirm"]);
  await shoot(page, "16-keyboard-dialog-focus");
  // Space on the focused Confirm button would confirm the Delete step; S skips it instead.
  await page.keyboard.press("s");
  await expect(dialog.getByRole("heading")).toHaveText("Confirm step 3 of 5");
  await page.keyboard.press("a");
  await expect(stage()).toHaveText("Done", { timeout: 20_000 });
  expect(await target.clicks()).toEqual(["save", "archive", "save"]);
  // The focus is back in the instruction box, ready for the next instruction.
  await expect(instructionBox()).toBeFocused();
});
