import { describe, expect, it } from "vitest";
import { resolveTarget } from "../../src-main/actions/executor";
import {
  groundDescribed,
  NoPointingModel,
  type PointOnScreenshot,
  TargetNotFound,
} from "../../src-main/agent/grounding";
import { imagePointToDesktop } from "../../src-main/agent/observe";
import { planSchemaFor } from "../../src-main/agent/openai-planner";
import type { Planner, PlanRequest } from "../../src-main/agent/planner";
import { elementCharBudget, systemPrompt } from "../../src-main/agent/prompt";
import { toGeometry } from "../../src-main/capture/geometry";
import { describeAction, describeTarget } from "../../src-renderer/src/format/describe-action";
import type { DisplayInfo, ScreenElement } from "../../src-shared/bridge-api";
import { PLANNER_LIMITS, Plan, planJsonSchema, SENTENCE_PATTERN } from "../../src-shared/plan";
import { captureOf as captureOfDisplay, runManagerHarness } from "../support/run-manager-harness";

/** A display left of and below the primary one, at twice the density: offsets and scale both show. */
const display: DisplayInfo = {
  id: "1",
  name: "side",
  bounds: { x: -1920, y: 100, width: 1920, height: 1080 },
  primary: false,
  scaleFactor: 2,
};
const captureOf = (name: string) => captureOfDisplay(display, name);

const describedKinds = (schema: unknown): number => (JSON.stringify(schema).match(/"const":"described"/g) ?? []).length;

describe("the plan schema's described target", () => {
  it("is offered to the planner only where the host can point", () => {
    expect(describedKinds(planJsonSchema([1, 2], { canPoint: false }))).toBe(0);
    // click, move, drag (from, to), scroll and type each take a target.
    expect(describedKinds(planJsonSchema([1, 2], { canPoint: true }))).toBe(6);
    const request = { instruction: "x", display, elements: [] } satisfies PlanRequest;
    expect(describedKinds(planSchemaFor(request))).toBe(0);
    expect(describedKinds(planSchemaFor({ ...request, canPoint: true }))).toBe(6);
  });

  it("keeps the description bounded and free of pictographs for decoding", () => {
    const found: Array<{ description: { maxLength: number; pattern: string } }> = [];
    const walk = (node: unknown): void => {
      if (node === null || typeof node !== "object") return;
      const properties = (node as { properties?: { kind?: { const?: unknown } } }).properties;
      if (properties?.kind?.const === "described") found.push(properties as (typeof found)[number]);
      for (const child of Object.values(node)) walk(child);
    };
    expect(describedKinds(planJsonSchema())).toBe(0);
    walk(planJsonSchema([], { canPoint: true }));
    expect(found).toHaveLength(6);
    const [described] = found;
    if (!described) throw new Error("no described target in the schema");
    expect(described.description.maxLength).toBe(PLANNER_LIMITS.maxSentence);
    expect(described.description.pattern).toBe(SENTENCE_PATTERN);
  });

  it("parses in a plan, and the app's schema bounds it too", () => {
    const step = (description: string) => ({
      description: "Click the gear",
      action: { type: "click", target: { kind: "described", description } },
    });
    expect(Plan.safeParse({ steps: [step("the gear icon at the top right")] }).success).toBe(true);
    expect(Plan.safeParse({ steps: [step("")] }).success).toBe(false);
    expect(Plan.safeParse({ steps: [step("x".repeat(201))] }).success).toBe(false);
  });

  it("is explained in the prompt only where it can be used", () => {
    expect(systemPrompt(false)).not.toContain('"described"');
    expect(systemPrompt(true)).toContain('"kind":"described"');
    const request = { instruction: "x", display, elements: [] } satisfies PlanRequest;
    // The longer system prompt leaves less room for element lines.
    expect(elementCharBudget(2048, 768, { ...request, canPoint: true })).toBeLessThan(
      elementCharBudget(2048, 768, request),
    );
  });
});

