/**
 * How a recorded step names what it acted on: not a screen point, which is
 * stale as soon as a window moves, but the element under (or beside) the
 * point, as the observer saw it: its kind, its text, where it roughly was,
 * and where the point lay relative to it. Replay finds the element again on
 * the live screen (grounding.ts) and applies the same offset.
 */
import { z } from "zod";
import { type DisplayInfo, ElementKind, type ScreenBox, type ScreenElement } from "../../src-shared/bridge-api";
import { boxCentre } from "../coords/spaces";

export const ElementDescription = z
  .object({
    kind: ElementKind,
    text: z.string().min(1).max(500),
    /** "on": the point was inside the element. "near": the point had no element, and this is the label beside it. */
    relation: z.enum(["on", "near"]),
    /** The element's centre as a fraction of its display's width and height: where to look first. */
    position: z.object({ x: z.number().min(0).max(1), y: z.number().min(0).max(1) }).strict(),
    /** From the element's centre to the point acted on, in logical points (physical pixels ÷ scale factor). */
    offset: z.object({ dx: z.number().finite(), dy: z.number().finite() }).strict(),
    /** The element's size in logical points when it was recorded. */
    size: z.object({ width: z.number().nonnegative(), height: z.number().nonnegative() }).strict(),
  })
  .strict();
export type ElementDescription = z.infer<typeof ElementDescription>;

type Point = { x: number; y: number };

export const DESCRIBE_LIMITS = {
  /** Slack around an element's box that still counts as a hit (physical pixels at scale 1). */
  hitPadPx: 3,
  /** How far a label may be from a point that hit no element (logical points). */
  labelRadiusPt: 320,
  /** A label whose box spans the point's height, give or take this, is on the point's row. */
  rowSlackPt: 12,
} as const;

export const centreOf = (box: ScreenBox): Point => boxCentre(box);

const contains = (box: ScreenBox, p: Point, pad: number) =>
  p.x >= box.x - pad && p.y >= box.y - pad && p.x <= box.x + box.width + pad && p.y <= box.y + box.height + pad;

function edgeDistance(box: ScreenBox, p: Point): number {
  const dx = Math.max(box.x - p.x, 0, p.x - (box.x + box.width));
  const dy = Math.max(box.y - p.y, 0, p.y - (box.y + box.height));
  return Math.hypot(dx, dy);
}

/**
 * How likely an element is the label of a control at `p`, as a distance
 * (smaller is likelier). A label sits on the control's row (a field's to its
 * left, a checkbox's to its right) or just above it; text further above is
 * other content (a heading, a toolbar, the text of the field before), and
 * text below belongs to the next row.
 */
function labelDistance(box: ScreenBox, p: Point, rowSlack: number): number {
  let d = edgeDistance(box, p);
  const sameRow = box.y - rowSlack <= p.y && box.y + box.height + rowSlack >= p.y;
  if (sameRow) return d * 0.3;
  if (box.y > p.y) d *= 2.5;
  else d *= p.y - (box.y + box.height) <= 2 * box.height ? 0.6 : 1.5;
  if (box.x > p.x) d *= 1.5;
  return d;
}

const hasText = (e: ScreenElement) => e.text.trim().length > 0;

/**
 * The element a point acts on: the smallest element with text whose box holds
 * the point, else the likeliest label around it within a radius. Undefined
 * when there is none (an empty area far from any text).
 */
export function elementAt(
  point: Point,
  elements: readonly ScreenElement[],
  scaleFactor = 1,
): { element: ScreenElement; relation: "on" | "near" } | undefined {
  const hits = elements
    .filter((e) => hasText(e) && contains(e.box, point, DESCRIBE_LIMITS.hitPadPx * scaleFactor))
    .sort((a, b) => a.box.width * a.box.height - b.box.width * b.box.height);
  const hit = hits[0];
  if (hit) return { element: hit, relation: "on" };
  const radius = DESCRIBE_LIMITS.labelRadiusPt * scaleFactor;
  let best: { element: ScreenElement; score: number } | undefined;
  for (const element of elements) {
    if (!hasText(element) || edgeDistance(element.box, point) > radius) continue;
    const score = labelDistance(element.box, point, DESCRIBE_LIMITS.rowSlackPt * scaleFactor);
    if (!best || score < best.score) best = { element, score };
  }
  return best && { element: best.element, relation: "near" };
}

const clamp01 = (v: number) => Math.min(1, Math.max(0, v));

/** Describes `element` as the anchor of `point` on `display` (all in desktop physical pixels). */
export function describeElement(
  element: ScreenElement,
  relation: "on" | "near",
  point: Point,
  display: Pick<DisplayInfo, "bounds" | "scaleFactor">,
): ElementDescription {
  const { bounds, scaleFactor } = display;
  const centre = centreOf(element.box);
  return {
    kind: element.kind,
    text: element.text.trim().slice(0, 500),
    relation,
    position: {
      x: clamp01(bounds.width > 0 ? (centre.x - bounds.x) / bounds.width : 0),
      y: clamp01(bounds.height > 0 ? (centre.y - bounds.y) / bounds.height : 0),
    },
    offset: { dx: (point.x - centre.x) / scaleFactor, dy: (point.y - centre.y) / scaleFactor },
    size: { width: element.box.width / scaleFactor, height: element.box.height / scaleFactor },
  };
}

/** The description of what a point acts on, or undefined when no element with text is at or near it. */
export function describeTargetAt(
  point: Point,
  elements: readonly ScreenElement[],
  display: Pick<DisplayInfo, "bounds" | "scaleFactor">,
): ElementDescription | undefined {
  const found = elementAt(point, elements, display.scaleFactor);
  return found && describeElement(found.element, found.relation, point, display);
}

/** Where the point lay relative to the described element, in words (for step text). */
export function sideOf(description: ElementDescription): "on" | "left" | "right" | "above" | "below" {
  if (description.relation === "on") return "on";
  const { dx, dy } = description.offset;
  const halfW = description.size.width / 2;
  const halfH = description.size.height / 2;
  const outX = Math.max(0, Math.abs(dx) - halfW);
  const outY = Math.max(0, Math.abs(dy) - halfH);
  if (outX >= outY) return dx > 0 ? "right" : "left";
  return dy > 0 ? "below" : "above";
}
