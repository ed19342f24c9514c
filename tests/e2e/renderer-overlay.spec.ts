import { expect, type Page, test, type WebSocketRoute } from "@playwright/test";
import { RunState } from "../../src-shared/bridge-api";
import { BridgeServerFrame } from "../../src-shared/bridge-wire";
import type { Plan } from "../../src-shared/plan";
import type { HeadlessApp } from "./headless-app";
import {
  brokenPlan,
  collectPageErrors,
  draftPlan,
  openOverlay,
  registerOverlaySession,
  savePlan,
  shoot,
  type TargetWindow,
  type TestBridge,
} from "./renderer-helpers";

/**
 * The overlay's states in Chromium through the headless entry, against the
 * real services: a real host, real captures of the Xvfb display, and real
 * clicks into a real target window. Plans come from `runPlan` so they are
 * known; typed instructions go to the real planner and are cancelled or end
 * in whatever error it gives. Screenshots go to test-reports/screenshots/.
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

const dialog = () => page.getByRole("dialog");
const stage = () => page.getByTestId("stage");
const steps = () => page.getByTestId("plan-step");
const instructionBox = () => page.getByRole("textbox", { name: "Instruction" });
const restButton = () => dialog().getByRole("button", { name: /rest of the low-risk/ });

/** The run a bridge frame carries, when it is still planning and already shows a streamed step. */
function planningRunWithSteps(message: string | Buffer): RunState | undefined {
  const frame = BridgeServerFrame.parse(JSON.parse(String(message)));
  if (frame.kind !== "event" || frame.event !== "run") return undefined;
  const run = RunState.parse(frame.payload);
  return run.stage === "planning" && run.steps.length > 0 ? run : undefined;
}

async function runPlan(instruction: string, plan: Plan) {
  await target.reset();
  await bridge.call("runPlan", { instruction, plan });
}

/** Records every stage the overlay shows from now on, so fast stages are not missed between polls. */
async function recordStages(): Promise<() => Promise<string[]>> {
  await page.evaluate(() => {
    const seen: string[] = [];
    (window as unknown as { seenStages: string[] }).seenStages = seen;
    const note = () => {
      const value = document.querySelector("[data-testid=stage]")?.getAttribute("data-stage");
      if (value && seen.at(-1) !== value) seen.push(value);
    };
    new MutationObserver(note).observe(document.body, { subtree: true, childList: true, attributes: true });
  });
  return () => page.evaluate(() => (window as unknown as { seenStages: string[] }).seenStages);
}

test("idle: the instruction box has the focus, the profile and host are shown", async () => {
  await expect(stage()).toHaveText("Ready");
  await expect(instructionBox()).toBeFocused();
  await expect(page.getByTestId("profile")).toContainText("embedded");
  await shoot(page, "01-idle");
});

test("plan view and confirmation: crop with the target highlighted, risk reasons; skip, confirm, confirm the rest", async () => {
  await runPlan("Tidy up the quarterly draft", await draftPlan(target));
  await expect(dialog()).toBeVisible({ timeout: 60_000 });
  await expect(dialog()).toBeFocused();
  await expect(dialog().getByRole("heading")).toHaveText("Confirm step 2 of 5");
  await expect(dialog()).toContainText("Delete draft");
  await expect(dialog().getByTestId("risk-reasons")).toContainText("may not be undoable");
  await expect(dialog().getByTestId("target-crop")).toBeVisible();
  await expect(dialog().getByTestId("target-highlight")).toBeVisible();
  // The highlight sits inside the crop, around the Delete button.
  const crop = await dialog().getByTestId("target-crop").locator(".crop-view").boundingBox();
  const ring = await dialog().getByTestId("target-highlight").boundingBox();
  expect(crop && ring && ring.x > crop.x && ring.x + ring.width < crop.x + crop.width).toBe(true);
  // A high-risk step never offers "confirm the rest".
  await expect(restButton()).toHaveCount(0);

  // The plan behind the dialog: the no-risk wait ran by itself, the Delete step waits for the user.
  await expect(steps()).toHaveCount(5);
  await expect(steps().nth(0)).toHaveAttribute("data-status", "done");
  await expect(steps().nth(1)).toHaveAttribute("data-status", "waiting");
  await expect(steps().nth(1)).toHaveAttribute("data-risk", "high");
  await expect(steps().nth(1).getByTestId("step-status")).toHaveText("waiting for you");
  await expect(steps().nth(2).getByTestId("step-action")).toContainText(/Click point \(\d+, \d+\)/);
  await expect(steps().nth(0).getByTestId("step-action")).toHaveText("Wait 200 ms");
  await shoot(page, "02-confirm-high-risk");

  // S skips the risky step: nothing is clicked.
  await page.keyboard.press("s");
  await expect(steps().nth(1)).toHaveAttribute("data-status", "skipped");
  await expect(dialog().getByRole("heading")).toHaveText("Confirm step 3 of 5");
  await expect(restButton()).toBeVisible();
  await shoot(page, "03-confirm-low-risk-after-skip");

  // Enter confirms: Save is really clicked.
  await page.keyboard.press("Enter");
  await expect(steps().nth(2)).toHaveAttribute("data-status", "done", { timeout: 20_000 });
  await expect(dialog().getByRole("heading")).toHaveText("Confirm step 4 of 5");
  // A confirms this step and the low-risk one after it without asking again.
  await page.keyboard.press("a");
  await expect(stage()).toHaveText("Done", { timeout: 20_000 });
  await expect(steps().nth(4)).toHaveAttribute("data-status", "done");
  await expect(page.getByTestId("finished")).toHaveText("Finished: 4 steps performed, 1 step skipped.");
  expect(await target.clicks()).toEqual(["save", "archive", "save"]);
  await shoot(page, "04-plan-done-with-skip");
});