describe("a described target in the confirmation's words", () => {
  it("shows the description and that the VLM found it", () => {
    const action = {
      type: "click",
      target: { kind: "described", description: "the gear icon" },
      button: "left",
      count: 1,
    } as const;
    expect(describeAction(action)).toBe("Click “the gear icon”");
    expect(describeTarget(action, [])).toBe("“the gear icon” (found by the VLM; check the highlight)");
  });
});

describe("grounding a described target", () => {
  it("maps a point in the host's image pixels to desktop pixels by the display's offset and scale", () => {
    // The host saw a half-size copy (960×540) of the 1920×1080 display at (-1920, 100).
    expect(imagePointToDesktop({ x: 480, y: 270 }, { width: 960, height: 540 }, display)).toEqual({ x: -960, y: 640 });
    expect(imagePointToDesktop({ x: 0, y: 0 }, { width: 960, height: 540 }, display)).toEqual({ x: -1920, y: 100 });
    expect(imagePointToDesktop({ x: 10, y: 20 }, { width: 1920, height: 1080 }, display)).toEqual({ x: -1910, y: 120 });
  });

  it("takes the vlm's first point, and fails without one instead of guessing", async () => {
    const signal = new AbortController().signal;
    const found: PointOnScreenshot = async () => ({
      points: [
        { x: 100, y: 50 },
        { x: 5, y: 5 },
      ],
      image_width: 960,
      image_height: 540,
    });
    expect(await groundDescribed("the gear", captureOf("a"), found, signal)).toEqual({ x: -1720, y: 200 });
    const none: PointOnScreenshot = async () => ({ points: [], image_width: 960, image_height: 540 });
    await expect(groundDescribed("the gear", captureOf("a"), none, signal)).rejects.toThrow(TargetNotFound);
    await expect(groundDescribed("the gear", captureOf("a"), none, signal)).rejects.toThrow(
      'the VLM did not find "the gear" on the screen; nothing was clicked',
    );
    await expect(groundDescribed("the gear", captureOf("a"), undefined, signal)).rejects.toThrow(NoPointingModel);
  });

  it("is refused by the executor until grounded", () => {
    const target = { kind: "described", description: "the gear" } as const;
    const displays = [toGeometry(display)];
    expect(() => resolveTarget(target, { displays })).toThrow(/not found on the last screen by the VLM/);
    const describedPoints = new Map([["the gear", { x: -1000, y: 500 }]]);
    expect(resolveTarget(target, { displays, describedPoints })).toEqual({ x: -1000, y: 500, displayId: "1" });
  });
});

const gear: Plan = Plan.parse({
  steps: [
    {
      description: "Click the gear icon",
      action: { type: "click", target: { kind: "described", description: "the gear icon at the top right" } },
    },
    { description: "Finish", action: { type: "done", summary: "done" } },
  ],
});

type PointCall = { capture: string; query: string };

const setup = (plan: Plan, point: PointOnScreenshot | undefined, options: { canPoint?: boolean } = {}) => {
  const requests: PlanRequest[] = [];
  const planner: Planner = {
    name: "fixed",
    plan: async (request) => {
      requests.push(request);
      return plan;
    },
  };
  const elements: ScreenElement[] = [
    { id: 1, kind: "button", text: "Open", confidence: 0.9, box: { x: -1900, y: 110, width: 100, height: 30 } },
  ];
  const harness = runManagerHarness({
    display,
    screens: [elements],
    planner: () => planner,
    confirmation: "each",
    ...(point ? { point } : {}),
    ...(options.canPoint !== undefined ? { canPoint: async () => options.canPoint as boolean } : {}),
  });
  return { ...harness, requests };
};

/** A fake vlm that answers from a table of capture → point, recording what it was asked on which screenshot. */
function fakeVlm(answers: Record<string, { x: number; y: number } | undefined>) {
  const calls: PointCall[] = [];
  const point: PointOnScreenshot = async (capture, query) => {
    const name = capture.png.toString();
    calls.push({ capture: name, query });
    const found = answers[name];
    return { points: found ? [found] : [], image_width: 960, image_height: 540 };
  };
  return { calls, point };
}

