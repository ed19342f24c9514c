import { useEffect, useRef } from "react";
import type { TelemetrySample } from "../../../src-shared/bridge-api";
import { formatBytes, range, SOURCE_TEXT } from "../format/vram";
import { useApp } from "../state/hooks";
import { gpuKey, HISTORY_WINDOW_MS, type MemoryPoint } from "../state/telemetry-history";
import { GpuCard } from "./GpuCard";
import { MemoryBar } from "./MemoryBar";
import { Sparkline } from "./Sparkline";
import { VramVerdict } from "./VramVerdict";

/** Per GPU memory (split by model), utilization, temperature, power and the last minute; the planner's verdict. */
export function VramPanel() {
  const telemetry = useApp((s) => s.telemetry);
  const history = useApp((s) => s.telemetryHistory);
  const error = useApp((s) => s.telemetryError);
  const watch = useApp((s) => s.watchTelemetry);
  const showView = useApp((s) => s.showView);
  const heading = useRef<HTMLHeadingElement>(null);

  useEffect(() => {
    heading.current?.focus();
  }, []);
  // The host samples only while the panel is open.
  useEffect(() => watch(), [watch]);

  return (
    <section className="vram" aria-labelledby="vram-heading" data-testid="vram-panel">
      <div className="vram-head">
        <h2 id="vram-heading" ref={heading} tabIndex={-1}>
          GPU memory
        </h2>
        {telemetry ? (
          <span className="chip" data-testid="telemetry-source" data-source={telemetry.source}>
            {SOURCE_TEXT[telemetry.source]}
          </span>
        ) : null}
        <button
          type="button"
          className="ghost"
          onClick={() => showView("run")}
          aria-keyshortcuts="Escape"
          aria-label="Close the VRAM panel"
        >
          Close <kbd>Esc</kbd>
        </button>
      </div>
      {error ? (
        <p role="alert" className="banner banner-failed" data-testid="telemetry-error">
          No GPU figures: {error.message}
        </p>
      ) : null}
      {!telemetry ? (
        <p className="muted" data-testid="telemetry-waiting">
          Waiting for the first reading from the inference host…
        </p>
      ) : telemetry.gpus.length === 0 ? (
        <NoGpu sample={telemetry} history={history.system} />
      ) : (
        <div className="gpu-cards">
          {telemetry.gpus.map((gpu) => (
            <GpuCard
              key={gpuKey(gpu)}
              gpu={gpu}
              models={telemetry.models}
              history={history.gpus[gpuKey(gpu)] ?? []}
              now={telemetry.time_ms}
              windowMs={HISTORY_WINDOW_MS}
            />
          ))}
        </div>
      )}
      <VramVerdict />
    </section>
  );
}

/** No NVIDIA GPU: say so and why, and show system memory, where the models run instead. */
function NoGpu({ sample, history }: { sample: TelemetrySample; history: readonly MemoryPoint[] }) {
  const cpuModels = sample.models.filter((m) => m.device === "cpu");
  const { memory_used_bytes: used, memory_total_bytes: total } = sample.system;
  const seconds = Math.round(HISTORY_WINDOW_MS / 1000);
  const fractions = history.map((p) => (p.totalBytes > 0 ? p.usedBytes / p.totalBytes : null));
  const span = range(fractions);
  return (
    <>
      <div className="no-gpu" data-testid="no-gpu">
        <h3>No NVIDIA GPU</h3>
        <p>
          Sightline cannot use an NVIDIA GPU on this computer
          {sample.reason ? (
            <>
              : <span data-testid="no-gpu-reason">{sample.reason}</span>.
            </>
          ) : (
            "."
          )}{" "}
          Its models run on the CPU and use system memory, shown below.
        </p>
      </div>
      <article className="gpu-card" aria-labelledby="system-memory-heading" data-testid="system-card">
        <h3 id="system-memory-heading">System memory</h3>
        <MemoryBar
          what="System memory"
          usedBytes={used}
          totalBytes={total}
          models={cpuModels}
          otherLabel={cpuModels.length ? "Other programs" : "In use"}
        />
        <Sparkline
          description={
            `System memory in use over the last ${seconds} seconds` +
            (span
              ? `: ${Math.round(span.min * 100)} % to ${Math.round(span.max * 100)} % of ${formatBytes(total)}.`
              : ".")
          }
          now={sample.time_ms}
          windowMs={HISTORY_WINDOW_MS}
          series={[
            {
              key: "memory",
              label: "memory in use",
              points: history.map((p, i) => ({ t: p.t, v: fractions[i] ?? null })),
            },
          ]}
        />
      </article>
    </>
  );
}
