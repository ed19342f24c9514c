import { describe, expect, it } from "vitest";
import type { Planner, PlanRequest } from "../../src-main/agent/planner";
import type { LoopLimits } from "../../src-main/agent/run-manager";
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

const el = (id: number, kind: ScreenElement["kind"], text: string, x: number, y: number): ScreenElement => ({
  id,
  kind,
  text,
  confidence: 0.9,
  box: { x, y, width: 80, height: 20 },
});

const click = (elementId: number, description: string, expectText?: string) => ({
  description,
  action: { type: "click", target: { kind: "element", elementId } },
  ...(expectText ? { expect: expectText } : {}),
});
const done = { description: "Finish", action: { type: "done", summary: "finished" } };

/** A planner that answers its scripted plans in turn and keeps what it was asked. */
function scriptedPlanner(plans: unknown[]): Planner & { requests: PlanRequest[] } {
  const requests: PlanRequest[] = [];
  return {
    name: "scripted",
    requests,
    plan: async (request) => {
      requests.push(request);
      const next = plans[Math.min(requests.length - 1, plans.length - 1)];
      return Plan.parse(next);
    },
  };
}

/** Each look at the screen sees the next of these element lists (the last one repeats). */
const setup = (planner: Planner, screens: ScreenElement[][], limits?: LoopLimits) =>
  runManagerHarness({ display, screens, planner: () => planner, confirmation: "batch-low-risk", limits });

const clicks = (io: { calls: string[] }) => io.calls.filter((c) => c.startsWith("click"));

