/** The VRAM panel's short history: per GPU (and for system memory) the last 60 seconds of samples. Pure. */
import type { TelemetrySample } from "../../../src-shared/bridge-api";

export const HISTORY_WINDOW_MS = 60_000;

/** One moment of one GPU: memory in use (of total) and utilization (null where the GPU does not say). */
export type GpuPoint = { t: number; usedBytes: number; totalBytes: number; util: number | null };
export type MemoryPoint = { t: number; usedBytes: number; totalBytes: number };

export type TelemetryHistory = {
  /** Keyed by gpuKey(): the GPU's UUID, which survives a re-enumeration. */
  gpus: Record<string, GpuPoint[]>;
  system: MemoryPoint[];
};

export const EMPTY_HISTORY: TelemetryHistory = { gpus: {}, system: [] };

export function gpuKey(gpu: TelemetrySample["gpus"][number]): string {
  return gpu.uuid || `index-${gpu.index}`;
}

/** Appends a point and keeps the window; a point at or before the last one (the clock went back) replaces the later ones. */
function append<P extends { t: number }>(points: readonly P[], point: P, windowMs: number): P[] {
  const from = point.t - windowMs;
  const kept = points.filter((p) => p.t >= from && p.t < point.t);
  kept.push(point);
  return kept;
}

/**
 * The history with `sample` added: each GPU's series gets a point, GPUs the sample no longer has are
 * dropped, and points older than `windowMs` before the sample are forgotten. Time is the host's
 * (`time_ms`), so a slow renderer does not stretch the window.
 */
export function appendSample(
  history: TelemetryHistory,
  sample: TelemetrySample,
  windowMs = HISTORY_WINDOW_MS,
): TelemetryHistory {
  const gpus: Record<string, GpuPoint[]> = {};
  for (const gpu of sample.gpus) {
    const key = gpuKey(gpu);
    gpus[key] = append(
      history.gpus[key] ?? [],
      {
        t: sample.time_ms,
        usedBytes: gpu.memory_used_bytes,
        totalBytes: gpu.memory_total_bytes,
        util: gpu.utilization_percent,
      },
      windowMs,
    );
  }
  const system = append(
    history.system,
    { t: sample.time_ms, usedBytes: sample.system.memory_used_bytes, totalBytes: sample.system.memory_total_bytes },
    windowMs,
  );
  return { gpus, system };
}
