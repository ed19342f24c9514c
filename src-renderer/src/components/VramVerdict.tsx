import { useEffect, useState } from "react";
import type { VramPlanResult } from "../../../src-shared/bridge-api";
import { formatBytes, gpuSignature, OUTCOME_TEXT } from "../format/vram";
import { useApp } from "../state/hooks";
import type { ProfileId } from "../state/telemetry-slice";

const PROFILE_TEXT: Record<ProfileId, string> = {
  embedded: "Embedded (CPU only)",
  "single-gpu": "Single GPU",
  workstation: "Workstation (several GPUs)",
};

const clock = (ms: number) =>
  new Date(ms).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });

/** The VRAM planner's verdict for a profile (the one in use, unless the user picks another) on the GPUs seen now. */
export function VramVerdict() {
  const selected = useApp((s) => s.settings?.profile);
  const state = useApp((s) => s.vramPlan);
  const load = useApp((s) => s.loadVramPlan);
  const gpus = useApp((s) => gpuSignature(s.telemetry));
  const hostReady = useApp((s) => s.host.phase === "ready");
  const [picked, setPicked] = useState<ProfileId | undefined>(undefined);
  const profile = picked ?? selected ?? "embedded";

  // Plan again when the profile, the GPUs (another set, a gibibyte more or less free) or the host's readiness change.
  useEffect(() => {
    if (hostReady && gpus) void load(profile);
  }, [profile, gpus, hostReady, load]);

  return (
    <section className="vram-plan" aria-labelledby="vram-plan-heading" data-testid="vram-plan">
      <h3 id="vram-plan-heading">Will the models fit?</h3>
      <div className="plan-controls">
        <label htmlFor="vram-plan-profile">Model profile</label>
        <select id="vram-plan-profile" value={profile} onChange={(event) => setPicked(event.target.value as ProfileId)}>
          {(Object.keys(PROFILE_TEXT) as ProfileId[]).map((id) => (
            <option key={id} value={id}>
              {PROFILE_TEXT[id]}
              {id === selected ? " — in use" : ""}
            </option>
          ))}
        </select>
        <button type="button" onClick={() => void load(profile)} disabled={state.status === "loading" || !hostReady}>
          Check again
        </button>
      </div>
      {state.status === "ready" && state.profile === profile ? (
        <PlanDetails plan={state.plan} at={state.at} />
      ) : state.status === "loading" && state.profile === profile && state.previous ? (
        <div aria-busy="true">
          <PlanDetails plan={state.previous.plan} at={state.previous.at} />
        </div>
      ) : state.status === "error" && state.profile === profile ? (
        <p role="alert" className="field-error" data-testid="vram-plan-error">
          Could not check: {state.error.message}
        </p>
      ) : (
        <p className="muted" data-testid="vram-plan-waiting">
          {hostReady ? "Checking…" : "Waiting for the inference host…"}
        </p>
      )}
    </section>
  );
}

function PlanDetails({ plan, at }: { plan: VramPlanResult; at: number }) {
  const roleOf = (role: string) => (role === "vlm" ? "VLM" : role);
  return (
    <>
      <p className={`verdict verdict-${plan.outcome}`} data-testid="vram-verdict" data-outcome={plan.outcome}>
        <span className="badge">{OUTCOME_TEXT[plan.outcome]}</span> {plan.verdict}
      </p>
      {plan.requested_problems.length ? (
        <div className="plan-problems">
          The profile's own layout (TP={plan.requested?.tensor} × PP={plan.requested?.pipeline}) cannot work:
          <ul>
            {plan.requested_problems.map((problem) => (
              <li key={problem}>{problem}</li>
            ))}
          </ul>
        </div>
      ) : null}
      {plan.gpus.length ? (
        <table className="plan-table" data-testid="vram-plan-gpus">
          <caption>{plan.chosen ? "Per GPU, with the plan above" : "Per GPU, the closest attempt"}</caption>
          <thead>
            <tr>
              <th scope="col">GPU</th>
              <th scope="col">Models</th>
              <th scope="col">Needs</th>
              <th scope="col">Free</th>
              <th scope="col">Left</th>
            </tr>
          </thead>
          <tbody>
            {plan.gpus.map((gpu) => (
              <tr key={gpu.index} data-fits={gpu.fits}>
                <th scope="row">{gpu.index}</th>
                <td>
                  {gpu.shares.length
                    ? gpu.shares.map((s) => `${roleOf(s.role)} ${formatBytes(s.total_bytes)}`).join(", ")
                    : "unused"}
                </td>
                <td>{formatBytes(gpu.used_bytes)}</td>
                <td>{formatBytes(gpu.free_bytes)}</td>
                <td className={gpu.fits ? "" : "short"}>
                  {gpu.fits ? formatBytes(gpu.headroom_bytes) : `${formatBytes(-gpu.headroom_bytes)} short`}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {plan.cpu.length ? (
        <p className="plan-cpu">
          On the CPU: {plan.cpu.map((s) => `${roleOf(s.role)} ${s.model_id} ${formatBytes(s.total_bytes)}`).join(", ")}.
        </p>
      ) : null}
      <details className="plan-lines">
        <summary>The planner's full explanation</summary>
        <pre>{plan.lines.join("\n")}</pre>
      </details>
      <p className="hint">
        Checked at {clock(at)} against the memory free then
        {plan.gpus_from === "replay" ? " (GPUs of a replayed recording)" : ""}.
      </p>
    </>
  );
}
