import { focusInstruction } from "../focus";
import { pulledModel } from "../format/models";
import { useApp } from "../state/hooks";
import { currentFailure, waysForward } from "../state/ways-forward";
import { CopyableCommand } from "./CopyableCommand";

const HINTS: Record<string, string> = {
  disconnected: "The inference host went away; Sightline restarts it by itself.",
  host_unavailable: "The inference host is not running; Sightline restarts it by itself.",
  timeout: "The inference host took too long to answer.",
  busy: "Sightline is still reading the previous screen.",
  model_unavailable: "A model this profile needs is not installed.",
  image_too_large: "The screen is larger than the host accepts.",
  plan_invalid: "The planner answered with something that is not a valid plan.",
  plan_refused: "The planner would not make a plan for this.",
  planner_refused: "The planner would not make a plan for this.",
  step_failed: "Nothing after the failed step was performed.",
  bridge_closed: "The connection to Sightline closed; it reconnects by itself.",
  bridge_unreachable: "Sightline is not reachable from this page.",
};

/** A failed run (or call) with what went wrong and the way forward: a command to run, Retry, Rephrase. */
export function ErrorPanel() {
  const run = useApp((s) => s.run);
  const callError = useApp((s) => s.callError);
  const host = useApp((s) => s.host);
  const retry = useApp((s) => s.retry);
  const rephrase = useApp((s) => s.rephrase);
  const clear = useApp((s) => s.clearRun);
  const showView = useApp((s) => s.showView);

  const failure = currentFailure(run?.stage === "failed" ? run.error : undefined, callError);
  if (!failure) return null;
  const ways = waysForward(failure, { hasRun: run !== undefined, host });
  const onRephrase = () => {
    rephrase();
    requestAnimationFrame(focusInstruction);
  };
  return (
    <div role="alert" className="error" data-testid="error" data-code={failure.code}>
      <h2>{ways.title}</h2>
      <p className="error-message">{failure.message}</p>
      {HINTS[failure.code] ? <p>{HINTS[failure.code]}</p> : null}
      {ways.hostNote ? <p data-testid="error-host">{ways.hostNote}</p> : null}
      {ways.command ? <CopyableCommand command={ways.command} /> : null}
      <div className="error-actions">
        {pulledModel(ways.command) ? (
          <button type="button" onClick={() => showView("models")} data-testid="open-models">
            Pull {pulledModel(ways.command)} in Models
          </button>
        ) : null}
        {ways.retry ? (
          <button type="button" className="primary" onClick={() => void retry()}>
            Retry
          </button>
        ) : null}
        {ways.rephrase ? (
          <button type="button" onClick={onRephrase}>
            Rephrase
          </button>
        ) : null}
        <button type="button" className="ghost" onClick={clear}>
          Dismiss
        </button>
      </div>
    </div>
  );
}
