import type { RunStep } from "../../../src-shared/bridge-api";
import { STEP_STATUS_TEXT } from "../format/status-text";
import type { ShownStepStatus } from "../state/run-logic";

const RISK_TEXT: Record<RunStep["risk"]["level"], string> = {
  none: "no risk",
  low: "low risk",
  high: "high risk",
};

export function RiskBadge({ risk }: { risk: RunStep["risk"] }) {
  return (
    <span className={`badge risk-${risk.level}`} data-testid="risk">
      {RISK_TEXT[risk.level]}
    </span>
  );
}

export function StepStatusBadge({ status }: { status: ShownStepStatus }) {
  return (
    <span className={`badge status-${status}`} data-testid="step-status">
      {STEP_STATUS_TEXT[status]}
    </span>
  );
}

/** High-risk reasons are the point of asking, so they are shown in full, never behind a tooltip. */
export function RiskReasons({ risk }: { risk: RunStep["risk"] }) {
  if (risk.level !== "high" || risk.reasons.length === 0) return null;
  return (
    <div className="risk-reasons" data-testid="risk-reasons">
      <strong>Why this needs care:</strong>
      <ul>
        {risk.reasons.map((reason) => (
          <li key={reason}>{reason}</li>
        ))}
      </ul>
    </div>
  );
}
