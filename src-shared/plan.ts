/**
 * A plan: what the planner model answers and what the app shows and runs. The
 * planner is constrained to this schema (its JSON Schema is the completion's
 * `response_format`), and the app parses every answer with it again, so a plan
 * that does not parse never reaches the executor.
 */
import { z } from "zod";
import { Action } from "./actions";

export const PLAN_LIMITS = { maxSteps: 12, maxDescription: 200 } as const;

export const PlanStep = z
  .object({
    /** One short imperative sentence shown to the user: "Click **Save**". */
    description: z.string().min(1).max(PLAN_LIMITS.maxDescription),
    action: Action,
    /** What should be visible after the step, checked by the closed loop when given. */
    expect: z.string().max(PLAN_LIMITS.maxDescription).optional(),
  })
  .strict();

export const Plan = z
  .object({
    steps: z.array(PlanStep).min(1).max(PLAN_LIMITS.maxSteps),
  })
  .strict();

export type PlanStep = z.infer<typeof PlanStep>;
export type Plan = z.infer<typeof Plan>;

/**
 * Tighter than the Plan schema for what the model may write, so that constrained
 * decoding always ends within a token budget: bounded strings, integer pixel
 * coordinates inside X11's 16-bit range, few steps. Everything it admits, Plan
 * admits too, so the app's own parse still decides.
 */
export const PLANNER_LIMITS = {
  maxSteps: 8,
  maxSentence: 120,
  maxText: 300,
  maxCoordinate: 32767,
} as const;

type JsonNode = { [key: string]: unknown };

const SENTENCES = new Set(["description", "expect"]);
/**
 * Any text but emoji and pictographs (U+2600–27BF, U+1F000–1FAFF) and private-use characters, written as the
 * characters themselves rather than \p{…} or \u{…} escapes, which Python's `re` (the host's jsonschema) lacks.
 */
const excluded = (from: number, to: number) => `${String.fromCodePoint(from)}-${String.fromCodePoint(to)}`;
export const SENTENCE_PATTERN = `^[^${excluded(0x2600, 0x27bf)}${excluded(0xe000, 0xf8ff)}${excluded(0x1f000, 0x1faff)}]*$`;
const TEXTS = new Set(["text", "question", "summary"]);

/** Whether a schema node is the described target's object (its `kind` fixed to "described"). */
function isDescribedTarget(node: unknown): boolean {
  const kind = (node as { properties?: { kind?: { const?: unknown } } } | null)?.properties?.kind;
  return kind?.const === "described";
}

function tighten(node: unknown, elementIds: readonly number[], canPoint: boolean): unknown {
  if (Array.isArray(node)) return node.map((child) => tighten(child, elementIds, canPoint));
  if (node === null || typeof node !== "object") return node;
  const out: JsonNode = {};
  for (const [k, v] of Object.entries(node as JsonNode)) {
    // Without a vlm to ground it, a described target could only fail: the planner is not offered one.
    const offered =
      !canPoint && (k === "anyOf" || k === "oneOf") && Array.isArray(v) ? v.filter((c) => !isDescribedTarget(c)) : v;
    out[k] = tighten(offered, elementIds, canPoint);
  }
  const properties = out.properties as Record<string, JsonNode> | undefined;
  if (properties) {
    for (const [name, child] of Object.entries(properties)) {
      if (child.type === "string" && SENTENCES.has(name)) {
        child.maxLength = PLANNER_LIMITS.maxSentence;
        // No pictographs: a small model that starts a run of emoji (each several tokens) in a sentence can spend
        // its whole token budget there and leave the plan unfinished. Typed text keeps every character.
        child.pattern = SENTENCE_PATTERN;
      }
      if (child.type === "string" && TEXTS.has(name)) child.maxLength = PLANNER_LIMITS.maxText;
      if ((name === "x" || name === "y") && child.type === "number") {
        properties[name] = {
          type: "integer",
          minimum: -PLANNER_LIMITS.maxCoordinate,
          maximum: PLANNER_LIMITS.maxCoordinate,
        };
      }
      if (name === "elementId" && elementIds.length > 0) properties[name] = { type: "integer", enum: [...elementIds] };
      if (name === "elementId" && elementIds.length === 0) {
        properties[name] = { type: "integer", minimum: 1, maximum: 9999 };
      }
      if (name === "steps" && child.type === "array") child.maxItems = PLANNER_LIMITS.maxSteps;
    }
  }
  return out;
}

/** What the host can ground beyond the element list. */
export type PlanSchemaOptions = {
  /** The host's vlm can point (it announces the "point" capability): described targets are offered. */
  canPoint?: boolean;
};

/**
 * The JSON Schema sent as the completion's `response_format`: the plan's input
 * shape (defaults may be omitted), tightened for decoding, with element targets
 * limited to the ids on the observed screen, and described targets only where
 * the host can point at them. The default (plan.schema.json, what the host's tests decode against) is a host
 * without a vlm: a described target is only offered when asked for.
 */
export function planJsonSchema(
  elementIds: readonly number[] = [],
  { canPoint = false }: PlanSchemaOptions = {},
): Record<string, unknown> {
  const { $schema: _dialect, ...schema } = z.toJSONSchema(Plan, { io: "input", target: "draft-7" });
  return tighten(schema, elementIds, canPoint) as Record<string, unknown>;
}
