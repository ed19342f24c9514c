import { describe, expect, it } from "vitest";
import { cropAround } from "../../src-renderer/src/format/crop";
import { describeAction, describeTarget } from "../../src-renderer/src/format/describe-action";
import {
  addEntry,
  caretOnFirstLine,
  caretOnLastLine,
  HISTORY_KEY,
  type HistoryNav,
  loadHistory,
  recallNewer,
  recallOlder,
} from "../../src-renderer/src/state/history";
import {
  canConfirmLowRiskRest,
  milestoneStates,
  shouldFollow,
  shownStepStatus,
} from "../../src-renderer/src/state/run-logic";
import { acceleratorProblem, fromDraft, toDraft } from "../../src-renderer/src/state/settings-form";
import { currentFailure, waysForward } from "../../src-renderer/src/state/ways-forward";
import type { Action } from "../../src-shared/actions";
import type { RunState, RunStep } from "../../src-shared/bridge-api";
import { Settings } from "../../src-shared/bridge-api";

const el = { kind: "element", elementId: 12 } as const;

describe("describeAction", () => {
  const cases: Array<[Action, string]> = [
    [{ type: "click", target: el, button: "left", count: 1 }, "Click element #12"],
    [{ type: "click", target: el, button: "right", count: 2 }, "Double-click element #12 with the right button"],
    [
      { type: "click", target: { kind: "point", space: "desktop_px", x: 10.4, y: 20.6 }, button: "left", count: 1 },
      "Click point (10, 21)",
    ],
    [{ type: "type", text: "Grüße" }, "Type “Grüße”"],
    [{ type: "type", text: "a\nb", target: el }, "Type “a⏎b” into element #12"],
    [{ type: "key", keys: ["LeftControl", "S"] }, "Press Ctrl+S"],
    [{ type: "scroll", dx: 0, dy: 3 }, "Scroll down 3"],
    [{ type: "scroll", dx: -2, dy: -1, target: el }, "Scroll up 1, left 2 at element #12"],
    [{ type: "wait", ms: 500 }, "Wait 500 ms"],
    [{ type: "wait", ms: 1500 }, "Wait 1.5 s"],
    [
      { type: "drag", from: el, to: { kind: "element", elementId: 3 }, button: "left" },
      "Drag from element #12 to element #3",
    ],
    [{ type: "ask", question: "Which file?" }, "Ask you: “Which file?”"],
    [{ type: "done", summary: "Exported" }, "Finish: Exported"],
  ];
  it.each(cases)("%j → %s", (action, words) => expect(describeAction(action)).toBe(words));

  it("shortens long typed text visibly", () => {
    expect(describeAction({ type: "type", text: "x".repeat(100) })).toBe(`Type “${"x".repeat(59)}…”`);
  });

  it("names the element under the target from the observation", () => {
    const elements = [
      { id: 12, kind: "button", text: "Save", confidence: 1, box: { x: 0, y: 0, width: 1, height: 1 } },
    ] as const;
    expect(describeTarget({ type: "click", target: el, button: "left", count: 1 }, elements)).toBe(
      "“Save” (button #12)",
    );
    expect(
      describeTarget({ type: "click", target: { kind: "element", elementId: 9 }, button: "left", count: 1 }, elements),
    ).toBe("element #9 (not on the last screen)");
    expect(describeTarget({ type: "wait", ms: 1 }, elements)).toBeUndefined();
  });
});

describe("cropAround", () => {
  const image = { width: 1920, height: 1080 };
  const view = { width: 560, height: 240 };

  it("keeps the target inside the crop and the highlight inside the view", () => {
    for (const target of [
      { x: 0, y: 0, width: 10, height: 10 },
      { x: 1900, y: 1070, width: 20, height: 10 },
      { x: 900, y: 500, width: 120, height: 40 },
    ]) {
      const crop = cropAround(target, image, view);
      expect(crop.source.x).toBeGreaterThanOrEqual(0);
      expect(crop.source.y).toBeGreaterThanOrEqual(0);
      expect(crop.source.x + crop.source.width).toBeLessThanOrEqual(image.width);
      expect(crop.source.y + crop.source.height).toBeLessThanOrEqual(image.height);
      expect(crop.highlight.x).toBeGreaterThanOrEqual(0);
      expect(crop.highlight.x + crop.highlight.width).toBeLessThanOrEqual(crop.view.width + 1e-9);
      expect(crop.highlight.y + crop.highlight.height).toBeLessThanOrEqual(crop.view.height + 1e-9);
      expect(crop.view.width).toBeLessThanOrEqual(view.width + 1e-9);
      expect(crop.view.height).toBeLessThanOrEqual(view.height + 1e-9);
    }
  });

  it("centres a target away from the edges", () => {
    const crop = cropAround({ x: 900, y: 500, width: 100, height: 40 }, image, view);
    const centre = crop.highlight.x + crop.highlight.width / 2;
    expect(Math.abs(centre - crop.view.width / 2)).toBeLessThan(1);
  });

  it("never enlarges more than twice", () => {
    expect(
      cropAround({ x: 10, y: 10, width: 4, height: 4 }, { width: 100, height: 50 }, view).scale,
    ).toBeLessThanOrEqual(2);
  });
});

