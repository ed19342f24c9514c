import { describe, expect, it } from "vitest";
import { type ActionContext, assessRisk, nextConfirmationBatch, type Risk } from "../../src-main/actions/policy";
import { type Action, Action as ActionSchema } from "../../src-shared/actions";

const at = { kind: "point", space: "desktop_px", x: 10, y: 10 } as const;
const act = (a: unknown): Action => ActionSchema.parse(a);

const CASES: Array<[string, Action, ActionContext, Risk["level"]]> = [
  ["plain click", act({ type: "click", target: at }), { targetText: "Bold" }, "low"],
  ["typing a name", act({ type: "type", text: "Ada", target: at }), { targetText: "Name" }, "low"],
  ["typing into a password field", act({ type: "type", text: "hunter2" }), { targetText: "Password" }, "high"],
  ["typing into a field the observer marked secret", act({ type: "type", text: "x" }), { secretField: true }, "high"],
  ["typing a PIN", act({ type: "type", text: "1234" }), { targetText: "Enter PIN" }, "high"],
  ["click on Delete", act({ type: "click", target: at }), { targetText: "Delete file" }, "high"],
  ["click on Send", act({ type: "click", target: at }), { targetText: "Send" }, "high"],
  ["click on Pay now", act({ type: "click", target: at }), { targetText: "Pay now" }, "high"],
  ["click on Format disk", act({ type: "click", target: at }), { targetText: "Format disk" }, "high"],
  [
    "destructive words in the description",
    act({ type: "click", target: at, description: "remove the row" }),
    {},
    "high",
  ],
  ["'formatting' is not 'format'", act({ type: "click", target: at }), { targetText: "Formatting" }, "low"],
  ["click on a Close button", act({ type: "click", target: at }), { targetText: "Close" }, "high"],
  ["click on ×", act({ type: "click", target: at }), { targetText: "×" }, "high"],
  ["Alt+F4", act({ type: "key", keys: ["LeftAlt", "F4"] }), {}, "high"],
  ["Ctrl+W", act({ type: "key", keys: ["LeftControl", "W"] }), {}, "high"],
  ["Ctrl+Q", act({ type: "key", keys: ["LeftControl", "Q"] }), {}, "high"],
  ["Ctrl+S is fine", act({ type: "key", keys: ["LeftControl", "S"] }), {}, "low"],
  ["Enter alone is fine outside a terminal", act({ type: "key", keys: ["Enter"] }), { windowTitle: "Editor" }, "low"],
  ["anything in a terminal", act({ type: "key", keys: ["Enter"] }), { windowTitle: "user@host: ~ — Terminal" }, "high"],
  ["typing in xterm", act({ type: "type", text: "ls" }), { appName: "xterm" }, "high"],
  ["text with a newline", act({ type: "type", text: "a\nb" }), {}, "high"],
  ["scroll", act({ type: "scroll", dy: 3 }), {}, "low"],
  ["drag onto Trash", act({ type: "drag", from: at, to: at, description: "drag to empty trash" }), {}, "high"],
  ["wait", act({ type: "wait", ms: 100 }), {}, "none"],
  ["ask", act({ type: "ask", question: "Which file?" }), {}, "none"],
  ["done", act({ type: "done", summary: "ok" }), {}, "none"],
];

describe("assessRisk", () => {
  it.each(CASES)("%s", (_name, action, context, level) => {
    const risk = assessRisk(action, context);
    expect(risk.level).toBe(level);
    if (level === "high") expect(risk.reasons.length).toBeGreaterThan(0);
  });
});

describe("nextConfirmationBatch", () => {
  const r = (level: Risk["level"]): Risk => ({ level, reasons: [] });
  const risks = [r("low"), r("low"), r("high"), r("low"), r("none")];

  it("asks one by one by default", () => {
    expect(nextConfirmationBatch(risks, 0, { mode: "each" })).toEqual([0]);
  });

  it("batches consecutive low-risk steps, never a high-risk one", () => {
    expect(nextConfirmationBatch(risks, 0, { mode: "batch-low-risk" })).toEqual([0, 1]);
    expect(nextConfirmationBatch(risks, 2, { mode: "batch-low-risk" })).toEqual([2]);
    expect(nextConfirmationBatch(risks, 3, { mode: "batch-low-risk" })).toEqual([3, 4]);
    expect(nextConfirmationBatch(risks, 5, { mode: "batch-low-risk" })).toEqual([]);
  });
});

describe("action schema", () => {
  it("refuses what the executor cannot do", () => {
    expect(
      ActionSchema.safeParse({ type: "click", target: { kind: "point", space: "model_px", x: 1, y: 1 } }).success,
    ).toBe(false);
    expect(ActionSchema.safeParse({ type: "key", keys: ["Ctrl+Alt"] }).success).toBe(false);
    expect(ActionSchema.safeParse({ type: "type", text: "" }).success).toBe(false);
    expect(ActionSchema.safeParse({ type: "scroll", dy: 1000 }).success).toBe(false);
    expect(ActionSchema.safeParse({ type: "shell", command: "rm -rf /" }).success).toBe(false);
  });
});
