/**
 * GPU telemetry as the host streams it (`telemetry` messages). Part of the host protocol (re-exported by
 * host-messages.ts, which lists them for the generated schema); kept in a file of its own, free of the
 * renderer API's imports, so that src-shared/bridge-api.ts can carry the same schemas to the renderer.
 */
import { z } from "zod";
import { byteCount, requestId } from "./fields";

/** A process using a GPU; `used_bytes` is null where the driver does not say. */
export const GpuProcess = z
  .object({
    pid: z.number().int().nonnegative(),
    used_bytes: byteCount.nullable(),
  })
  .strict();

/** One GPU as NVML sees it. A null figure is one this GPU or driver does not report. */
export const GpuTelemetry = z
  .object({
    index: z.number().int().nonnegative(),
    name: z.string(),
    uuid: z.string(),
    memory_used_bytes: byteCount,
    memory_total_bytes: byteCount,
    utilization_percent: z.number().min(0).max(100).nullable(),
    temperature_c: z.number().nullable(),
    power_w: z.number().nonnegative().nullable(),
    power_limit_w: z.number().nonnegative().nullable(),
    sm_clock_mhz: z.number().nonnegative().nullable(),
    mem_clock_mhz: z.number().nonnegative().nullable(),
    processes: z.array(GpuProcess),
  })
  .strict();

export const SystemMemory = z
  .object({
    memory_used_bytes: byteCount,
    memory_total_bytes: byteCount,
  })
  .strict();

/** What a loaded model holds on one device, as the host's model loader reported it. */
export const ModelMemory = z
  .object({
    role: z.string().min(1),
    model_id: z.string().min(1),
    /** "cpu" or "cuda:N". */
    device: z.string().min(1),
    bytes: byteCount,
  })
  .strict();

/** nvml: live GPUs; system: no NVIDIA GPU (see `reason`), system memory only; replay: a recorded NVML stream. */
export const TelemetrySourceKind = z.enum(["nvml", "system", "replay"]);

/** One telemetry sample, sent on the stream that `subscribe_telemetry` request `id` started. */
export const Telemetry = z
  .object({
    type: z.literal("telemetry"),
    id: requestId,
    source: TelemetrySourceKind,
    /** Why there are no GPU figures, in words for the user. */
    reason: z.string().optional(),
    /** Unix time of the sample, in milliseconds. */
    time_ms: z.number().nonnegative(),
    gpus: z.array(GpuTelemetry),
    system: SystemMemory,
    models: z.array(ModelMemory),
  })
  .strict();

export type GpuTelemetry = z.infer<typeof GpuTelemetry>;
export type ModelMemory = z.infer<typeof ModelMemory>;
export type SystemMemory = z.infer<typeof SystemMemory>;
export type Telemetry = z.infer<typeof Telemetry>;
