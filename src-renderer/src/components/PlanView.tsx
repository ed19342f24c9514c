import type { RunStep, ScreenElement } from "../../../src-shared/bridge-api";
import { describeAction, describeTarget, isSecretStep } from "../format/describe-action";
import { withEmphasis } from "../format/emphasis";
import { useApp } from "../state/hooks";
import { type ShownStepStatus, shownStepStatus } from "../state/run-logic";
import { RiskBadge, RiskReasons, StepStatusBadge } from "./Badges";

/** The plan as it arrives: the planner's streamed text first, then each step with its action, target, risk and status. */
export function PlanView() {
  const run = useApp((s) => s.run);
  if (!run || (run.steps.length === 0 && run.planningText === undefined)) return null;
  // A run that ended before the planner wrote anything has no plan to show (its error says why).
  if (run.steps.length === 0 && !run.planningText && run.stage !== "planning") return null;
  // While the planner is still writing, the number of steps is not known yet.
  const stillWriting = run.stage === "planning" && run.steps.length > 0;
  return (
    <section className="plan" aria-labelledby="plan-heading">
      <h2 id="plan-heading">Plan {run.planner ? <span className="muted">· {run.planner}</span> : null}</h2>
      {run.steps.length === 0 ? <PlanningText text={run.planningText ?? ""} /> : null}
      {run.steps.length > 0 ? (
        <ol className="plan-steps" data-testid="plan">
          {run.steps.map((step, i) => (
            <PlanStepItem
              key={step.index}
              step={step}
              status={shownStepStatus(run, step)}
              total={stillWriting ? undefined : (run.totalSteps ?? run.steps.length)}
              elements={run.elements}
              replanned={i > 0 && (step.round ?? 1) !== (run.steps[i - 1]?.round ?? 1)}
            />
          ))}
        </ol>
      ) : null}
      {stillWriting ? (
        <p className="planning-more muted" data-testid="planning-more" aria-live="polite">
          The planner is writing the next step…
        </p>
      ) : null}
    </section>
  );
}

function PlanningText({ text }: { text: string }) {
  return (
    <pre className="planning-text" data-testid="planning-text" aria-live="polite" aria-busy="true">
      {text || "Waiting for the planner’s first words…"}
    </pre>
  );
}

type PlanStepItemProps = {
  step: RunStep;
  status: ShownStepStatus;
  /** How many steps the plan has; undefined while the planner is still writing it. */
  total: number | undefined;
  elements: readonly ScreenElement[];
  /** The first step of a plan made after the screen did not turn out as expected. */
  replanned: boolean;
};

function PlanStepItem({ step, status, total, elements, replanned }: PlanStepItemProps) {
  const target = describeTarget(step.action, elements);
  return (
    <li
      className={`plan-step step-${status}`}
      data-testid="plan-step"
      data-status={step.status}
      data-risk={step.risk.level}
      aria-current={status === "waiting" || status === "running" ? "step" : undefined}
      aria-label={`Step ${step.index + 1}${total === undefined ? "" : ` of ${total}`}: ${step.description}`}
    >
      <span className="step-number" aria-hidden="true">
        {step.index + 1}
      </span>
      <div className="step-body">
        {replanned ? (
          <p className="step-replanned" data-testid="step-replanned">
            New plan from the screen as it is now
          </p>
        ) : null}
        <p className="step-description">{withEmphasis(step.description)}</p>
        <p className="step-action" data-testid="step-action">
          {describeAction(step.action, { secret: isSecretStep(step) })}
          {target ? <span className="muted"> · target: {target}</span> : null}
        </p>
        <RiskReasons risk={step.risk} />
        {step.detail ? <p className="step-detail">{step.detail}</p> : null}
        <ExpectationLine step={step} />
      </div>
      <div className="step-badges">
        <RiskBadge risk={step.risk} />
        <StepStatusBadge status={status} />
      </div>
    </li>
  );
}

/** What the step should change on screen, and what the closed loop saw after it. */
function ExpectationLine({ step }: { step: RunStep }) {
  if (!step.expect) return null;
  const { check } = step;
  const verdict = check === undefined ? "" : check.met ? "seen" : "not seen";
  return (
    <p className={`step-expect${check ? (check.met ? " met" : " unmet") : ""}`} data-testid="step-expect">
      <span className="muted">Expect:</span> {withEmphasis(step.expect)}
      {check ? (
        <span data-testid="step-check" data-met={check.met}>
          {" "}
          — {verdict}: {check.detail}
        </span>
      ) : null}
    </p>
  );
}
