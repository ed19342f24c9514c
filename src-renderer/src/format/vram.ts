/** Words, numbers and shapes for the VRAM panel: sizes, the memory bar's segments, the sparkline's paths. Pure. */
import type { TelemetrySample, VramPlanResult } from "../../../src-shared/bridge-api";

type Gpu = TelemetrySample["gpus"][number];
type ModelMemory = TelemetrySample["models"][number];

const KIB = 1024;
const MIB = KIB * 1024;
const GIB = MIB * 1024;

/** Binary units, as NVML and the planner count: "140.4 GiB", "612 MiB", "0 B". */
export function formatBytes(bytes: number): string {
  const n = Math.abs(bytes);
  const sign = bytes < 0 ? "−" : "";
  if (n >= 100 * GIB) return `${sign}${(n / GIB).toFixed(0)} GiB`;
  if (n >= GIB) return `${sign}${(n / GIB).toFixed(1)} GiB`;
  if (n >= MIB) return `${sign}${Math.round(n / MIB)} MiB`;
  if (n >= KIB) return `${sign}${Math.round(n / KIB)} KiB`;
  return `${sign}${Math.round(n)} B`;
}

export function formatPercent(value: number | null): string {
  return value === null ? "not reported" : `${Math.round(value)} %`;
}

export function formatTemperature(celsius: number | null): string {
  return celsius === null ? "not reported" : `${Math.round(celsius)} °C`;
}

export function formatPower(watts: number | null, limit: number | null): string {
  if (watts === null) return "not reported";
  return limit === null ? `${Math.round(watts)} W` : `${Math.round(watts)} W of ${Math.round(limit)} W`;
}

/** SM and memory clocks, or undefined when the GPU reports neither. */
export function formatClocks(gpu: Pick<Gpu, "sm_clock_mhz" | "mem_clock_mhz">): string | undefined {
  const parts = [
    gpu.sm_clock_mhz === null ? undefined : `SM ${Math.round(gpu.sm_clock_mhz)} MHz`,
    gpu.mem_clock_mhz === null ? undefined : `memory ${Math.round(gpu.mem_clock_mhz)} MHz`,
  ].filter((p) => p !== undefined);
  return parts.length ? parts.join(" · ") : undefined;
}

export const SOURCE_TEXT: Record<TelemetrySample["source"], string> = {
  nvml: "Live from the NVIDIA driver (NVML)",
  replay: "Replay of a recorded NVML stream",
  system: "No NVIDIA GPU: system memory only",
};

/** One piece of a memory bar. `kind` picks its colour; models get one of a few in turn. */
export type Segment = { kind: "model" | "other" | "free"; key: string; label: string; bytes: number; colour: number };

export const MODEL_COLOURS = 4;

/** True when a model's device ("cuda:1", "gpu:1") is this GPU. */
export function onGpu(model: Pick<ModelMemory, "device">, index: number): boolean {
  return model.device === `cuda:${index}` || model.device === `gpu:${index}`;
}

/**
 * A GPU's memory as the bar shows it: what each of Sightline's loaded models holds there (the host's own
 * accounting), the rest of what is in use ("other": CUDA contexts, allocator slack, other programs), and
 * what is free. The parts add up to the total; if the accounting says more than NVML sees in use (a
 * model freed between the two readings), the models are scaled down to fit what is in use.
 */
export function memorySegments(
  usedBytes: number,
  totalBytes: number,
  models: readonly Pick<ModelMemory, "role" | "model_id" | "bytes">[],
  otherLabel = "Other use",
): Segment[] {
  const used = Math.min(Math.max(0, usedBytes), totalBytes);
  const held = models.reduce((sum, m) => sum + m.bytes, 0);
  const scale = held > used && held > 0 ? used / held : 1;
  const segments: Segment[] = models.map((m, i) => ({
    kind: "model",
    key: `model-${m.role}-${m.model_id}`,
    label: `${m.model_id} (${m.role})`,
    bytes: m.bytes * scale,
    colour: i % MODEL_COLOURS,
  }));
  const other = used - Math.min(held, used);
  segments.push({ kind: "other", key: "other", label: otherLabel, bytes: other, colour: 0 });
  segments.push({ kind: "free", key: "free", label: "Free", bytes: Math.max(0, totalBytes - used), colour: 0 });
  return segments;
}

/** The bar in words, for a screen reader: "7.6 GiB of 140 GiB in use: … 133 GiB free." */
export function describeMemory(what: string, usedBytes: number, totalBytes: number, segments: Segment[]): string {
  const parts = segments
    .filter((s) => s.kind !== "free" && s.bytes > 0)
    .map((s) => `${s.kind === "other" ? s.label.toLowerCase() : s.label} ${formatBytes(s.bytes)}`);
  const free = segments.find((s) => s.kind === "free")?.bytes ?? 0;
  return (
    `${what}: ${formatBytes(usedBytes)} of ${formatBytes(totalBytes)} in use` +
    (parts.length ? ` (${parts.join(", ")})` : "") +
    `; ${formatBytes(free)} free.`
  );
}

/** Points to draw: time (ms) and a value from 0 to 1; null where the figure was not reported. */
export type SeriesPoint = { t: number; v: number | null };

/**
 * An SVG path for a series over the last `windowMs` ending at `now`, in a `width` × `height` box with 0 at
 * the bottom and 1 at the top (`pad` inside the edges). A gap longer than `gapMs` (the host was away) or a
 * missing value breaks the line rather than bridging it.
 */
export function sparklinePath(
  points: readonly SeriesPoint[],
  {
    now,
    windowMs,
    width,
    height,
    gapMs = 3000,
    pad = 0,
  }: { now: number; windowMs: number; width: number; height: number; gapMs?: number; pad?: number },
): string {
  const x = (t: number) => ((t - (now - windowMs)) / windowMs) * width;
  // Inside a margin, so that a line at 0 or 100 % is not lost against the edge.
  const y = (v: number) => height - pad - Math.min(1, Math.max(0, v)) * (height - 2 * pad);
  let path = "";
  let previous: SeriesPoint | undefined;
  for (const point of points) {
    if (point.t < now - windowMs || point.t > now) continue;
    if (point.v === null) {
      previous = undefined;
      continue;
    }
    const joined = previous !== undefined && previous.v !== null && point.t - previous.t <= gapMs;
    path += `${path && joined ? " L" : path ? " M" : "M"}${x(point.t).toFixed(1)},${y(point.v).toFixed(1)}`;
    previous = point;
  }
  return path;
}

/** The lowest and highest of a series' values, or undefined when it has none. */
export function range(values: readonly (number | null)[]): { min: number; max: number } | undefined {
  const known = values.filter((v): v is number => v !== null);
  if (!known.length) return undefined;
  return { min: Math.min(...known), max: Math.max(...known) };
}

export const OUTCOME_TEXT: Record<VramPlanResult["outcome"], string> = {
  fits: "Fits",
  fits_with_changes: "Fits with changes",
  does_not_fit: "Does not fit",
};

/**
 * A signature of the GPUs as the planner sees them: which GPUs, their size, and their free memory to the
 * nearest GiB. When it changes (a GPU appears, the host restarts on other GPUs, a program takes or frees a
 * gibibyte or more), the panel plans again.
 */
export function gpuSignature(sample: TelemetrySample | undefined): string {
  if (!sample) return "";
  const gpus = sample.gpus.map(
    (g) =>
      `${g.uuid || g.index}:${g.memory_total_bytes}:${Math.round((g.memory_total_bytes - g.memory_used_bytes) / GIB)}`,
  );
  return `${sample.source}|${gpus.join(",")}`;
}