test("a stopped run: Esc in the dialog stops it and nothing is clicked", async () => {
  await runPlan("Save and archive the draft", await savePlan(target));
  await expect(dialog()).toBeVisible({ timeout: 60_000 });
  await page.keyboard.press("Escape");
  await expect(stage()).toHaveText("Stopped");
  await expect(dialog()).toHaveCount(0);
  await expect(page.getByTestId("stopped")).toHaveText(
    "Stopped before any step was performed; nothing more will be done for this instruction.",
  );
  // The question it stopped at is no longer "waiting for you".
  await expect(steps().nth(0).getByTestId("step-status")).toHaveText("not run");
  await expect(instructionBox()).toBeFocused();
  expect(await target.clicks()).toEqual([]);
  await shoot(page, "05-stopped");
});

test("a typed instruction shows capturing, observing and planning, and Esc cancels it", async () => {
  const stages = await recordStages();
  await instructionBox().fill("Export the quarterly report as PDF");
  await instructionBox().press("Enter");
  await expect(stage()).toHaveAttribute("data-stage", /planning|confirming|failed|done/, { timeout: 60_000 });
  await expect(page.getByTestId("run-instruction")).toHaveText("Export the quarterly report as PDF");
  const reached = await stage().getAttribute("data-stage");
  if (reached === "planning") {
    await expect(page.getByRole("list", { name: "Stages" }).locator("[aria-current=step]")).toHaveText(/Plan/);
    await shoot(page, "06-planning");
    await page.keyboard.press("Escape");
    await expect(stage()).toHaveText("Stopped", { timeout: 10_000 });
  } else {
    await shoot(page, `06-instruction-${reached}`);
    if (reached === "confirming") {
      await page.keyboard.press("Escape");
      await expect(stage()).toHaveText("Stopped", { timeout: 10_000 });
    }
  }
  const seen = await stages();
  expect(seen.slice(seen.indexOf("capturing"), seen.indexOf("capturing") + 3)).toEqual([
    "capturing",
    "observing",
    "planning",
  ]);
});

