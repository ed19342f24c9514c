/**
 * Re-grounding at replay time: finds a recorded element description among the
 * elements of a fresh observation and turns it into a screen point. Pure.
 *
 * Text decides (the observer's text may differ a little between two looks: a
 * space dropped, a letter misread, so the match is fuzzy); the recorded
 * position only breaks ties between elements with the same text, since the
 * window may have moved anywhere; the kind adds a little when it agrees.
 */
import type { DisplayInfo, ScreenElement } from "../../src-shared/bridge-api";
import { lettersAndDigits } from "../util/text-keys";
import { centreOf, type ElementDescription } from "./element-description";

export type Grounding = {
  element: ScreenElement;
  /** The point to act on, in desktop physical pixels. */
  point: { x: number; y: number };
  /** 0 … ~1.05: text similarity, plus a little for the kind, less a little for distance from the recorded place. */
  score: number;
};

export const GROUNDING_LIMITS = {
  /** Below this text similarity an element is not the one described. */
  minTextSimilarity: 0.75,
  positionWeight: 0.2,
  kindBonus: 0.05,
} as const;

function editDistance(a: string, b: string): number {
  const previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = previous[0] as number;
    previous[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = previous[j] as number;
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      previous[j] = Math.min(above + 1, (previous[j - 1] as number) + 1, diagonal + cost);
      diagonal = above;
    }
  }
  return previous[b.length] as number;
}

/** 1 for the same text (after normalising), less for containment or a few edits, 0 for nothing in common. */
export function textSimilarity(a: string, b: string): number {
  const x = lettersAndDigits(a);
  const y = lettersAndDigits(b);
  if (!x || !y) return 0;
  if (x === y) return 1;
  const [short, long] = x.length <= y.length ? [x, y] : [y, x];
  const edits = 1 - editDistance(x, y) / long.length;
  const contained = long.includes(short) ? 0.5 + 0.45 * (short.length / long.length) : 0;
  return Math.max(edits, contained);
}

/**
 * The element of `elements` (a fresh observation of `display`, desktop
 * physical pixels) that best matches `description`, and the point to act on;
 * undefined when nothing matches well enough. Never falls back to the recorded
 * screen point: a step that cannot be found again is not performed.
 */
export function groundDescription(
  description: ElementDescription,
  elements: readonly ScreenElement[],
  display: Pick<DisplayInfo, "bounds" | "scaleFactor">,
): Grounding | undefined {
  const { bounds, scaleFactor } = display;
  let best: Grounding | undefined;
  for (const element of elements) {
    const similarity = textSimilarity(description.text, element.text);
    if (similarity < GROUNDING_LIMITS.minTextSimilarity) continue;
    const centre = centreOf(element.box);
    const where = {
      x: bounds.width > 0 ? (centre.x - bounds.x) / bounds.width : 0,
      y: bounds.height > 0 ? (centre.y - bounds.y) / bounds.height : 0,
    };
    const away = Math.hypot(where.x - description.position.x, where.y - description.position.y);
    const score =
      similarity +
      (element.kind === description.kind ? GROUNDING_LIMITS.kindBonus : 0) -
      GROUNDING_LIMITS.positionWeight * away;
    if (!best || score > best.score) {
      best = {
        element,
        point: { x: centre.x + description.offset.dx * scaleFactor, y: centre.y + description.offset.dy * scaleFactor },
        score,
      };
    }
  }
  return best;
}
