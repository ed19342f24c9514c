import { describe, expect, it } from "vitest";
import { appendSample, EMPTY_HISTORY, gpuKey, HISTORY_WINDOW_MS } from "../../src-renderer/src/state/telemetry-history";
import type { TelemetrySample } from "../../src-shared/bridge-api";

const GIB = 2 ** 30;

function gpu(index: number, usedGib: number, util: number | null = 50): TelemetrySample["gpus"][number] {
  return {
    index,
    name: "NVIDIA H200",
    uuid: `GPU-${index}`,
    memory_used_bytes: usedGib * GIB,
    memory_total_bytes: 140 * GIB,
    utilization_percent: util,
    temperature_c: 40,
    power_w: 100,
    power_limit_w: 700,
    sm_clock_mhz: 345,
    mem_clock_mhz: 3201,
    processes: [],
  };
}

function sample(t: number, gpus: TelemetrySample["gpus"]): TelemetrySample {
  return {
    source: "replay",
    time_ms: t,
    gpus,
    system: { memory_used_bytes: 8 * GIB, memory_total_bytes: 64 * GIB },
    models: [],
  };
}

describe("the VRAM panel's 60-second history", () => {
  it("keeps one series per GPU, keyed by UUID, and one for system memory", () => {
    let h = appendSample(EMPTY_HISTORY, sample(1000, [gpu(0, 1), gpu(1, 7, 100)]));
    h = appendSample(h, sample(2000, [gpu(0, 2), gpu(1, 7, null)]));
    expect(Object.keys(h.gpus)).toEqual(["GPU-0", "GPU-1"]);
    expect(h.gpus["GPU-0"]).toEqual([
      { t: 1000, usedBytes: 1 * GIB, totalBytes: 140 * GIB, util: 50 },
      { t: 2000, usedBytes: 2 * GIB, totalBytes: 140 * GIB, util: 50 },
    ]);
    expect(h.gpus["GPU-1"]?.map((p) => p.util)).toEqual([100, null]);
    expect(h.system.map((p) => p.t)).toEqual([1000, 2000]);
  });

  it("forgets points more than 60 s older than the newest sample, by the host's clock", () => {
    let h = EMPTY_HISTORY;
    for (let t = 0; t <= 90_000; t += 1000) h = appendSample(h, sample(t, [gpu(0, t / 1000)]));
    const points = h.gpus["GPU-0"] ?? [];
    expect(points[0]?.t).toBe(90_000 - HISTORY_WINDOW_MS);
    expect(points.at(-1)?.t).toBe(90_000);
    expect(points).toHaveLength(61);
    expect(h.system).toHaveLength(61);
  });

  it("drops a GPU the host no longer reports, and starts a new one empty", () => {
    let h = appendSample(EMPTY_HISTORY, sample(1000, [gpu(0, 1), gpu(1, 1)]));
    h = appendSample(h, sample(2000, [gpu(1, 1), gpu(2, 3)]));
    expect(Object.keys(h.gpus).sort()).toEqual(["GPU-1", "GPU-2"]);
    expect(h.gpus["GPU-1"]).toHaveLength(2);
    expect(h.gpus["GPU-2"]).toHaveLength(1);
  });

  it("when the clock goes back (another host), later points are replaced, so time only moves forward", () => {
    let h = appendSample(EMPTY_HISTORY, sample(5000, [gpu(0, 1)]));
    h = appendSample(h, sample(6000, [gpu(0, 2)]));
    h = appendSample(h, sample(5500, [gpu(0, 3)]));
    expect(h.gpus["GPU-0"]?.map((p) => p.t)).toEqual([5000, 5500]);
  });

  it("does not change the history it was given", () => {
    const before = appendSample(EMPTY_HISTORY, sample(1000, [gpu(0, 1)]));
    const copy = structuredClone(before);
    appendSample(before, sample(2000, [gpu(0, 2)]));
    expect(before).toEqual(copy);
  });

  it("keys a GPU without a UUID by its index", () => {
    expect(gpuKey({ ...gpu(3, 1), uuid: "" })).toBe("index-3");
  });
});
