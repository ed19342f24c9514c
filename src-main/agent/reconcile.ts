import type { ScreenBox, ScreenElement } from "../../src-shared/bridge-api";
import { boxCentre } from "../coords/spaces";
import { foldedWords } from "../util/text-keys";

/**
 * How far (in multiples of the element's own size, at least MIN_REACH_PX) an
 * element may have moved between two looks and still be "the same" element.
 * A plan refers to elements by id; after a step the screen is observed again,
 * and each element of the plan must be found again before it may be clicked.
 */
const REACH_IN_SIZES = 3;
const MIN_REACH_PX = 48;

function distance(a: ScreenBox, b: ScreenBox): number {
  const ca = boxCentre(a);
  const cb = boxCentre(b);
  return Math.hypot(ca.x - cb.x, ca.y - cb.y);
}

function sameElement(before: ScreenElement, after: ScreenElement): boolean {
  if (before.kind !== after.kind) return false;
  if (foldedWords(before.text) !== foldedWords(after.text)) return false;
  const reach = Math.max(MIN_REACH_PX, REACH_IN_SIZES * Math.max(before.box.width, before.box.height));
  return distance(before.box, after.box) <= reach;
}

/**
 * The fresh observation, renumbered so that every element that is still on
 * screen (same kind, same text, nearby) keeps the id it had before; the rest
 * get ids above every earlier one. The plan's element ids therefore stay valid
 * for what is still there, and an id whose element is gone resolves to nothing
 * (the executor refuses it) instead of to whatever now holds that number.
 */
export function reconcileElements(
  previous: readonly ScreenElement[],
  fresh: readonly ScreenElement[],
  /** The highest id ever handed out in this run, so a vanished element's id is never reused. */
  highestId: number = Math.max(0, ...previous.map((e) => e.id)),
): { elements: ScreenElement[]; highestId: number } {
  const taken = new Set<number>();
  const assigned = new Map<ScreenElement, number>();
  // Closest pairs first, so two identical buttons keep their own ids when both are still there.
  const pairs: Array<{ before: ScreenElement; after: ScreenElement; gap: number }> = [];
  for (const before of previous) {
    for (const after of fresh) {
      if (sameElement(before, after)) pairs.push({ before, after, gap: distance(before.box, after.box) });
    }
  }
  pairs.sort((a, b) => a.gap - b.gap);
  for (const { before, after } of pairs) {
    if (taken.has(before.id) || assigned.has(after)) continue;
    taken.add(before.id);
    assigned.set(after, before.id);
  }
  let next = highestId;
  const elements = fresh.map((element) => {
    const id = assigned.get(element) ?? ++next;
    return { ...element, id };
  });
  return { elements, highestId: next };
}
