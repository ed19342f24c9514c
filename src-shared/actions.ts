/**
 * The action space: everything Sightline may do to the desktop. Plans are made
 * of these; the executor performs only these, and only after confirmation.
 */
import { z } from "zod";

/** A point on the desktop in a named space (see src-main/coords/spaces.ts). */
export const ScreenPoint = z
  .object({
    kind: z.literal("point"),
    space: z.enum(["desktop_px", "desktop_pt"]),
    x: z.number().finite(),
    y: z.number().finite(),
  })
  .strict();

/** An element of the last observation; resolved to a point before execution. */
export const ElementRef = z.object({ kind: z.literal("element"), elementId: z.number().int().positive() }).strict();

/**
 * Something the element list lacks (an unlabelled icon), in words: "the gear icon at the top right". The run
 * grounds it to a point with the host's vlm on the screenshot before the step is confirmed; the executor never
 * guesses one.
 */
export const DescribedTarget = z
  .object({ kind: z.literal("described"), description: z.string().min(1).max(200) })
  .strict();

export const Target = z.discriminatedUnion("kind", [ScreenPoint, ElementRef, DescribedTarget]);

export const MouseButton = z.enum(["left", "right", "middle"]);

const description = z.string().max(500).optional();

/** Key names follow nut-js's Key enum ("Enter", "LeftControl", "A", "F4" …); a combination is pressed in order, released in reverse. */
export const KeyName = z
  .string()
  .max(24)
  .regex(/^[A-Za-z0-9]+$/, "a key name such as Enter, LeftControl, A or F4");

export const Action = z.discriminatedUnion("type", [
  z
    .object({
      type: z.literal("click"),
      target: Target,
      button: MouseButton.default("left"),
      count: z.union([z.literal(1), z.literal(2)]).default(1),
      description,
    })
    .strict(),
  z.object({ type: z.literal("move"), target: Target, description }).strict(),
  z
    .object({ type: z.literal("drag"), from: Target, to: Target, button: MouseButton.default("left"), description })
    .strict(),
  z
    .object({
      type: z.literal("scroll"),
      target: Target.optional(),
      /** Wheel steps; positive scrolls down / right. */
      dx: z.number().int().min(-100).max(100).default(0),
      dy: z.number().int().min(-100).max(100).default(0),
      description,
    })
    .strict(),
  z
    .object({
      type: z.literal("type"),
      text: z.string().min(1).max(10_000),
      /** Clicked first to focus the field, if given. */
      target: Target.optional(),
      description,
    })
    .strict(),
  z.object({ type: z.literal("key"), keys: z.array(KeyName).min(1).max(5), description }).strict(),
  z.object({ type: z.literal("wait"), ms: z.number().int().min(0).max(60_000), description }).strict(),
  z.object({ type: z.literal("ask"), question: z.string().min(1).max(1000) }).strict(),
  z.object({ type: z.literal("done"), summary: z.string().max(2000) }).strict(),
]);

export type ScreenPoint = z.infer<typeof ScreenPoint>;
export type Target = z.infer<typeof Target>;
export type DescribedTarget = z.infer<typeof DescribedTarget>;
export type Action = z.infer<typeof Action>;
export type ActionType = Action["type"];
export type MouseButton = z.infer<typeof MouseButton>;

/** The risk reason the policy gives a step that types into a password-like field; the UI masks such text. */
export const SECRET_FIELD_REASON = "types into a password-like field";
