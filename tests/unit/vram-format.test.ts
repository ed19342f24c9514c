import { describe, expect, it } from "vitest";
import {
  describeMemory,
  formatBytes,
  formatClocks,
  formatPower,
  gpuSignature,
  memorySegments,
  onGpu,
  range,
  sparklinePath,
} from "../../src-renderer/src/format/vram";

const GIB = 2 ** 30;
const MIB = 2 ** 20;

describe("VRAM panel formatting", () => {
  it("writes sizes in binary units, as NVML and the planner count", () => {
    expect(formatBytes(150754820096)).toBe("140 GiB");
    expect(formatBytes(7.6 * GIB)).toBe("7.6 GiB");
    expect(formatBytes(612 * MIB)).toBe("612 MiB");
    expect(formatBytes(0)).toBe("0 B");
    expect(formatBytes(-2 * GIB)).toBe("−2.0 GiB");
  });

  it("says plainly when a figure is not reported", () => {
    expect(formatPower(689.6, 700)).toBe("690 W of 700 W");
    expect(formatPower(80, null)).toBe("80 W");
    expect(formatPower(null, 700)).toBe("not reported");
    expect(formatClocks({ sm_clock_mhz: 1485, mem_clock_mhz: 3201 })).toBe("SM 1485 MHz · memory 3201 MHz");
    expect(formatClocks({ sm_clock_mhz: null, mem_clock_mhz: 3201 })).toBe("memory 3201 MHz");
    expect(formatClocks({ sm_clock_mhz: null, mem_clock_mhz: null })).toBeUndefined();
  });

  it("splits a GPU's memory into its models, other use and free, adding up to the total", () => {
    const models = [
      { role: "planner", model_id: "llama", bytes: 2 * GIB },
      { role: "vlm", model_id: "molmo", bytes: 1 * GIB },
    ];
    const segments = memorySegments(4 * GIB, 10 * GIB, models);
    expect(segments.map((s) => [s.kind, s.label, s.bytes / GIB, s.colour])).toEqual([
      ["model", "llama (planner)", 2, 0],
      ["model", "molmo (vlm)", 1, 1],
      ["other", "Other use", 1, 0],
      ["free", "Free", 6, 0],
    ]);
    expect(segments.reduce((sum, s) => sum + s.bytes, 0)).toBe(10 * GIB);
    expect(describeMemory("GPU 0 memory", 4 * GIB, 10 * GIB, segments)).toBe(
      "GPU 0 memory: 4.0 GiB of 10.0 GiB in use (llama (planner) 2.0 GiB, molmo (vlm) 1.0 GiB, other use 1.0 GiB); 6.0 GiB free.",
    );
  });

  it("scales the models down when the accounting says more than NVML sees in use", () => {
    const segments = memorySegments(2 * GIB, 10 * GIB, [
      { role: "planner", model_id: "a", bytes: 3 * GIB },
      { role: "vlm", model_id: "b", bytes: 1 * GIB },
    ]);
    expect(segments.map((s) => s.bytes / GIB)).toEqual([1.5, 0.5, 0, 8]);
  });

  it("with no model, all that is used is other use", () => {
    expect(memorySegments(7 * GIB, 140 * GIB, []).map((s) => [s.kind, s.bytes / GIB])).toEqual([
      ["other", 7],
      ["free", 133],
    ]);
  });

  it("matches a model to its GPU by device name", () => {
    expect(onGpu({ device: "cuda:1" }, 1)).toBe(true);
    expect(onGpu({ device: "gpu:1" }, 1)).toBe(true);
    expect(onGpu({ device: "cuda:10" }, 1)).toBe(false);
    expect(onGpu({ device: "cpu" }, 0)).toBe(false);
  });

  it("draws the last minute, oldest at the left, 0 at the bottom, and breaks the line at gaps and missing values", () => {
    const opts = { now: 60_000, windowMs: 60_000, width: 60, height: 10 };
    expect(
      sparklinePath(
        [
          { t: -1000, v: 1 }, // before the window: left out
          { t: 0, v: 0 },
          { t: 1000, v: 0.5 },
          { t: 2000, v: 1.5 }, // clamped to the top
          { t: 30_000, v: 0.2 }, // after a 28 s gap: a new line
          { t: 31_000, v: null }, // not reported: breaks the line
          { t: 32_000, v: 0.4 },
          { t: 33_000, v: 0.4 },
        ],
        opts,
      ),
    ).toBe("M0.0,10.0 L1.0,5.0 L2.0,0.0 M30.0,8.0 M32.0,6.0 L33.0,6.0");
    expect(sparklinePath([], opts)).toBe("");
  });

  it("finds a series' range, ignoring missing values", () => {
    expect(range([3, null, 1, 2])).toEqual({ min: 1, max: 3 });
    expect(range([null])).toBeUndefined();
  });

  it("changes the GPU signature when the GPU set, the source or the free memory (to the GiB) changes", () => {
    const base = {
      source: "replay" as const,
      time_ms: 1,
      system: { memory_used_bytes: 1, memory_total_bytes: 2 },
      models: [],
      gpus: [
        {
          index: 0,
          name: "H200",
          uuid: "GPU-a",
          memory_used_bytes: 1,
          memory_total_bytes: 100,
          utilization_percent: 0,
          temperature_c: null,
          power_w: null,
          power_limit_w: null,
          sm_clock_mhz: null,
          mem_clock_mhz: null,
          processes: [],
        },
      ],
    };
    const busier = { ...base, time_ms: 2, gpus: [{ ...base.gpus[0], memory_used_bytes: 50, utilization_percent: 99 }] };
    expect(gpuSignature(busier as never)).toBe(gpuSignature(base as never));
    const gibMore = {
      ...base,
      gpus: [{ ...base.gpus[0], memory_total_bytes: 100 * GIB, memory_used_bytes: 10 * GIB }],
    };
    const gibLess = {
      ...base,
      gpus: [{ ...base.gpus[0], memory_total_bytes: 100 * GIB, memory_used_bytes: 12 * GIB }],
    };
    const slightly = {
      ...base,
      gpus: [{ ...base.gpus[0], memory_total_bytes: 100 * GIB, memory_used_bytes: 10.2 * GIB }],
    };
    expect(gpuSignature(gibLess as never)).not.toBe(gpuSignature(gibMore as never));
    expect(gpuSignature(slightly as never)).toBe(gpuSignature(gibMore as never));
    expect(gpuSignature({ ...base, source: "nvml" } as never)).not.toBe(gpuSignature(base as never));
    expect(gpuSignature({ ...base, gpus: [] } as never)).not.toBe(gpuSignature(base as never));
    expect(gpuSignature(undefined)).toBe("");
  });
});
