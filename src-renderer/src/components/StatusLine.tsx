import type { HostStatus, Stage } from "../../../src-shared/bridge-api";
import { useAssistant } from "../store";

const STAGE_TEXT: Record<Stage, string> = {
  idle: "Ready",
  capturing: "Capturing the screen…",
  observing: "Reading the screen…",
  done: "Done",
  failed: "Failed",
};

function hostText(host: HostStatus): string {
  switch (host.phase) {
    case "ready":
      return `Host ready (v${host.version})`;
    case "starting":
      return host.attempt > 1 ? `Host starting (attempt ${host.attempt})…` : "Host starting…";
    case "restarting":
      return `Host stopped (${host.reason}); restarting in ${Math.round(host.inMs / 100) / 10} s`;
    case "failed":
      return `Host failed: ${host.reason}`;
    case "stopped":
      return "Host stopped";
  }
}

export function StatusLine() {
  const stage = useAssistant((s) => s.stage);
  const host = useAssistant((s) => s.host);
  return (
    <div className="status">
      <output data-testid="stage">{STAGE_TEXT[stage]}</output>
      <span data-testid="host-status" className={`host host-${host.phase}`}>
        {hostText(host)}
      </span>
    </div>
  );
}
