import type { ScreenElement } from "../../src-shared/bridge-api";
import type { PlanRequest } from "./planner";

/** Elements beyond this many are left out: a small planner's context is short and its prefill is the cost. */
export const MAX_PROMPT_ELEMENTS = 120;
const MAX_ELEMENT_TEXT = 60;

export const SYSTEM_PROMPT = [
  "You are Sightline, an assistant that operates a desktop computer for the user.",
  "You see the screen as a numbered list of elements: id, kind, text and box (x, y, width, height in desktop pixels).",
  "Answer with a JSON plan: a short list of steps that carry out the user's instruction.",
  'Each step has "description" (one short imperative sentence, e.g. "Click **Save**") and "action".',
  'Prefer element targets {"kind":"element","elementId":N}; use a point {"kind":"point","space":"desktop_px","x":X,"y":Y} only when no element fits.',
  'End with a "done" action. If the instruction is unclear or unsafe, answer with a single "ask" action.',
].join("\n");

/** Said only when the host's vlm can point: otherwise the schema has no described target to choose. */
const DESCRIBED_TARGET_HINT =
  'For something on the screen that no listed element covers (an unlabelled icon), use {"kind":"described","description":"the gear icon at the top right"}: a short description of what it looks like and where; a vision model finds it.';

/** The system prompt, with the described target explained where the host can ground one. */
export function systemPrompt(canPoint = false): string {
  return canPoint ? `${SYSTEM_PROMPT}\n${DESCRIBED_TARGET_HINT}` : SYSTEM_PROMPT;
}

function elementLine(element: ScreenElement): string {
  const { x, y, width, height } = element.box;
  const text = element.text.length > MAX_ELEMENT_TEXT ? `${element.text.slice(0, MAX_ELEMENT_TEXT)}…` : element.text;
  return `[${element.id}] ${element.kind} ${JSON.stringify(text)} @ ${Math.round(x)},${Math.round(y)} ${Math.round(width)}x${Math.round(height)}`;
}

/**
 * The user turn: the screen, then the instruction. The screen comes first so
 * that, across turns on an unchanged screen, the prompt's prefix repeats and
 * the host's prefix cache can reuse it.
 */
export function userPrompt(request: PlanRequest, maxElementChars = Number.POSITIVE_INFINITY): string {
  const { bounds } = request.display;
  const shown: ScreenElement[] = [];
  let chars = 0;
  for (const element of request.elements.slice(0, MAX_PROMPT_ELEMENTS)) {
    chars += elementLine(element).length + 1;
    if (chars > maxElementChars) break;
    shown.push(element);
  }
  const omitted = request.elements.length - shown.length;
  return [
    `Screen: display "${request.display.name}", ${bounds.width}x${bounds.height} px at ${bounds.x},${bounds.y}.`,
    "Elements:",
    ...shown.map(elementLine),
    ...(omitted > 0 ? [`(${omitted} more elements not listed)`] : []),
    shown.length === 0 ? "(no elements were recognised)" : "",
    ...progressLines(request),
    `Instruction: ${request.instruction}`,
  ]
    .filter((line) => line !== "")
    .join("\n");
}

function progressLines({ progress }: PlanRequest): string[] {
  if (!progress) return [];
  return [
    "Already done:",
    ...(progress.done.length > 0 ? progress.done.map((step, i) => `${i + 1}. ${step}`) : ["(nothing yet)"]),
    `Problem: ${progress.problem}`,
    "Plan only the remaining steps, for the screen as it is now.",
  ];
}

/**
 * Characters per token, counted low: element lines are digits and punctuation,
 * which small models' tokenizers split finely (SmolLM2: 1.65 for a terminal line).
 */
export const CHARS_PER_TOKEN = 1.5;
/** Tokens kept free for the chat template and the instruction's own words. */
const TEMPLATE_TOKENS = 160;

/**
 * How many characters of element lines fit a model with `contextTokens` of
 * context once the answer's `maxTokens`, the system prompt and the rest of the
 * user turn are set aside: a busy screen lists fewer elements instead of
 * failing with a prompt too long for the model.
 */
export function elementCharBudget(
  contextTokens: number,
  maxTokens: number,
  request: PlanRequest,
  charsPerToken = CHARS_PER_TOKEN,
): number {
  const fixed = systemPrompt(request.canPoint).length + userPrompt({ ...request, elements: [] }).length;
  const tokens = contextTokens - maxTokens - TEMPLATE_TOKENS - Math.ceil(fixed / charsPerToken);
  return Math.max(0, Math.floor(tokens * charsPerToken));
}