describe("the closed loop", () => {
  it("ends the run at a done step: what the plan listed after it is skipped, not performed", async () => {
    const screen = [el(1, "button", "Save", 100, 100), el(2, "button", "Delete", 300, 100)];
    const { io, manager, confirmAll } = setup(
      scriptedPlanner([{ steps: [click(1, "Click **Save**"), done, click(2, "Click **Delete**")] }]),
      [screen],
    );
    const end = await confirmAll(manager.start("save").runId);
    expect(end.stage).toBe("done");
    expect(end.steps.map((s) => s.status)).toEqual(["done", "done", "skipped"]);
    expect(clicks(io)).toHaveLength(1);
  });

  it("looks again after a step, re-finds its target where it moved, and clicks it there", async () => {
    const first = [el(1, "text_field", "Name", 100, 100), el(2, "button", "Save", 100, 300)];
    // After the first click a banner pushes the Save button 40 px down.
    const second = [
      el(5, "text", "Editing", 0, 0),
      el(6, "text_field", "Name", 100, 100),
      el(7, "button", "Save", 100, 340),
    ];
    const { io, manager, confirmAll, looks } = setup(
      scriptedPlanner([{ steps: [click(1, "Click **Name**"), click(2, "Click **Save**"), done] }]),
      [first, second],
    );
    const end = await confirmAll(manager.start("save").runId);
    expect(end.stage).toBe("done");
    expect(looks()).toBe(2);
    expect(io.calls).toContain("moveTo(140,350)");
    expect(io.calls).not.toContain("moveTo(140,310)");
    expect(end.elements.find((e) => e.text === "Save")?.id).toBe(2);
    expect(end.timingsMs.verify).toBeGreaterThanOrEqual(0);
  });

  it("checks a step's expected change, and replans from the new screen when it is missing", async () => {
    const before = [el(1, "button", "Save", 100, 100)];
    const after = [
      el(1, "button", "Save", 100, 100),
      el(2, "text", "Disk full", 100, 200),
      el(3, "button", "Retry", 100, 250),
    ];
    const planner = scriptedPlanner([
      { steps: [click(1, "Click **Save**", 'A banner says "Saved"'), done] },
      { steps: [click(3, "Click **Retry**"), done] },
    ]);
    const { io, manager, confirmAll } = setup(planner, [before, after]);
    const end = await confirmAll(manager.start("save the file").runId);
    expect(end.stage).toBe("done");
    expect(planner.requests).toHaveLength(2);
    const replan = planner.requests[1];
    expect(replan?.progress?.done).toEqual(["Click **Save**"]);
    expect(replan?.progress?.problem).toContain('"saved"');
    expect(replan?.elements.map((e) => e.text)).toContain("Retry");
    expect(end.steps.map((s) => [s.round, s.status])).toEqual([
      [1, "done"],
      [1, "skipped"],
      [2, "done"],
      [2, "done"],
    ]);
    expect(end.steps[0]?.check).toMatchObject({ met: false });
    expect(clicks(io)).toHaveLength(2);
  });

  it("records a met expectation and carries on without replanning", async () => {
    const planner = scriptedPlanner([{ steps: [click(1, "Click **Save**", "**Saved**"), done] }]);
    const { manager, confirmAll } = setup(planner, [
      [el(1, "button", "Save", 100, 100)],
      [el(9, "text", "Saved", 0, 0)],
    ]);
    const end = await confirmAll(manager.start("save").runId);
    expect(end.stage).toBe("done");
    expect(end.steps[0]?.check).toMatchObject({ met: true });
    expect(planner.requests).toHaveLength(1);
  });

  it("replans when a later step's target is gone from the screen", async () => {
    const planner = scriptedPlanner([
      { steps: [click(1, "Click **Open**"), click(2, "Click **Export**"), done] },
      { steps: [done] },
    ]);
    const { io, manager, confirmAll } = setup(planner, [
      [el(1, "button", "Open", 100, 100), el(2, "button", "Export", 300, 100)],
      [el(1, "button", "Open", 100, 100)],
    ]);
    const end = await confirmAll(manager.start("export").runId);
    expect(end.stage).toBe("done");
    expect(planner.requests[1]?.progress?.problem).toContain("Export");
    expect(clicks(io)).toHaveLength(1);
    expect(end.steps[1]?.status).toBe("skipped");
  });

  it("stops and asks when the plans keep missing their expectation", async () => {
    const planner = scriptedPlanner([{ steps: [click(1, "Click **Save**", '"Saved"'), done] }]);
    const { io, manager, confirmAll } = setup(planner, [[el(1, "button", "Save", 100, 100)]], {
      maxActions: 24,
      maxRounds: 2,
    });
    const end = await confirmAll(manager.start("save").runId);
    expect(end.stage).toBe("failed");
    expect(end.error).toMatchObject({ code: "expectation_not_met", retryable: true });
    expect(planner.requests).toHaveLength(2);
    expect(clicks(io)).toHaveLength(2);
  });

  it("stops at the step budget", async () => {
    const screen = [el(1, "button", "Next", 100, 100)];
    const planner = scriptedPlanner([{ steps: [1, 2, 3, 4].map((n) => click(1, `Click **Next** (${n})`)) }]);
    const { io, manager, confirmAll } = setup(planner, [screen], { maxActions: 2, maxRounds: 3 });
    const end = await confirmAll(manager.start("next four times").runId);
    expect(end.stage).toBe("failed");
    expect(end.error?.code).toBe("step_budget");
    expect(clicks(io)).toHaveLength(2);
  });

  it("stops and shows the planner's question at an ask step", async () => {
    const planner = scriptedPlanner([
      { steps: [{ description: "Ask", action: { type: "ask", question: "Which file?" } }, click(1, "Click **Save**")] },
    ]);
    const { io, manager, confirmAll } = setup(planner, [[el(1, "button", "Save", 100, 100)]]);
    const end = await confirmAll(manager.start("save it").runId);
    expect(end.stage).toBe("failed");
    expect(end.error).toMatchObject({ code: "planner_asks", message: "Which file?" });
    expect(io.calls).toEqual([]);
  });

  it("cancels while it looks at the screen, and performs nothing more", async () => {
    const planner = scriptedPlanner([{ steps: [click(1, "Click **A**"), click(2, "Click **B**"), done] }]);
    const { io, manager, next, finished } = setup(planner, [
      [el(1, "button", "A", 100, 100), el(2, "button", "B", 300, 100)],
    ]);
    const { runId } = manager.start("a then b");
    await next((s) => s.confirmation !== undefined);
    manager.decide(runId, "confirm_low_risk_rest");
    await next((s) => s.stage === "verifying");
    manager.cancel(runId);
    const end = await finished();
    expect(end.stage).toBe("cancelled");
    expect(clicks(io)).toHaveLength(1);
  });

  it("shows each planned step while the plan still streams, and runs nothing before it has parsed", async () => {
    const plan = { steps: [click(1, "Click **Save**"), done] };
    const text = JSON.stringify(plan);
    const streaming: Planner = {
      name: "streaming",
      plan: async (_request, { onText }) => {
        for (let end = 1; end <= text.length; end++) onText?.(text.slice(0, end));
        return Plan.parse(plan);
      },
    };
    const { io, states, manager, confirmAll } = setup(streaming, [[el(1, "button", "Save", 100, 100)]]);
    const end = await confirmAll(manager.start("save").runId);
    const previews = states.filter((s) => s.stage === "planning" && s.steps.length > 0);
    expect(previews[0]?.steps).toHaveLength(1);
    expect(previews.at(-1)?.steps).toHaveLength(2);
    expect(
      states.filter((s) => s.stage === "planning").every((s) => s.steps.every((x) => x.status === "pending")),
    ).toBe(true);
    expect(end.steps).toHaveLength(2);
    expect(clicks(io)).toHaveLength(1);
  });
});
