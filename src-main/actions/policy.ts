/**
 * Which actions may be confirmed together and which must always ask on their
 * own. Pure: the same action in the same context always gets the same verdict.
 */
import { type Action, SECRET_FIELD_REASON } from "../../src-shared/actions";

export type RiskLevel = "none" | "low" | "high";
export type Risk = { level: RiskLevel; reasons: string[] };

/** What is known about where the action lands, from the last observation. */
export type ActionContext = {
  /** Text of the element under the target, or its label. */
  targetText?: string;
  /** The observer marked the field as secret (a password input, say). */
  secretField?: boolean;
  windowTitle?: string;
  appName?: string;
};

export type ConfirmationSettings = {
  /** "each": every action asks. "batch-low-risk": consecutive low-risk actions are confirmed together. */
  mode: "each" | "batch-low-risk";
};

const DESTRUCTIVE =
  /\b(delete|remove|erase|wipe|format|uninstall|destroy|discard|overwrite|send|pay|payment|purchase|buy|checkout|transfer|publish|shut ?down|reboot|restart|empty trash|drop)\b/i;
const SECRET = /\b(pass(word|code|phrase)?|pin|secret|otp|2fa|one[- ]time code|cvv|cvc|security code|api key|token)\b/i;
const CLOSING = /^(close|quit|exit|×|✕|x)$|\b(close (window|tab)|quit|exit)\b/i;
const TERMINAL =
  /\b(terminal|xterm|konsole|gnome-terminal|iterm2?|powershell|cmd\.exe|command prompt|alacritty|kitty|wezterm|tilix|terminator|urxvt|bash|zsh|fish)\b/i;

const CLOSING_KEYS: ReadonlyArray<ReadonlyArray<string>> = [
  ["LeftAlt", "F4"],
  ["RightAlt", "F4"],
  ["LeftControl", "W"],
  ["RightControl", "W"],
  ["LeftControl", "Q"],
  ["RightControl", "Q"],
  ["LeftSuper", "Q"],
  ["LeftSuper", "W"],
  ["LeftCmd", "Q"],
  ["LeftCmd", "W"],
  ["LeftControl", "LeftShift", "W"],
];

const sameKeys = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && a.every((key, i) => key.toLowerCase() === b[i]?.toLowerCase());

export function assessRisk(action: Action, context: ActionContext = {}): Risk {
  if (action.type === "wait" || action.type === "ask" || action.type === "done") {
    return { level: "none", reasons: ["does not touch the desktop"] };
  }
  const reasons: string[] = [];
  const where = `${context.windowTitle ?? ""} ${context.appName ?? ""}`;
  if (TERMINAL.test(where)) reasons.push(`acts in a terminal (${where.trim()})`);

  const words = [context.targetText, "description" in action ? action.description : undefined].filter(
    (w): w is string => typeof w === "string",
  );
  for (const text of words) {
    const destructive = DESTRUCTIVE.exec(text);
    if (destructive) reasons.push(`"${destructive[0]}" may not be undoable`);
    if (action.type === "click" && CLOSING.test(text.trim())) reasons.push("closes a window or app");
  }

  if (action.type === "type") {
    if (context.secretField || (context.targetText && SECRET.test(context.targetText))) {
      reasons.push(SECRET_FIELD_REASON);
    }
    if (/[\n\r]/.test(action.text)) reasons.push("the text contains a line break, which may submit");
  }
  if (action.type === "key") {
    if (CLOSING_KEYS.some((combo) => sameKeys(combo, action.keys)))
      reasons.push(`${action.keys.join("+")} closes a window`);
    if (action.keys.some((k) => /^(delete|backspace)$/i.test(k)) && action.keys.length > 1) {
      reasons.push(`${action.keys.join("+")} deletes`);
    }
  }
  return reasons.length ? { level: "high", reasons } : { level: "low", reasons: [] };
}

/**
 * The steps to put before the user in one confirmation, starting at `from`:
 * one step, or in batch mode the run of consecutive low-risk steps.
 */
export function nextConfirmationBatch(risks: readonly Risk[], from: number, settings: ConfirmationSettings): number[] {
  if (from >= risks.length) return [];
  if (settings.mode === "each" || risks[from]?.level === "high") return [from];
  const batch: number[] = [];
  for (let i = from; i < risks.length && risks[i]?.level !== "high"; i++) batch.push(i);
  return batch;
}
