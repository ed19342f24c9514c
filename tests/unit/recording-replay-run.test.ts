import { describe, expect, it } from "vitest";
import { describeTargetAt } from "../../src-main/recording/element-description";
import { RecordingManifest } from "../../src-main/recording/recording-manifest";
import { toReplayPlan } from "../../src-main/recording/replay-plan";
import { ReplayPlanner } from "../../src-main/recording/replay-planner";
import { type StepFacts, templateStepText } from "../../src-main/recording/step-text";
import type { DisplayInfo, RunState, ScreenElement } from "../../src-shared/bridge-api";
import { runManagerHarness } from "../support/run-manager-harness";

/**
 * A recording replayed through the app's normal run flow: the real RunManager
 * (confirmations, the closed loop) with the ReplayPlanner, and the real
 * executor over a DesktopIO that records what it would have done.
 */
const DISPLAY: DisplayInfo = {
  id: "0",
  name: "s",
  bounds: { x: 0, y: 0, width: 1920, height: 1080 },
  primary: true,
  scaleFactor: 1,
};

const LAYOUT: Array<[string, number, number, number, number]> = [
  ["Name", 136, 233, 73, 27],
  ["Password", 138, 313, 108, 27],
  ["Save", 342, 557, 58, 29],
];

const screenAt = (dx: number, dy: number, without: string[] = []): ScreenElement[] =>
  LAYOUT.filter(([text]) => !without.includes(text)).map(([text, x, y, width, height], i) => ({
    id: i + 1,
    kind: "text",
    text,
    confidence: 0.9,
    box: { x: x + dx, y: y + dy, width, height },
  }));

const RECORDED = screenAt(0, 0);
const at = (x: number, y: number) => ({ x, y });
const target = (x: number, y: number) => describeTargetAt(at(x, y), RECORDED, DISPLAY);

function recording(withPassword = false): RecordingManifest {
  const facts: StepFacts[] = [
    { kind: "click", time: 1, at: at(172, 246), button: "left", count: 1, target: target(172, 246) },
    {
      kind: "type",
      time: 2,
      typed: { kind: "text", text: "Ada Lovelace", incomplete: false },
      field: target(172, 246),
      focusedBy: 1,
    },
    ...(withPassword
      ? ([
          { kind: "click", time: 3, at: at(192, 326), button: "left", count: 1, target: target(192, 326) },
          { kind: "type", time: 4, typed: { kind: "secret" }, field: target(192, 326), focusedBy: 3 },
        ] satisfies StepFacts[])
      : []),
    { kind: "click", time: 8, at: at(371, 571), button: "left", count: 1, target: target(371, 571) },
  ];
  return RecordingManifest.parse({
    format: "sightline-recording",
    version: 1,
    id: "20250101-120000-abcdef",
    title: "Form",
    createdAt: "2025-01-01T12:00:00.000Z",
    status: "complete",
    display: DISPLAY,
    settings: {},
    steps: facts.map((f, i) => ({ ...f, index: i + 1, sentence: templateStepText(f) })),
  });
}

/** Each look sees the next screen (the last repeats); the app's own planner must never be asked. */
function setup(screens: ScreenElement[][]) {
  const harness = runManagerHarness({
    display: DISPLAY,
    screens,
    planner: () => {
      throw new Error("a replay must not reach the app's planner");
    },
    confirmation: "each",
  });
  const replay = (manifest: RecordingManifest) => {
    const planner = new ReplayPlanner(toReplayPlan(manifest));
    return harness.manager.start("Replay: Form", undefined, { planner, limits: planner.limits });
  };
  return { ...harness, replay };
}

const moves = (io: { calls: string[] }) => io.calls.filter((c) => c.startsWith("moveTo"));
/** All the text typed, however the executor chunked it. */
const typed = (io: { calls: string[] }) =>
  io.calls
    .filter((c) => c.startsWith("typeText("))
    .map((c) => JSON.parse(c.slice("typeText(".length, -1)) as string)
    .join("");

describe("replaying a recording as a run", () => {
  it("finds every step again on a moved window, asks before each one, and acts where the elements are now", async () => {
    const moved = screenAt(400, 150);
    const { io, replay, confirmAll, confirmations, looks, states } = setup([moved]);
    const { runId } = replay(recording());
    const state = await confirmAll(runId);
    expect(state.stage, JSON.stringify(state.error)).toBe("done");
    expect(state.planner).toBe("replay");
    expect(state.totalSteps).toBe(3); // what the dialog counts: the recording, not the one step planned so far
    expect(confirmations()).toBe(3);
    expect(state.steps.map((s) => [s.description, s.status])).toEqual([
      ["Step 1 of 3: Click **Name**", "done"],
      ['Step 2 of 3: Type "Ada Lovelace" in **Name**', "done"],
      ["Step 3 of 3: Click **Save**", "done"],
    ]);
    // The clicks land on the moved elements (recorded at 172,246 and 371,571), never on the recorded points.
    expect(moves(io)).toEqual(["moveTo(572,396)", "moveTo(771,721)"]);
    expect(typed(io)).toBe("Ada Lovelace");
    // One look before the first step, and a fresh one before each later step.
    expect(looks()).toBe(3);
    // The steps appeared one at a time, each planned on a fresh look: never all three before the first ran.
    const firstWithThree = states.findIndex((s) => s.steps.length === 3);
    expect(states.slice(0, firstWithThree).some((s) => s.steps[0]?.status === "done")).toBe(true);
  });

  it("stops at a step whose element is gone, without acting on the recorded point", async () => {
    const { io, replay, confirmAll } = setup([screenAt(0, 0), screenAt(0, 0), screenAt(0, 0, ["Save"])]);
    const { runId } = replay(recording());
    const state = await confirmAll(runId);
    expect(state.stage).toBe("failed");
    expect(state.error?.code).toBe("target_not_found");
    expect(state.error?.message).toContain("Save");
    // Name was clicked and typed into; Save was never clicked, not even at its recorded place.
    expect(moves(io)).toEqual(["moveTo(172,246)"]);
    expect(io.calls.filter((c) => c.startsWith("click"))).toHaveLength(1);
  });

  it("fails at once when the first step cannot be found, before any confirmation", async () => {
    const { io, replay, confirmAll, confirmations } = setup([screenAt(0, 0, ["Name"])]);
    const { runId } = replay(recording());
    const state = await confirmAll(runId);
    expect(state).toMatchObject({ stage: "failed", error: { code: "target_not_found" } });
    expect(confirmations()).toBe(0);
    expect(io.calls).toEqual([]);
  });

  it("stops at typing the recording did not keep and asks the user, never typing anything there", async () => {
    const { io, replay, confirmAll } = setup([screenAt(0, 0)]);
    const { runId } = replay(recording(true));
    const state = await confirmAll(runId);
    expect(state.stage).toBe("failed");
    expect(state.error?.code).toBe("planner_asks");
    expect(state.error?.message).toContain("password");
    expect(typed(io)).toBe("Ada Lovelace");
  });

  it("stops with the user's Stop: no later step runs", async () => {
    const { io, manager, replay } = setup([screenAt(0, 0)]);
    const { runId } = replay(recording());
    const ended = new Promise<RunState>((resolve) => {
      manager.on("run", (state) => {
        if (state.confirmation) queueMicrotask(() => manager.decide(runId, "stop"));
        if (["done", "failed", "cancelled"].includes(state.stage)) resolve(state);
      });
    });
    expect((await ended).stage).toBe("cancelled");
    expect(io.calls).toEqual([]);
  });
});
