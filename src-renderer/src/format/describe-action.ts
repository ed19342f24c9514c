/** Actions in words the user can check before confirming: "Click element #12", "Type “Grüße”". */
import { type Action, SECRET_FIELD_REASON, type Target } from "../../../src-shared/actions";
import type { ScreenElement } from "../../../src-shared/bridge-api";

const KEY_NAMES: Record<string, string> = {
  leftcontrol: "Ctrl",
  rightcontrol: "Ctrl",
  leftshift: "Shift",
  rightshift: "Shift",
  leftalt: "Alt",
  rightalt: "Alt",
  leftsuper: "Super",
  rightsuper: "Super",
  leftcmd: "Cmd",
  rightcmd: "Cmd",
  leftwin: "Win",
  rightwin: "Win",
  escape: "Esc",
  pageup: "Page Up",
  pagedown: "Page Down",
};

export function keyLabel(key: string): string {
  return KEY_NAMES[key.toLowerCase()] ?? key;
}

const round = (n: number) => Math.round(n);

export function targetLabel(target: Target): string {
  if (target.kind === "element") return `element #${target.elementId}`;
  if (target.kind === "described") return quoteText(target.description, 80);
  const unit = target.space === "desktop_pt" ? " pt" : "";
  return `point (${round(target.x)}, ${round(target.y)}${unit})`;
}

/** Quotes typed text so spaces and line breaks stay visible; long text is shortened, never silently. */
export function quoteText(text: string, max = 60): string {
  const visible = text.replace(/\r?\n/g, "⏎");
  const shown = visible.length > max ? `${visible.slice(0, max - 1)}…` : visible;
  return `“${shown}”`;
}

function scrollWords(dx: number, dy: number): string {
  const parts: string[] = [];
  if (dy) parts.push(`${dy > 0 ? "down" : "up"} ${Math.abs(dy)}`);
  if (dx) parts.push(`${dx > 0 ? "right" : "left"} ${Math.abs(dx)}`);
  return parts.length ? parts.join(", ") : "0";
}

function waitWords(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${Math.round(ms / 100) / 10} s`;
}

/** Whether a step's typed text is a secret that the UI shows masked. */
export function isSecretStep(step: { risk: { reasons: readonly string[] } }): boolean {
  return step.risk.reasons.includes(SECRET_FIELD_REASON);
}

export function describeAction(action: Action, { secret = false }: { secret?: boolean } = {}): string {
  switch (action.type) {
    case "click": {
      const verb = action.count === 2 ? "Double-click" : "Click";
      const button = action.button === "left" ? "" : ` with the ${action.button} button`;
      return `${verb} ${targetLabel(action.target)}${button}`;
    }
    case "move":
      return `Move the pointer to ${targetLabel(action.target)}`;
    case "drag":
      return `Drag from ${targetLabel(action.from)} to ${targetLabel(action.to)}`;
    case "scroll":
      return `Scroll ${scrollWords(action.dx, action.dy)}${action.target ? ` at ${targetLabel(action.target)}` : ""}`;
    case "type":
      return `Type ${secret ? `${"•".repeat(Math.min(12, [...action.text].length))} (hidden)` : quoteText(action.text)}${action.target ? ` into ${targetLabel(action.target)}` : ""}`;
    case "key":
      return `Press ${action.keys.map(keyLabel).join("+")}`;
    case "wait":
      return `Wait ${waitWords(action.ms)}`;
    case "ask":
      return `Ask you: ${quoteText(action.question, 120)}`;
    case "done":
      return `Finish: ${action.summary}`;
  }
}

/** The target the action lands on, if any (a drag's is where it starts). */
export function primaryTarget(action: Action): Target | undefined {
  switch (action.type) {
    case "click":
    case "move":
      return action.target;
    case "drag":
      return action.from;
    case "scroll":
    case "type":
      return action.target;
    default:
      return undefined;
  }
}

/** What the user sees at the target: the element's text and kind when the observation knows it. */
export function describeTarget(action: Action, elements: readonly ScreenElement[]): string | undefined {
  const target = primaryTarget(action);
  if (!target) return undefined;
  // The action's own words already give the point; repeating it says nothing new.
  if (target.kind === "point") return undefined;
  // Not in the element list: the highlighted point is where the VLM found it on the screenshot.
  if (target.kind === "described")
    return `${quoteText(target.description, 60)} (found by the VLM; check the highlight)`;
  const element = elements.find((e) => e.id === target.elementId);
  if (!element) return `element #${target.elementId} (not on the last screen)`;
  const kind = element.kind === "text" ? "text" : element.kind.replace(/_/g, " ");
  return element.text ? `${quoteText(element.text, 40)} (${kind} #${element.id})` : `${kind} #${element.id}`;
}