describe("RunManager with described targets", () => {
  it("grounds the target on the plan's screenshot before asking, and clicks the point the user confirmed", async () => {
    const vlm = fakeVlm({ "screen 1": { x: 480, y: 270 } });
    const { io, requests, manager, waitingOn, finished } = setup(gear, vlm.point, { canPoint: true });
    const { runId } = manager.start("open the settings");
    const asking = await waitingOn(0);
    expect(requests[0]?.canPoint).toBe(true);
    expect(vlm.calls).toEqual([{ capture: "screen 1", query: "the gear icon at the top right" }]);
    expect(io.calls).toEqual([]);
    // The highlight is on the grounded point (-960, 640) desktop px, in the screenshot's pixels: (960, 540) ± 12.
    expect(asking.steps[0]?.targetBox).toEqual({ x: 948, y: 528, width: 24, height: 24 });
    manager.decide(runId, "confirm");
    const end = await finished();
    expect(end.stage).toBe("done");
    expect(io.calls[0]).toBe("moveTo(-960,640)");
    expect(io.calls).toContain('click("left",1)');
  });

  it("fails the step without asking or clicking when the vlm finds nothing", async () => {
    const vlm = fakeVlm({});
    const { io, states, manager, finished } = setup(gear, vlm.point, { canPoint: true });
    manager.start("open the settings");
    const end = await finished();
    expect(end.stage).toBe("failed");
    expect(end.error?.code).toBe("step_failed");
    expect(end.error?.message).toContain('the VLM did not find "the gear icon at the top right"');
    expect(end.steps[0]?.status).toBe("failed");
    expect(states.some((s) => s.confirmation !== undefined)).toBe(false);
    expect(io.calls).toEqual([]);
  });

  it("fails the run with the host's reason when there is no vlm to point", async () => {
    const { io, requests, manager, finished } = setup(gear, undefined);
    manager.start("open the settings");
    const end = await finished();
    expect(requests[0]?.canPoint).toBe(false);
    expect(end.stage).toBe("failed");
    expect(end.error?.code).toBe("model_unavailable");
    expect(end.error?.message).toContain("needs the host's VLM");
    expect(io.calls).toEqual([]);
  });

  it("does not offer described targets when the host says it cannot point", async () => {
    const { requests, manager, waitingOn } = setup(gear, fakeVlm({ "screen 1": { x: 1, y: 1 } }).point, {
      canPoint: false,
    });
    const { runId } = manager.start("open the settings");
    await waitingOn(0);
    expect(requests[0]?.canPoint).toBe(false);
    manager.cancel(runId);
  });

  it("grounds again on the fresh screenshot after a step, never reusing the old point", async () => {
    const twice: Plan = Plan.parse({
      steps: [
        { description: "Click **Open**", action: { type: "click", target: { kind: "element", elementId: 1 } } },
        {
          description: "Click the gear icon",
          action: { type: "click", target: { kind: "described", description: "the gear" } },
        },
        { description: "Finish", action: { type: "done", summary: "done" } },
      ],
    });
    // The gear moved once Open was clicked; on the first screen the vlm would have found it elsewhere.
    const vlm = fakeVlm({ "screen 1": { x: 10, y: 10 }, "screen 2": { x: 100, y: 200 } });
    const { io, manager, waitingOn, finished } = setup(twice, vlm.point, { canPoint: true });
    const { runId } = manager.start("open the settings");
    await waitingOn(0);
    expect(vlm.calls).toEqual([]);
    manager.decide(runId, "confirm");
    const asking = await waitingOn(1);
    expect(vlm.calls).toEqual([{ capture: "screen 2", query: "the gear" }]);
    // (100, 200) of 960×540 is (-1720, 500) desktop px, (200, 400) on the screenshot.
    expect(asking.steps[1]?.targetBox).toEqual({ x: 188, y: 388, width: 24, height: 24 });
    manager.decide(runId, "confirm");
    expect((await finished()).stage).toBe("done");
    expect(io.calls).toContain("moveTo(-1720,500)");
    expect(io.calls.some((c) => c.startsWith("moveTo(-1900"))).toBe(false);
  });
});