test("planning: each step shows as soon as the planner has written it, before the plan is complete", async ({
  browser,
}) => {
  // A page of its own whose bridge socket the test routes: once the real planner's stream has produced a
  // whole step, later frames wait, so the screenshot catches the plan half-written however fast it ends.
  const watched = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  const errors = collectPageErrors(watched);
  let held: (string | Buffer)[] | undefined;
  let caught = false; // hold once only: later planning frames pass
  let toPage: WebSocketRoute | undefined;
  let sawStreamedStep!: (run: RunState) => void;
  const streamedStep = new Promise<RunState>((resolve) => {
    sawStreamedStep = resolve;
  });
  await watched.routeWebSocket(/\/bridge/, (client) => {
    toPage = client;
    const server = client.connectToServer();
    client.onMessage((message) => server.send(message));
    server.onMessage((message) => {
      if (held) {
        held.push(message);
        return;
      }
      client.send(message);
      const run = caught ? undefined : planningRunWithSteps(message);
      if (run) {
        caught = true;
        held = [];
        sawStreamedStep(run);
      }
    });
  });
  try {
    await openOverlay(watched, app.url);
    const box = watched.getByRole("textbox", { name: "Instruction" });
    await box.fill("Type hello into the name field, then press Enter");
    await box.press("Enter");
    const run = await streamedStep;
    const shown = watched.getByTestId("plan-step");
    await expect(watched.getByTestId("stage")).toHaveAttribute("data-stage", "planning");
    await expect(shown).toHaveCount(run.steps.length);
    // The plan's length is not known until the planner has finished.
    await expect(shown.first()).toHaveAccessibleName(/^Step 1: /);
    await expect(shown.first()).toHaveAttribute("data-status", "pending");
    await expect(watched.getByTestId("planning-more")).toBeVisible();
    await shoot(watched, "06b-planning-streamed-step");

    // The held frames go through in order; the run carries on from where it was, and Esc stops it.
    const backlog = held ?? [];
    held = undefined;
    for (const message of backlog) toPage?.send(message);
    await watched.keyboard.press("Escape");
    await expect(watched.getByTestId("stage")).toHaveAttribute("data-stage", /cancelled|done|failed/, {
      timeout: 15_000,
    });
    expect(errors.join("\n"), "console errors on the watched page").toBe("");
  } finally {
    await watched.close();
  }
});

test("Esc during capture or observe cancels the run at once", async () => {
  await instructionBox().fill("Open the settings");
  await instructionBox().press("Enter");
  await expect(stage()).toHaveAttribute("data-stage", /capturing|observing/);
  await shoot(page, "07-observing");
  await page.keyboard.press("Escape");
  await expect(stage()).toHaveText("Stopped", { timeout: 15_000 });
  await expect(steps()).toHaveCount(0);
});

test("a failed step: the error says what failed and offers Retry and Rephrase", async () => {
  await runPlan("Publish the report", brokenPlan);
  await expect(dialog()).toBeVisible({ timeout: 60_000 });
  await expect(dialog().getByTestId("confirm-action")).toContainText("Click element #999");
  await page.keyboard.press("Enter");
  const error = page.getByRole("alert");
  await expect(error).toBeVisible({ timeout: 20_000 });
  await expect(page.getByTestId("error")).toHaveAttribute("data-code", "step_failed");
  await expect(steps().nth(0)).toHaveAttribute("data-status", "failed");
  await expect(error.getByRole("button", { name: "Retry" })).toBeVisible();
  await expect(error.getByRole("button", { name: "Rephrase" })).toBeVisible();
  await shoot(page, "08-error-step-failed");

  // Retry starts the instruction again; Esc cancels that one.
  await error.getByRole("button", { name: "Retry" }).click();
  await expect(stage()).toHaveAttribute("data-stage", /capturing|observing|planning/);
  await expect(page.getByTestId("error")).toHaveCount(0);
  await page.keyboard.press("Escape");
  await expect(stage()).toHaveText("Stopped", { timeout: 15_000 });

  // Rephrase puts the words back into the box to be reworded.
  await runPlan("Publish the report", brokenPlan);
  await expect(dialog()).toBeVisible({ timeout: 60_000 });
  await page.keyboard.press("Enter");
  await page.getByRole("alert").getByRole("button", { name: "Rephrase" }).click();
  await expect(instructionBox()).toHaveValue("Publish the report");
  await expect(instructionBox()).toBeFocused();
  await expect(stage()).toHaveText("Ready");
});

test("host down: the overlay says the host is restarting, and clears when it is back", async () => {
  const status = await bridge.call("getHostStatus", {});
  expect(status.phase).toBe("ready");
  if (status.phase !== "ready") return;
  process.kill(status.pid, "SIGKILL");
  const banner = page.getByTestId("host-banner");
  await expect(banner).toContainText(/Restarting…|starting…/, { timeout: 15_000 });
  await expect(page.getByTestId("host-status")).not.toContainText("Host ready");
  await shoot(page, "09-host-restarting");
  await expect(page.getByTestId("host-status")).toContainText("Host ready", { timeout: 90_000 });
  await expect(banner).toHaveCount(0);
});
