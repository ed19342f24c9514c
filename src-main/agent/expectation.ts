import type { ScreenElement } from "../../src-shared/bridge-api";
import { foldedWords } from "../util/text-keys";

export type ExpectationCheck = { met: boolean; detail: string };

/** Words that say nothing about what is on screen. */
const FILLER = new Set(
  (
    "the a an and or of to in on at for with is are be been being now shows show shown showing appears appear " +
    "visible displayed display screen page window field box contains contain containing has have text value " +
    "should will then there this that it its as by from into open opened"
  ).split(" "),
);

/** Text the planner marked as literal: **bold**, "double" or 'single' quotes, `code`. */
function literals(expect: string): string[] {
  const found: string[] = [];
  for (const match of expect.matchAll(/\*\*([^*]+)\*\*|"([^"]+)"|“([^”]+)”|'([^']+)'|`([^`]+)`/g)) {
    const text = match.slice(1).find((group) => group !== undefined);
    if (text && foldedWords(text) !== "") found.push(foldedWords(text));
  }
  return found;
}

function contentWords(expect: string): string[] {
  const words = foldedWords(expect)
    .replace(/[^\p{L}\p{N}@.\-_ ]/gu, " ")
    .split(" ")
    .map((w) => w.replace(/^[.\-_]+|[.\-_]+$/g, ""));
  return [...new Set(words.filter((w) => w.length >= 2 && !FILLER.has(w)))];
}

/**
 * Whether the screen after a step shows what the plan said it would. The check
 * reads the observed texts: every literal the planner quoted must be there,
 * and otherwise most of the expectation's content words. A check that cannot
 * tell (no usable words) passes, since the step itself reported success.
 */
export function checkExpectation(expect: string, elements: readonly ScreenElement[]): ExpectationCheck {
  const screen = foldedWords(elements.map((e) => e.text).join(" \n "));
  const quoted = literals(expect);
  if (quoted.length > 0) {
    const missing = quoted.filter((text) => !screen.includes(text));
    return missing.length === 0
      ? { met: true, detail: `the screen shows ${quoted.map((q) => `"${q}"`).join(", ")}` }
      : { met: false, detail: `expected ${missing.map((q) => `"${q}"`).join(", ")} on the screen; not found` };
  }
  const words = contentWords(expect);
  if (words.length === 0) return { met: true, detail: "nothing checkable was expected" };
  const missing = words.filter((w) => !screen.includes(w));
  const met = missing.length * 2 <= words.length;
  return met
    ? { met, detail: `the screen shows ${words.length - missing.length} of ${words.length} expected words` }
    : { met, detail: `expected "${expect}"; the screen lacks ${missing.map((w) => `"${w}"`).join(", ")}` };
}