describe("history", () => {
  it("adds newest last, moves repeats to the end, keeps a limit and ignores blanks", () => {
    expect(addEntry(["a", "b"], " a ")).toEqual(["b", "a"]);
    expect(addEntry(["a"], "   ")).toEqual(["a"]);
    expect(addEntry(["a", "b", "c"], "d", 3)).toEqual(["b", "c", "d"]);
  });

  it("walks older and newer, restoring the draft after the newest", () => {
    let nav: HistoryNav = { entries: ["one", "two"], cursor: null, draft: "" };
    const up1 = recallOlder(nav, "typing");
    expect(up1?.text).toBe("two");
    nav = up1?.nav as HistoryNav;
    const up2 = recallOlder(nav, "two");
    expect(up2?.text).toBe("one");
    nav = up2?.nav as HistoryNav;
    expect(recallOlder(nav, "one")).toBeUndefined();
    const down1 = recallNewer(nav);
    expect(down1?.text).toBe("two");
    const down2 = recallNewer(down1?.nav as HistoryNav);
    expect(down2).toEqual({ nav: { entries: ["one", "two"], cursor: null, draft: "" }, text: "typing" });
    expect(recallNewer(down2?.nav as HistoryNav)).toBeUndefined();
  });

  it("reads storage defensively", () => {
    const store = (value: string | null) => ({ getItem: () => value, setItem: () => {} });
    expect(loadHistory(store(JSON.stringify(["a", "b"])))).toEqual(["a", "b"]);
    expect(loadHistory(store("{not json"))).toEqual([]);
    expect(loadHistory(store(JSON.stringify({ a: 1 })))).toEqual([]);
    expect(loadHistory(store(null))).toEqual([]);
    expect(HISTORY_KEY).toBe("sightline-history");
  });

  it("recalls only from the first or last line of a multi-line instruction", () => {
    expect(caretOnFirstLine("ab\ncd", 1)).toBe(true);
    expect(caretOnFirstLine("ab\ncd", 4)).toBe(false);
    expect(caretOnLastLine("ab\ncd", 1)).toBe(false);
    expect(caretOnLastLine("ab\ncd", 4)).toBe(true);
  });
});

const step = (index: number, level: "none" | "low" | "high", status: RunStep["status"] = "pending"): RunStep => ({
  index,
  description: `step ${index}`,
  action: { type: "wait", ms: 1 },
  risk: { level, reasons: level === "high" ? ["why"] : [] },
  status,
});

const run = (patch: Partial<RunState>): RunState => ({
  runId: "r1",
  instruction: "do it",
  stage: "capturing",
  elements: [],
  steps: [],
  timingsMs: {},
  ...patch,
});

describe("run logic", () => {
  it("follows its own run, a newer live run, and ignores an older run's late last word", () => {
    const mine = run({ runId: "a", stage: "planning" });
    expect(shouldFollow(undefined, mine)).toBe(true);
    expect(shouldFollow(mine, { ...mine, stage: "failed" })).toBe(true);
    expect(shouldFollow(mine, run({ runId: "b", stage: "capturing" }))).toBe(true);
    expect(shouldFollow(mine, run({ runId: "old", stage: "cancelled" }))).toBe(false);
    expect(shouldFollow(run({ runId: "a", stage: "done" }), run({ runId: "old", stage: "cancelled" }))).toBe(true);
  });

  it("offers 'confirm the rest' only for low-risk questions with low-risk steps after them", () => {
    const steps = [step(0, "low", "waiting"), step(1, "high"), step(2, "low")];
    expect(
      canConfirmLowRiskRest(run({ stage: "confirming", steps, confirmation: { steps: [0], lowRiskRest: true } })),
    ).toBe(true);
    expect(
      canConfirmLowRiskRest(run({ stage: "confirming", steps, confirmation: { steps: [1], lowRiskRest: true } })),
    ).toBe(false);
    expect(
      canConfirmLowRiskRest(run({ stage: "confirming", steps, confirmation: { steps: [2], lowRiskRest: false } })),
    ).toBe(false);
  });

  it("shows steps a finished run left behind as not run", () => {
    const steps = [step(0, "low", "done"), step(1, "low", "waiting"), step(2, "low")];
    const stopped = run({ stage: "cancelled", steps });
    expect(steps.map((s) => shownStepStatus(stopped, s))).toEqual(["done", "not_run", "not_run"]);
    const live = run({ stage: "confirming", steps });
    expect(steps.map((s) => shownStepStatus(live, s))).toEqual(["done", "waiting", "pending"]);
  });

  it("marks the stages a run went through, and where a failed one stopped", () => {
    expect(milestoneStates(run({ stage: "observing" }))).toEqual({
      capturing: "complete",
      observing: "current",
      planning: "upcoming",
      acting: "upcoming",
      verifying: "upcoming",
    });
    expect(milestoneStates(run({ stage: "failed", planner: "x", planningText: "" })).planning).toBe("current");
    expect(milestoneStates(run({ stage: "cancelled", steps: [step(0, "low", "done")] })).acting).toBe("current");
    expect(Object.values(milestoneStates(run({ stage: "done" })))).toEqual(Array(5).fill("complete"));
  });
});

