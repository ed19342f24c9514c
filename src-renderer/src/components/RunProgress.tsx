import type { RunState } from "../../../src-shared/bridge-api";
import { STAGE_TEXT } from "../format/status-text";
import { useApp } from "../state/hooks";
import { isActive, MILESTONES, milestoneStates } from "../state/run-logic";

/** Where the run is (capture → read → plan → confirm & act → verify), with Cancel while it runs. */
export function RunProgress() {
  const run = useApp((s) => s.run);
  const cancel = useApp((s) => s.cancelRun);
  const cancelling = useApp((s) => s.cancelling);
  if (!run) {
    return (
      <output className="stage-line" data-testid="stage" data-stage="idle">
        Ready
      </output>
    );
  }
  const states = milestoneStates(run);
  return (
    <section className="progress" aria-label="Progress">
      <div className="stage-line">
        <output data-testid="stage" data-stage={run.stage} aria-live="polite">
          {cancelling ? "Stopping…" : stageText(run)}
          {run.stageDetail ? ` — ${run.stageDetail}` : ""}
        </output>
        {isActive(run) ? (
          <button
            type="button"
            className="danger-outline"
            onClick={() => void cancel()}
            aria-keyshortcuts="Escape"
            aria-label="Cancel the run"
            disabled={cancelling}
          >
            Cancel <kbd>Esc</kbd>
          </button>
        ) : null}
      </div>
      <p className="run-instruction" data-testid="run-instruction">
        {run.instruction}
      </p>
      <ol className="milestones" aria-label="Stages">
        {MILESTONES.map((milestone) => (
          <li
            key={milestone.id}
            data-state={states[milestone.id]}
            aria-current={states[milestone.id] === "current" ? "step" : undefined}
          >
            <span className="sr-only">{`${states[milestone.id]}: `}</span>
            {milestone.label}
          </li>
        ))}
      </ol>
    </section>
  );
}

/** "Waiting for you" only while something is really asked: a plan is "confirming" a moment before it asks. */
function stageText(run: RunState): string {
  return run.stage === "confirming" && !run.confirmation ? "Getting the next step ready…" : STAGE_TEXT[run.stage];
}
