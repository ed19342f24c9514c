import { describe, expect, it } from "vitest";
import type { DesktopIO } from "../../src-main/actions/desktop-io";
import { ActionExecutor } from "../../src-main/actions/executor";
import type { Risk } from "../../src-main/actions/policy";
import type { DisplayGeometry } from "../../src-main/coords/spaces";
import { describeTargetAt } from "../../src-main/recording/element-description";
import { RecordingManifest } from "../../src-main/recording/recording-manifest";
import { type LiveScreen, replayRecording } from "../../src-main/recording/replay";
import { toReplayPlan } from "../../src-main/recording/replay-plan";
import { type StepFacts, templateStepText } from "../../src-main/recording/step-text";
import type { Action } from "../../src-shared/actions";
import type { DisplayInfo, ScreenElement } from "../../src-shared/bridge-api";

const DISPLAY: DisplayInfo = {
  id: "0",
  name: "s",
  bounds: { x: 0, y: 0, width: 1920, height: 1080 },
  primary: true,
  scaleFactor: 1,
};
const GEOMETRY: DisplayGeometry[] = [
  {
    id: "0",
    originPx: { x: 0, y: 0 },
    originPt: { x: 0, y: 0 },
    sizePx: { width: 1920, height: 1080 },
    scaleFactor: 1,
  },
];

const LAYOUT: Array<[string, number, number, number, number]> = [
  ["Name", 136, 233, 73, 27],
  ["Password", 138, 313, 108, 27],
  ["Sendmeupdates", 182, 392, 198, 29],
  ["Volume", 136, 472, 90, 29],
  ["Tuesday 1", 771, 348, 115, 27],
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

function recording(): RecordingManifest {
  const facts: StepFacts[] = [
    { kind: "click", time: 1, at: at(408, 247), button: "left", count: 1, target: target(408, 247) },
    {
      kind: "type",
      time: 2,
      typed: { kind: "text", text: "Ada Lovelace", incomplete: false },
      field: target(408, 247),
      focusedBy: 1,
    },
    { kind: "click", time: 3, at: at(408, 327), button: "left", count: 1, target: target(408, 327) },
    { kind: "type", time: 4, typed: { kind: "secret" }, field: target(408, 327), focusedBy: 3 },
    { kind: "click", time: 5, at: at(154, 407), button: "left", count: 1, target: target(154, 407) },
    { kind: "drag", time: 6, from: at(308, 487), to: at(598, 487), button: "left", target: target(308, 487) },
    { kind: "scroll", time: 7, at: at(830, 361), dx: 0, dy: 3, target: target(830, 361) },
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

function fakeIO() {
  const log: string[] = [];
  const io: DesktopIO = {
    moveTo: async (x, y) => void log.push(`move ${Math.round(x)},${Math.round(y)}`),
    press: async (b) => void log.push(`press ${b}`),
    release: async (b) => void log.push(`release ${b}`),
    click: async (b, n) => void log.push(`click ${b}${n === 2 ? " x2" : ""}`),
    scroll: async (dx, dy) => void log.push(`scroll ${dx},${dy}`),
    beginTyping: async () => async () => {},
    typeText: async (text) => void log.push(`type ${text}`),
    pressKeys: async (keys) => void log.push(`keys ${keys.join("+")}`),
    releaseAll: async () => void log.push("release all"),
  };
  return { io, log };
}

/** The log with consecutive typing joined and the motion of a drag between press and release left out. */
function steps(log: string[]): string[] {
  const out: string[] = [];
  let dragging = false;
  for (const line of log) {
    if (line === "press left") dragging = true;
    if (line === "release left") dragging = false;
    const last = out.at(-1);
    if (dragging && line.startsWith("move")) continue;
    if (line.startsWith("type ") && last?.startsWith("type ")) out[out.length - 1] = last + line.slice(5);
    else out.push(line);
  }
  return out;
}

type Asked = { index: number; action: Action; risk: Risk };

async function replay(
  options: { screen?: LiveScreen; decision?: "confirm" | "skip" | "stop"; password?: string } = {},
) {
  const { io, log } = fakeIO();
  const asked: Asked[] = [];
  const textRequests: Array<{ index: number; secret: boolean }> = [];
  let looks = 0;
  const reports = await replayRecording({
    plan: toReplayPlan(recording()),
    look: async () => {
      looks++;
      return options.screen ?? { display: DISPLAY, elements: screenAt(300, 120) };
    },
    executor: new ActionExecutor(io),
    displays: GEOMETRY,
    settings: { mode: "each" },
    confirm: async (batch) => {
      asked.push(...batch);
      return options.decision ?? "confirm";
    },
    askText: async (request) => {
      textRequests.push({ index: request.index, secret: request.secret });
      return "password" in options ? options.password : "violet meadow 93";
    },
    signal: new AbortController().signal,
    settleMs: 0,
  });
  return { reports, log, asked, textRequests, looks };
}

describe("replaying a recording", () => {
  it("re-grounds every target on the moved window and performs each step only once confirmed", async () => {
    const { reports, log, asked, textRequests, looks } = await replay();
    expect(reports.map((r) => `${r.index}:${r.status}`)).toEqual(
      ["0", "1", "2", "3", "4", "5", "6", "7"].map((i) => `${i}:done`),
    );
    expect(asked.map((a) => a.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(steps(log)).toEqual([
      "move 708,367",
      "click left",
      "type Ada Lovelace",
      "move 708,447",
      "click left",
      "type violet meadow 93",
      "move 454,527",
      "click left",
      "move 608,607",
      "press left",
      "release left",
      "move 1130,481",
      "scroll 0,3",
      "move 671,691",
      "click left",
    ]);
    // The drag ends where it ended when recorded, relative to its anchor.
    expect(log.filter((l) => l.startsWith("move")).includes("move 898,607")).toBe(true);
    // One look per step that has something to find; typing into the focused field needs none.
    expect(looks).toBe(6);
    expect(textRequests).toEqual([{ index: 3, secret: true }]);
  });

  it("asks about the password step on its own, as high risk, and keeps the password out of its reports", async () => {
    const { reports, asked } = await replay();
    const password = asked.find((a) => a.index === 3);
    expect(password?.risk.level).toBe("high");
    expect(password?.risk.reasons.join(" ")).toMatch(/password/);
    expect(JSON.stringify(reports)).not.toContain("violet meadow 93");
    expect(reports[3]?.action).toEqual({ type: "type", text: "•••" });
  });

  it("skips the password step when no password is given", async () => {
    const { reports, log } = await replay({ password: undefined });
    expect(reports[3]).toMatchObject({ status: "skipped" });
    expect(log.join("\n")).not.toContain("violet");
    expect(reports.filter((r) => r.status === "done")).toHaveLength(7);
  });

  it("stops at a step whose element is not on the screen, without using the recorded point", async () => {
    const { reports, log } = await replay({ screen: { display: DISPLAY, elements: screenAt(300, 120, ["Save"]) } });
    expect(reports.at(-1)).toMatchObject({ index: 7, status: "not-found", detail: "not on the screen: Save" });
    expect(log.filter((l) => l.startsWith("click")).length).toBe(3);
    expect(log).not.toContain("move 371,571");
  });

  it("does nothing the user did not confirm", async () => {
    for (const decision of ["stop", "skip"] as const) {
      const { reports, log } = await replay({ decision });
      expect(log).toEqual([]);
      expect(reports.every((r) => r.status === (decision === "stop" ? "stopped" : "skipped"))).toBe(true);
      expect(reports).toHaveLength(decision === "stop" ? 1 : 8);
    }
  });
});
