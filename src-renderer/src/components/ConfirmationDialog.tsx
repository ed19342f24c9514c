import { useCallback, useEffect, useRef } from "react";
import type { Decision, RunStep, ScreenElement } from "../../../src-shared/bridge-api";
import { focusInstruction } from "../focus";
import { describeAction, describeTarget, isSecretStep } from "../format/describe-action";
import { withEmphasis } from "../format/emphasis";
import { useApp } from "../state/hooks";
import { canConfirmLowRiskRest, stepsAwaitingDecision } from "../state/run-logic";
import type { RunScreenshot } from "../state/run-slice";
import { RiskBadge, RiskReasons } from "./Badges";
import { TargetCrop } from "./TargetCrop";

const FOCUSABLE = "button:not([disabled]), [href], input:not([disabled]), [tabindex]:not([tabindex='-1'])";

/**
 * Asks before each action (or batch of low-risk ones). Keys: Enter confirms,
 * S skips, Esc stops, A confirms the rest of the low-risk steps. Focus starts
 * on the dialog itself, not on Confirm, so the Enter that opened nothing
 * cannot slip through, and Tab stays inside until it closes.
 */
export function ConfirmationDialog() {
  const run = useApp((s) => s.run);
  const screenshot = useApp((s) => (s.screenshot?.runId === s.run?.runId ? s.screenshot : undefined));
  const decide = useApp((s) => s.decide);
  const pending = useApp((s) => s.pending);
  const steps = stepsAwaitingDecision(run);
  const offerRest = canConfirmLowRiskRest(run);
  const dialog = useRef<HTMLDivElement>(null);
  const open = steps.length > 0;
  const key = steps.map((s) => s.index).join(",");

  const answer = useCallback(
    (decision: Decision) => {
      if (!pending) void decide(decision);
    },
    [decide, pending],
  );

  // Each new question gets the focus, so a screen reader reads it and the keys reach it.
  useEffect(() => {
    if (!open || key === "") return;
    dialog.current?.focus();
  }, [open, key]);

  useEffect(() => {
    if (!open) return;
    return () => {
      if (!document.activeElement || document.activeElement === document.body) focusInstruction();
    };
  }, [open]);

  useEffect(() => {
    if (!open) return;
    const onKey = (event: KeyboardEvent) => {
      if (event.ctrlKey || event.metaKey || event.altKey) return;
      const onButton = event.target instanceof HTMLButtonElement;
      if (event.key === "Escape") {
        event.preventDefault();
        answer("stop");
      } else if (event.key === "Enter" && !onButton) {
        // A held-down Enter from the instruction box must not confirm an action.
        event.preventDefault();
        if (!event.repeat) answer("confirm");
      } else if (event.key.toLowerCase() === "s" && !event.repeat) {
        event.preventDefault();
        answer("skip");
      } else if (event.key.toLowerCase() === "a" && offerRest && !event.repeat) {
        event.preventDefault();
        answer("confirm_low_risk_rest");
      } else if (event.key === "Tab") {
        trapTab(event, dialog.current);
      }
    };
    window.addEventListener("keydown", onKey, true);
    return () => window.removeEventListener("keydown", onKey, true);
  }, [open, answer, offerRest]);

  if (!run || !open) return null;
  const high = steps.some((s) => s.risk.level === "high");
  const total = run.totalSteps ?? run.steps.length;
  const title =
    steps.length === 1
      ? `Confirm step ${(steps[0]?.index ?? 0) + 1} of ${total}`
      : `Confirm steps ${(steps[0]?.index ?? 0) + 1}–${(steps.at(-1)?.index ?? 0) + 1} of ${total}`;

  return (
    <div className="dialog-backdrop">
      <div
        ref={dialog}
        role="dialog"
        aria-modal="true"
        aria-labelledby="confirm-title"
        aria-describedby="confirm-steps"
        tabIndex={-1}
        className={`dialog ${high ? "dialog-high-risk" : ""}`}
        data-testid="confirm-dialog"
      >
        <h2 id="confirm-title">{title}</h2>
        <div id="confirm-steps">
          {steps.map((step) => (
            <ConfirmStep key={step.index} step={step} elements={run.elements} screenshot={screenshot} />
          ))}
        </div>
        <div className="dialog-actions">
          <button
            type="button"
            className="primary"
            onClick={() => answer("confirm")}
            aria-keyshortcuts="Enter"
            aria-label={steps.length > 1 ? "Confirm these" : "Confirm"}
            disabled={pending}
          >
            {steps.length > 1 ? "Confirm these" : "Confirm"} <kbd>Enter</kbd>
          </button>
          <button
            type="button"
            onClick={() => answer("skip")}
            aria-keyshortcuts="S"
            aria-label="Skip"
            disabled={pending}
          >
            Skip <kbd>S</kbd>
          </button>
          <button
            type="button"
            className="danger-outline"
            onClick={() => answer("stop")}
            aria-keyshortcuts="Escape"
            aria-label="Stop"
            disabled={pending}
          >
            Stop <kbd>Esc</kbd>
          </button>
          {offerRest ? (
            <button
              type="button"
              onClick={() => answer("confirm_low_risk_rest")}
              aria-keyshortcuts="A"
              aria-label="Confirm the rest of the low-risk steps"
              disabled={pending}
            >
              Confirm the rest of the low-risk steps <kbd>A</kbd>
            </button>
          ) : null}
        </div>
      </div>
    </div>
  );
}

function ConfirmStep({
  step,
  elements,
  screenshot,
}: {
  step: RunStep;
  elements: readonly ScreenElement[];
  screenshot: RunScreenshot | undefined;
}) {
  const target = describeTarget(step.action, elements);
  const action = describeAction(step.action, { secret: isSecretStep(step) });
  return (
    <article className="confirm-step" data-testid="confirm-step" data-risk={step.risk.level}>
      <RiskReasons risk={step.risk} />
      <p className="confirm-description">
        {withEmphasis(step.description)} <RiskBadge risk={step.risk} />
      </p>
      <p className="step-action" data-testid="confirm-action">
        {action}
        {target ? <span className="muted"> · target: {target}</span> : null}
      </p>
      {step.targetBox && screenshot ? (
        <TargetCrop screenshot={screenshot} box={step.targetBox} label={target ?? action} />
      ) : step.targetBox ? (
        <p className="muted">Loading the screenshot…</p>
      ) : null}
    </article>
  );
}

function trapTab(event: KeyboardEvent, container: HTMLElement | null): void {
  if (!container) return;
  const items = [...container.querySelectorAll<HTMLElement>(FOCUSABLE)];
  const first = items[0];
  const last = items.at(-1);
  if (!first || !last) return;
  const active = document.activeElement;
  const inside = active instanceof Node && container.contains(active);
  if (event.shiftKey && (active === first || active === container || !inside)) {
    event.preventDefault();
    last.focus();
  } else if (!event.shiftKey && (active === last || !inside)) {
    event.preventDefault();
    first.focus();
  }
}
