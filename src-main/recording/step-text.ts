/**
 * The sentence of each step: "Click **Save**", "Type "Ada" in **Name**".
 * Templates here; a planner-written variant plugs in as another StepTextWriter
 * (it gets the same facts, and the recorder falls back to the template when it
 * fails). Sentences are Markdown inline: bold and backslash escapes only, so
 * the HTML export can render them without a Markdown library.
 */
import { type ElementDescription, sideOf } from "./element-description";
import type { RecordedStep } from "./recording-manifest";

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** What a writer knows of a step: everything recorded except its sentence, its place and its image. */
export type StepFacts = DistributiveOmit<RecordedStep, "sentence" | "index" | "image">;

export type StepTextWriter = (facts: StepFacts) => string | Promise<string>;

const MAX_SHOWN = 60;

const shorten = (text: string) => {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > MAX_SHOWN ? `${flat.slice(0, MAX_SHOWN - 1)}…` : flat;
};

/** Escapes the characters Markdown inline syntax would act on. */
export function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_[\]<>#|~!()]/g, "\\$&");
}

const bold = (text: string) => `**${escapeMarkdown(shorten(text))}**`;
const quoted = (text: string) => `"${escapeMarkdown(shorten(text))}"`;

const KIND_NOUN: Partial<Record<ElementDescription["kind"], string>> = {
  text_field: "field",
  checkbox: "checkbox",
  radio: "option",
  dropdown: "list",
  tab: "tab",
  link: "link",
  menu_item: "menu item",
  toggle: "switch",
  slider: "slider",
};

/** The target as the object of a sentence: "**Save**", "the **Name** field", "the box beside **Remember me**". */
function targetPhrase(target: ElementDescription | undefined): string | undefined {
  if (!target) return undefined;
  const side = sideOf(target);
  const noun = KIND_NOUN[target.kind];
  if (side === "on") return noun ? `the ${bold(target.text)} ${noun}` : bold(target.text);
  // Nothing was under the point; the text is its label: a field's label sits left or above, a checkbox's right.
  if (side === "right" || side === "below") return `the ${bold(target.text)} field`;
  return `the box beside ${bold(target.text)}`;
}

const direction = (dx: number, dy: number) => {
  if (Math.abs(dy) >= Math.abs(dx)) return dy > 0 ? "down" : "up";
  return dx > 0 ? "right" : "left";
};

const CLICK_VERB = { left: "Click", right: "Right-click", middle: "Middle-click" } as const;

/** The template sentence of a step. */
export function templateStepText(facts: StepFacts): string {
  switch (facts.kind) {
    case "click": {
      const verb = facts.count === 2 ? `Double-${CLICK_VERB[facts.button].toLowerCase()}` : CLICK_VERB[facts.button];
      return `${verb} ${targetPhrase(facts.target) ?? "the spot shown"}`;
    }
    case "drag": {
      const dx = facts.to.x - facts.from.x;
      const dy = facts.to.y - facts.from.y;
      const way = direction(dx, dy);
      const towards = way === "down" || way === "up" ? way : `to the ${way}`;
      const from = facts.target;
      if (from && facts.toTarget) return `Drag ${targetPhrase(from)} to ${targetPhrase(facts.toTarget)}`;
      if (from?.relation === "near") return `Drag the control beside ${bold(from.text)} ${towards}`;
      if (from) return `Drag ${bold(from.text)} ${towards}`;
      return `Drag ${towards}`;
    }
    case "scroll": {
      const where = direction(facts.dx, facts.dy);
      if (!facts.target) return `Scroll ${where}`;
      return facts.target.relation === "on"
        ? `Scroll ${where} over ${bold(facts.target.text)}`
        : `Scroll ${where} near ${bold(facts.target.text)}`;
    }
    case "type": {
      const into = facts.field ? ` in ${bold(facts.field.text)}` : "";
      if (facts.typed.kind === "secret") return `Type your password${into}`;
      if (facts.typed.kind === "masked") return `Type your text${into}`;
      return `Type ${quoted(facts.typed.text)}${into}`;
    }
    case "key":
      return `Press ${bold(facts.label)}`;
  }
}

/** Renders a sentence's Markdown inline (bold, escapes) as HTML, escaping everything else. */
export function inlineMarkdownToHtml(sentence: string): string {
  const entity: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
  const escapeChar = (c: string) => entity[c] ?? c;
  let html = "";
  let strong = false;
  for (let i = 0; i < sentence.length; i++) {
    const c = sentence[i] as string;
    if (c === "\\" && i + 1 < sentence.length) {
      html += escapeChar(sentence[++i] as string);
    } else if (c === "*" && sentence[i + 1] === "*") {
      html += strong ? "</strong>" : "<strong>";
      strong = !strong;
      i++;
    } else {
      html += escapeChar(c);
    }
  }
  return strong ? `${html}</strong>` : html;
}
