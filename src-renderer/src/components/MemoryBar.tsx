import type { TelemetrySample } from "../../../src-shared/bridge-api";
import { describeMemory, formatBytes, memorySegments } from "../format/vram";

type Props = {
  /** What the bar is of, for its accessible name: "GPU 0 memory", "System memory". */
  what: string;
  usedBytes: number;
  totalBytes: number;
  /** Sightline's models that hold memory here (the host's accounting). */
  models: readonly TelemetrySample["models"][number][];
  /** What the rest of the memory in use is called ("Other use" on a GPU). */
  otherLabel?: string;
};

const percent = (bytes: number, total: number) => (total > 0 ? (bytes / total) * 100 : 0);

/** Memory split into Sightline's models, other use and free: a bar, and the same in words beside it. */
export function MemoryBar({ what, usedBytes, totalBytes, models, otherLabel }: Props) {
  const segments = memorySegments(usedBytes, totalBytes, models, otherLabel);
  return (
    <div className="memory" data-testid="memory">
      <div className="memory-figures">
        <strong>{formatBytes(usedBytes)}</strong> of {formatBytes(totalBytes)} in use
      </div>
      <div className="memory-bar" role="img" aria-label={describeMemory(what, usedBytes, totalBytes, segments)}>
        {segments
          .filter((s) => s.bytes > 0 && s.kind !== "free")
          .map((s) => (
            <span
              key={s.key}
              className={`segment segment-${s.kind}${s.kind === "model" ? ` segment-model-${s.colour}` : ""}`}
              style={{ width: `${percent(s.bytes, totalBytes)}%` }}
              data-testid={`segment-${s.kind}`}
              data-label={s.label}
              data-bytes={Math.round(s.bytes)}
            />
          ))}
      </div>
      <ul className="memory-legend">
        {segments.map((s) => (
          <li key={s.key} data-testid={`legend-${s.kind}`}>
            <span
              className={`swatch segment-${s.kind}${s.kind === "model" ? ` segment-model-${s.colour}` : ""}`}
              aria-hidden="true"
            />
            <span className="legend-label">{s.label}</span> <span className="legend-bytes">{formatBytes(s.bytes)}</span>
          </li>
        ))}
      </ul>
    </div>
  );
}
