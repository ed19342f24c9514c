/**
 * Derives the host's copy of the protocol from the zod source: a JSON Schema
 * the host validates every message against, and Python TypedDicts that type
 * the host's code. Both are committed so the Python side needs no Node.
 */
import { z } from "zod";
import { planJsonSchema } from "../plan";
import { ClientMessage, HostMessage, LIMITS, PROTOCOL_DEFINITIONS, PROTOCOL_VERSION } from "./host-messages";

type JsonSchema = {
  type?: string | string[];
  const?: unknown;
  enum?: unknown[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  additionalProperties?: boolean | JsonSchema;
  $ref?: string;
  [key: string]: unknown;
};

function toSchema(schema: z.ZodType): JsonSchema {
  const out = z.toJSONSchema(schema, { target: "draft-2020-12", io: "input" }) as JsonSchema;
  delete out.$schema;
  return out;
}

export function buildJsonSchema(): Record<string, unknown> {
  const defs: Record<string, JsonSchema> = {};
  for (const [name, schema] of Object.entries(PROTOCOL_DEFINITIONS)) defs[name] = toSchema(schema);
  return {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    $comment: "Generated from src-shared/protocol/host-messages.ts by `npm run gen:protocol`. Do not edit.",
    protocol_version: PROTOCOL_VERSION,
    limits: LIMITS,
    $defs: defs,
    client_message: toSchema(ClientMessage),
    host_message: toSchema(HostMessage),
  };
}

function pascal(key: string): string {
  return key
    .split(/[_\s]/)
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join("");
}

/** Emits Python TypedDicts for the named definitions, naming anonymous nested objects after their path. */
export function buildPythonTypes(): string {
  const named = new Map<string, string>();
  for (const [name, schema] of Object.entries(PROTOCOL_DEFINITIONS)) named.set(JSON.stringify(toSchema(schema)), name);
  const classes: string[] = [];
  const emitted = new Set<string>();

  /** `definition`: the schema is the named definition `hint` itself (an alias's right side), not a use of it. */
  const pyType = (schema: JsonSchema, hint: string, definition = false): string => {
    const known = definition ? undefined : named.get(JSON.stringify(schema));
    if (known !== undefined) return known;
    if (schema.const !== undefined) return `Literal[${JSON.stringify(schema.const)}]`;
    if (schema.enum) return `Literal[${schema.enum.map((v) => JSON.stringify(v)).join(", ")}]`;
    if (schema.anyOf) return schema.anyOf.map((s) => pyType(s, hint)).join(" | ");
    switch (schema.type) {
      case "string":
        return "str";
      case "integer":
        return "int";
      case "number":
        return "float";
      case "boolean":
        return "bool";
      case "null":
        return "None";
      case "array":
        return `list[${schema.items ? pyType(schema.items, `${hint}Item`) : "object"}]`;
      case "object":
        emitClass(hint, schema);
        return hint;
      default:
        throw new Error(`gen-protocol: no Python type for ${JSON.stringify(schema)}`);
    }
  };

  const emitClass = (name: string, schema: JsonSchema): void => {
    if (emitted.has(name)) return;
    emitted.add(name);
    const required = new Set(schema.required ?? []);
    const fields = Object.entries(schema.properties ?? {}).map(([key, prop]) => {
      const type = pyType(prop, `${name}${pascal(key)}`);
      return `    ${key}: ${required.has(key) ? type : `NotRequired[${type}]`}`;
    });
    classes.push(`class ${name}(TypedDict):\n${fields.length ? fields.join("\n") : "    pass"}\n`);
  };

  // A definition that is not an object (an enum: ElementKind, TelemetrySourceKind) becomes a type alias, written
  // before the classes that use it.
  const aliases: string[] = [];
  for (const [name, schema] of Object.entries(PROTOCOL_DEFINITIONS)) {
    const json = toSchema(schema);
    if (json.type === "object") emitClass(name, json);
    else aliases.push(`${name} = ${pyType(json, name, true)}`);
  }

  const clientNames = ClientMessage.options.map((o) => nameOf(o));
  const hostNames = HostMessage.options.map((o) => nameOf(o));
  return [
    '"""Generated from src-shared/protocol/host-messages.ts by `npm run gen:protocol`. Do not edit."""',
    "",
    "from typing import Literal, NotRequired, TypedDict",
    "",
    `PROTOCOL_VERSION = ${PROTOCOL_VERSION}`,
    `MAX_IMAGE_BYTES = ${LIMITS.maxImageBytes}`,
    `MAX_IMAGE_PIXELS = ${LIMITS.maxImagePixels}`,
    `MAX_FRAME_BYTES = ${LIMITS.maxFrameBytes}`,
    `MAX_OBSERVES_IN_FLIGHT = ${LIMITS.maxObservesInFlight}`,
    `MAX_POINT_QUERY_CHARS = ${LIMITS.maxPointQueryChars}`,
    `MAX_POINTS_PER_ANSWER = ${LIMITS.maxPointsPerAnswer}`,
    `MAX_POINT_LABEL_CHARS = ${LIMITS.maxPointLabelChars}`,
    `MAX_POINT_ANSWER_CHARS = ${LIMITS.maxPointAnswerChars}`,
    "",
    ...aliases,
    "",
    "",
    classes.join("\n\n"),
    "",
    `ClientMessage = ${clientNames.join(" | ")}`,
    `HostMessage = ${hostNames.join(" | ")}`,
    "",
  ].join("\n");
}

function nameOf(schema: z.ZodType): string {
  for (const [name, candidate] of Object.entries(PROTOCOL_DEFINITIONS)) if (candidate === schema) return name;
  throw new Error("gen-protocol: a union member is not in PROTOCOL_DEFINITIONS");
}

export const GENERATED_FILES = {
  "inference/sightline_host/protocol/schema.json": () => `${JSON.stringify(buildJsonSchema(), null, 2)}\n`,
  "inference/sightline_host/protocol/types.py": buildPythonTypes,
  /** The planner's response_format without element ids: the host's tests constrain random models to it. */
  "inference/sightline_host/protocol/plan.schema.json": () => `${JSON.stringify(planJsonSchema(), null, 2)}\n`,
} as const;
