/** Words for stages, step statuses and the host's state. */
import type { HostStatus, RunStage, StepStatus } from "../../../src-shared/bridge-api";

export const STAGE_TEXT: Record<RunStage, string> = {
  capturing: "Capturing the screen…",
  observing: "Reading the screen…",
  planning: "Planning…",
  confirming: "Waiting for you",
  executing: "Acting…",
  verifying: "Checking the result…",
  done: "Done",
  failed: "Failed",
  cancelled: "Stopped",
};

export const STEP_STATUS_TEXT: Record<StepStatus | "not_run", string> = {
  not_run: "not run",
  pending: "pending",
  waiting: "waiting for you",
  running: "running",
  done: "done",
  failed: "failed",
  skipped: "skipped",
};

const seconds = (ms: number) => `${Math.max(0, Math.round(ms / 100) / 10)} s`;

export function hostText(host: HostStatus): string {
  switch (host.phase) {
    case "ready":
      return `Host ready (v${host.version})`;
    case "starting":
      return host.attempt > 1 ? `Host starting (attempt ${host.attempt})…` : "Host starting…";
    case "restarting":
      return `Host stopped (${host.reason}); restarting in ${seconds(host.inMs)}…`;
    case "failed":
      return `Host failed: ${host.reason}`;
    case "stopped":
      return "Host stopped";
  }
}

/** The header's few words; the banner under it says the rest. */
export function hostShortText(host: HostStatus): string {
  switch (host.phase) {
    case "ready":
      return `Host ready (v${host.version})`;
    case "starting":
      return "Host starting…";
    case "restarting":
      return "Host restarting…";
    case "failed":
      return "Host failed";
    case "stopped":
      return "Host stopped";
  }
}

/** The host is not able to answer right now, though it may be on its way back. */
export function hostUnavailable(host: HostStatus): boolean {
  return host.phase !== "ready";
}
