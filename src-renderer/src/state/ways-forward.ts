/** What the error panel offers for a failure: the rules, apart from the component so they can be tested. */
import type { HostStatus, RunError } from "../../../src-shared/bridge-api";
import type { CallFailure } from "./slice";

/** Codes where the planner, not the machine, is the problem: other words may well work. */
export const PLANNER_CODES: ReadonlySet<string> = new Set([
  "plan_invalid",
  "plan_refused",
  "planner_refused",
  "planner_error",
  "no_plan",
]);

export type Failure = CallFailure & { command?: string; retryable: boolean };

export type WaysForward = {
  title: string;
  retry: boolean;
  /** Put the instruction back into the box to reword it. */
  rephrase: boolean;
  command: string | undefined;
  /** The host is away; retrying waits for it. */
  hostNote: string | undefined;
};

/** A run's own error first; otherwise a failed call, where only a lost connection or a busy host is worth retrying. */
export function currentFailure(
  runError: RunError | undefined,
  callError: CallFailure | undefined,
): Failure | undefined {
  if (runError) return runError;
  if (!callError) return undefined;
  return { ...callError, retryable: callError.code.startsWith("bridge_") || callError.code === "busy" };
}

export function waysForward(failure: Failure, context: { hasRun: boolean; host: HostStatus }): WaysForward {
  const planner = PLANNER_CODES.has(failure.code);
  const { host } = context;
  return {
    title: planner ? "No plan" : "That did not work",
    retry: failure.retryable || planner,
    rephrase: context.hasRun,
    command: failure.command,
    hostNote:
      host.phase === "restarting"
        ? "The inference host is restarting… Retry once it is ready."
        : host.phase === "starting" || host.phase === "failed"
          ? "Waiting for the inference host… Retry once it is ready."
          : undefined,
  };
}
