import type { RunStep, ScreenElement } from "../../../src-shared/bridge-api";
import { describeAction, describeTarget } from "../format/describe-action";
import { withEmphasis } from "../format/emphasis";
import { useApp } from "../state/hooks";
import { type ShownStepStatus, shownStepStatus } from "../state/run-logic";
import { RiskBadge, RiskReasons, StepStatusBadge } from "./Badges";

/** The plan as it arrives: the planner's streamed text first, then each step with its action, target, risk and status. */
export function PlanView() {
  const run = useApp((s) => s.run);
  if (!run || (run.steps.length === 0 && run.planningText === undefined)) return null;
  return (
    <section className="plan" aria-labelledby="plan-heading">
      <h2 id="plan-heading">Plan {run.planner ? <span className="muted">· {run.planner}</span> : null}</h2>
      {run.steps.length === 0 ? <PlanningText text={run.planningText ?? ""} /> : null}
      {run.steps.length > 0 ? (
        <ol className="plan-steps" data-testid="plan">
          {run.steps.map((step) => (
            <PlanStepItem
              key={step.index}
              step={step}
              status={shownStepStatus(run, step)}
              total={run.steps.length}
              elements={run.elements}
            />
          ))}
        </ol>
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
  total: number;
  elements: readonly ScreenElement[];
};

function PlanStepItem({ step, status, total, elements }: PlanStepItemProps) {
  const target = describeTarget(step.action, elements);
  return (
    <li
      className={`plan-step step-${status}`}
      data-testid="plan-step"
      data-status={step.status}
      data-risk={step.risk.level}
      aria-current={status === "waiting" || status === "running" ? "step" : undefined}
      aria-label={`Step ${step.index + 1} of ${total}: ${step.description}`}
    >
      <span className="step-number" aria-hidden="true">
        {step.index + 1}
      </span>
      <div className="step-body">
        <p className="step-description">{withEmphasis(step.description)}</p>
        <p className="step-action" data-testid="step-action">
          {describeAction(step.action)}
          {target ? <span className="muted"> · target: {target}</span> : null}
        </p>
        <RiskReasons risk={step.risk} />
        {step.detail ? <p className="step-detail">{step.detail}</p> : null}
      </div>
      <div className="step-badges">
        <RiskBadge risk={step.risk} />
        <StepStatusBadge status={status} />
      </div>
    </li>
  );
}