describe("ways forward", () => {
  const ready = { phase: "ready", version: "1", pid: 1 } as const;
  it("offers Retry and Rephrase when the planner refused", () => {
    const ways = waysForward({ code: "plan_invalid", message: "no", retryable: false }, { hasRun: true, host: ready });
    expect(ways).toMatchObject({ title: "No plan", retry: true, rephrase: true });
  });
  it("shows the command that fixes a missing model, and no Retry when retrying cannot help", () => {
    const ways = waysForward(
      {
        code: "model_unavailable",
        message: "missing",
        retryable: false,
        command: "sightline-host models pull smollm2",
      },
      { hasRun: true, host: ready },
    );
    expect(ways).toMatchObject({ retry: false, command: "sightline-host models pull smollm2" });
  });
  it("says the host is restarting while it is", () => {
    const ways = waysForward(
      { code: "disconnected", message: "gone", retryable: true },
      { hasRun: true, host: { phase: "restarting", inMs: 500, reason: "exit" } },
    );
    expect(ways.hostNote).toContain("restarting…");
    expect(ways.retry).toBe(true);
  });
  it("prefers the run's own error over a failed call; retries a lost connection", () => {
    expect(currentFailure({ code: "x", message: "m", retryable: false }, { code: "y", message: "n" })?.code).toBe("x");
    expect(currentFailure(undefined, { code: "bridge_closed", message: "closed" })?.retryable).toBe(true);
    expect(currentFailure(undefined, { code: "bad_input", message: "no" })?.retryable).toBe(false);
  });
});

describe("settings form", () => {
  const defaults = Settings.parse({});
  it("round-trips the settings", () => {
    expect(fromDraft(toDraft(defaults))).toEqual({ settings: defaults });
  });
  it("keeps the recording privacy switches through a save (the form must not reset them)", () => {
    const mine = Settings.parse({ recording: { maskAllTyping: true, redactEmails: false } });
    expect(fromDraft(toDraft(mine))).toEqual({ settings: mine });
  });
  it("checks accelerators", () => {
    expect(acceleratorProblem("CommandOrControl+Shift+Space")).toBeUndefined();
    expect(acceleratorProblem("F5")).toBeUndefined();
    expect(acceleratorProblem("K")).toContain("modifier");
    expect(acceleratorProblem("Ctrl+Shift")).toContain("not a modifier");
    expect(acceleratorProblem("Ctrl++K")).toContain("Modifier+Key");
    expect(acceleratorProblem("K+Ctrl")).toBeDefined();
  });
  it("names each wrong field, and refuses equal hotkeys", () => {
    const draft = {
      ...toDraft(defaults),
      hostMode: "remote" as const,
      hostUrl: "nope",
      hostToken: "short",
      recordHotkey: defaults.hotkeys.overlay,
    };
    const result = fromDraft(draft);
    expect("errors" in result && Object.keys(result.errors).sort()).toEqual(["hostToken", "hostUrl", "recordHotkey"]);
  });
  it("builds a remote host from the fields", () => {
    const draft = {
      ...toDraft(defaults),
      hostMode: "remote" as const,
      hostUrl: " http://10.0.0.2:9000 ",
      hostToken: "0123456789abcdef",
    };
    expect(fromDraft(draft)).toMatchObject({
      settings: { host: { mode: "remote", url: "http://10.0.0.2:9000", token: "0123456789abcdef" } },
    });
  });
});
