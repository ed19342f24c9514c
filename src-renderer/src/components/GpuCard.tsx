import { useId } from "react";
import type { TelemetrySample } from "../../../src-shared/bridge-api";
import { formatBytes, formatClocks, formatPercent, formatPower, formatTemperature, onGpu, range } from "../format/vram";
import type { GpuPoint } from "../state/telemetry-history";
import { MemoryBar } from "./MemoryBar";
import { Sparkline } from "./Sparkline";

type Props = {
  gpu: TelemetrySample["gpus"][number];
  models: TelemetrySample["models"];
  history: readonly GpuPoint[];
  now: number;
  windowMs: number;
};

/** One GPU: memory by model, utilization, temperature, power, clocks, and the last minute of memory and utilization. */
export function GpuCard({ gpu, models, history, now, windowMs }: Props) {
  const headingId = useId();
  const mine = models.filter((m) => onGpu(m, gpu.index));
  const clocks = formatClocks(gpu);
  const memory = range(history.map((p) => p.usedBytes));
  const util = range(history.map((p) => p.util));
  const seconds = Math.round(windowMs / 1000);
  const description =
    `GPU ${gpu.index}, last ${seconds} seconds: ` +
    (memory ? `memory in use from ${formatBytes(memory.min)} to ${formatBytes(memory.max)}` : "no memory figures") +
    (util
      ? `, utilization from ${Math.round(util.min)} % to ${Math.round(util.max)} %.`
      : ", utilization not reported.");
  return (
    <article className="gpu-card" aria-labelledby={headingId} data-testid="gpu-card" data-index={gpu.index}>
      <h3 id={headingId}>
        GPU {gpu.index} <span className="muted">· {gpu.name}</span>
      </h3>
      <MemoryBar
        what={`GPU ${gpu.index} memory`}
        usedBytes={gpu.memory_used_bytes}
        totalBytes={gpu.memory_total_bytes}
        models={mine}
      />
      <dl className="gpu-stats">
        <div>
          <dt>Utilization</dt>
          <dd data-testid="gpu-util">{formatPercent(gpu.utilization_percent)}</dd>
        </div>
        <div>
          <dt>Temperature</dt>
          <dd data-testid="gpu-temperature">{formatTemperature(gpu.temperature_c)}</dd>
        </div>
        <div>
          <dt>Power</dt>
          <dd data-testid="gpu-power">{formatPower(gpu.power_w, gpu.power_limit_w)}</dd>
        </div>
        {clocks ? (
          <div>
            <dt>Clocks</dt>
            <dd data-testid="gpu-clocks">{clocks}</dd>
          </div>
        ) : null}
      </dl>
      {gpu.processes.length ? (
        <p className="gpu-processes" data-testid="gpu-processes">
          Processes:{" "}
          {gpu.processes
            .map((p) => `PID ${p.pid}${p.used_bytes === null ? "" : ` (${formatBytes(p.used_bytes)})`}`)
            .join(", ")}
        </p>
      ) : null}
      <Sparkline
        description={description}
        now={now}
        windowMs={windowMs}
        series={[
          {
            key: "util",
            label: "utilization",
            points: history.map((p) => ({ t: p.t, v: p.util === null ? null : p.util / 100 })),
          },
          {
            key: "memory",
            label: "memory in use",
            points: history.map((p) => ({ t: p.t, v: p.totalBytes > 0 ? p.usedBytes / p.totalBytes : null })),
          },
        ]}
      />
    </article>
  );
}
