import type { RunError } from "../../src-shared/bridge-api";

type Coded = { code?: unknown; message?: unknown; command?: unknown };

/** Codes where the same request may well succeed a moment later. */
const RETRYABLE = new Set([
  "timeout",
  "disconnected",
  "busy",
  "host_unavailable",
  "plan_invalid",
  "planner_error",
  "engine_unavailable",
  "engine_error",
  "internal",
]);

/** Turns any failure into what the renderer shows: what went wrong, and the way forward. */
export function describeFailure(error: unknown): RunError {
  const coded = (error ?? {}) as Coded;
  const code = typeof coded.code === "string" ? coded.code : "internal";
  const raw = error instanceof Error ? error.message : String(error);
  const command = typeof coded.command === "string" ? coded.command : commandIn(raw);
  return { code, message: readable(raw), retryable: RETRYABLE.has(code), ...(command ? { command } : {}) };
}

/**
 * The message as a person reads it: without the HTTP status the OpenAI client puts first ("503 model …"), and
 * without the machine-readable "(command: `…`)" that the host appends, since the command is shown on its own.
 */
function readable(message: string): string {
  return message
    .replace(/^\d{3} (?=\S)/, "")
    .replace(/\s*\(command: `[^`]+`\)/, "")
    .trim();
}

/** The host names the fix for a missing model as a command in backquotes; surface it as one. */
function commandIn(message: string): string | undefined {
  const match = /`(sightline-host [^`]+|pip install [^`]+)`/.exec(message);
  return match?.[1];
}
