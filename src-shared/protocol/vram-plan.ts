/**
 * The VRAM planner over the host protocol: `plan_vram` asks whether a model profile fits the GPUs the host
 * sees now (its telemetry source: NVML, or a replayed recording); `vram_plan` answers with the planner's
 * verdict in words and its figures per GPU (inference/sightline_host/models/vram.py computes them). Part of
 * the host protocol (re-exported and listed by host-messages.ts); free of the renderer API's imports so that
 * src-shared/bridge-api.ts carries the same schema to the renderer.
 */
import { z } from "zod";
import { byteCount, requestId } from "./fields";
import { TelemetrySourceKind } from "./telemetry";

const count = z.number().int().positive();

export const PlanVram = z
  .object({
    type: z.literal("plan_vram"),
    id: requestId,
    /** A profile id of the host's catalog (embedded, single-gpu, workstation, …). */
    profile: z.string().min(1).max(64),
  })
  .strict();

/** The planner model's layout: tensor-parallel × pipeline-parallel sizes, context, batch and KV dtype. */
export const PlannerLayout = z
  .object({
    model_id: z.string().min(1),
    tensor: count,
    pipeline: count,
    context: count,
    batch: count,
    kv_dtype: z.string().min(1),
    /** The GPU of each rank, stage-major; empty for the requested layout (not placed yet). */
    gpus: z.array(z.number().int().nonnegative()),
    /** Decoder layers per pipeline stage; empty for the requested layout. */
    stage_layers: z.array(z.number().int().nonnegative()),
  })
  .strict();

/** One model's planned memory on one GPU (or, in `cpu`, in system memory). */
export const PlannedShare = z
  .object({
    role: z.string().min(1),
    model_id: z.string().min(1),
    weights_bytes: byteCount,
    kv_cache_bytes: byteCount,
    activations_bytes: byteCount,
    workspace_bytes: byteCount,
    total_bytes: byteCount,
    /** e.g. "stage 0 (40 layers), TP rank 1"; empty when there is nothing to add. */
    detail: z.string(),
  })
  .strict();

/** What the plan puts on one GPU, against what is free on it. */
export const PlannedGpu = z
  .object({
    index: z.number().int().nonnegative(),
    name: z.string(),
    total_bytes: byteCount,
    /** Free when the plan was made (total minus what NVML saw in use). */
    free_bytes: byteCount,
    shares: z.array(PlannedShare),
    cuda_context_bytes: byteCount,
    /** NCCL buffers of a model split over several GPUs. */
    comm_bytes: byteCount,
    fragmentation_bytes: byteCount,
    /** Everything above added up; 0 for a GPU the plan leaves unused. */
    used_bytes: byteCount,
    /** free − used: negative when the plan does not fit this GPU. */
    headroom_bytes: z.number().int(),
    fits: z.boolean(),
  })
  .strict();

/** Answers `plan_vram`. */
export const VramPlan = z
  .object({
    type: z.literal("vram_plan"),
    id: requestId,
    profile: z.string().min(1),
    /** The telemetry source the GPUs came from; "system": no NVIDIA GPU (see `no_gpu_reason`). */
    gpus_from: TelemetrySourceKind,
    no_gpu_reason: z.string().optional(),
    /** fits: as the profile asks; fits_with_changes: the nearest plan that fits differs (see `changes`); does_not_fit: nothing found fits. */
    outcome: z.enum(["fits", "fits_with_changes", "does_not_fit"]),
    /** The verdict in one sentence. */
    verdict: z.string().min(1),
    /** The profile's planner layout as asked; null for a CPU-only profile. */
    requested: PlannerLayout.nullable(),
    /** Why the requested layout is invalid (heads not divisible by TP, …); empty when it is valid. */
    requested_problems: z.array(z.string()),
    /** The layout the planner chose; null when none fits or the profile runs on the CPU. */
    chosen: PlannerLayout.nullable(),
    /** What the chosen plan changes from the request, in words. */
    changes: z.array(z.string()),
    /** Per GPU: the chosen plan, or when none fits the closest attempt. */
    gpus: z.array(PlannedGpu),
    /** Which GPUs each role's model is placed on; an empty list: on the CPU. */
    placements: z.array(z.object({ role: z.string().min(1), gpus: z.array(z.number().int().nonnegative()) }).strict()),
    /** Roles that found no GPU with room. */
    unplaced: z.array(z.string()),
    /** Models that run on the CPU, in system memory. */
    cpu: z.array(PlannedShare),
    /** The planner's whole explanation, line by line (what `sightline-host models plan` prints). */
    lines: z.array(z.string()),
  })
  .strict();

export type PlannerLayout = z.infer<typeof PlannerLayout>;
export type PlannedShare = z.infer<typeof PlannedShare>;
export type PlannedGpu = z.infer<typeof PlannedGpu>;
export type VramPlan = z.infer<typeof VramPlan>;
