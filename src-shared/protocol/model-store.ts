/**
 * The model store over the host protocol: `list_models` reads the catalog's models with what the store has of
 * each (inference/sightline_host/models/store.py); `pull_model` downloads one, answered by `pull_progress`
 * messages carrying its request id while it runs and then one `pull_result` (or an `error`); `cancel_pull`
 * stops a pull in progress, whose own request then ends with the error `pull_cancelled`. Part of the host
 * protocol (re-exported and listed by host-messages.ts); free of the renderer API's imports so that
 * src-shared/bridge-api.ts carries the same schemas to the renderer.
 */
import { z } from "zod";
import { byteCount, requestId } from "./fields";

/** A catalog model id (the manifest's `id`). */
export const modelId = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, "a catalog model id");

export const ListModels = z
  .object({
    type: z.literal("list_models"),
    id: requestId,
  })
  .strict();

/**
 * What the store has of a model: hub models are "present", "missing", "partial" (an interrupted pull to
 * resume) or "incomplete" (files gone since); models shipped in a registry package are "installed" or
 * "not_installed".
 */
export const ModelState = z.enum(["present", "missing", "partial", "incomplete", "installed", "not_installed"]);

export const ModelEntry = z
  .object({
    model_id: modelId,
    name: z.string(),
    /** planner, vlm, detector, ocr, … (the manifest's `role`). */
    role: z.string().min(1),
    /** "hub": the store downloads it; "package": a registry package ships it and `pull_model` cannot. */
    source: z.enum(["hub", "package"]),
    state: ModelState,
    /** Bytes on disk (present), so far (partial), or as the catalog lists them; null when not known yet. */
    size_bytes: byteCount.nullable(),
    /** The store's word on it: where it came from, what is wrong, what to run. */
    detail: z.string(),
    /** The profiles that use it, as their model or as a fallback. */
    profiles: z.array(z.string().min(1)),
    /** The shell command that fetches it: `sightline-host models pull …`, or the pip install of its package. */
    command: z.string().min(1),
  })
  .strict();

export const ModelList = z
  .object({
    type: z.literal("model_list"),
    id: requestId,
    models: z.array(ModelEntry),
  })
  .strict();

/** Download one model at the catalog's pinned revision (resumes an interrupted pull; checks every sha256). */
export const PullModel = z
  .object({
    type: z.literal("pull_model"),
    id: requestId,
    model_id: modelId,
  })
  .strict();

/** Stops the pull of `model_id` in progress; answered by `pull_cancel_result`. */
export const CancelPull = z
  .object({
    type: z.literal("cancel_pull"),
    id: requestId,
    model_id: modelId,
  })
  .strict();

export const PullPhase = z.enum(["resolve", "download", "verify", "done"]);

/** One step of a pull, with the `pull_model` request's id; at most a few a second, in order. */
export const PullProgress = z
  .object({
    type: z.literal("pull_progress"),
    id: requestId,
    model_id: modelId,
    phase: PullPhase,
    /** The file being downloaded or checked; null while resolving and at the end. */
    file: z.string().nullable(),
    files_done: z.number().int().nonnegative(),
    files_total: z.number().int().nonnegative(),
    bytes_done: byteCount,
    /** 0 until the files are resolved. */
    bytes_total: byteCount,
    percent: z.number().min(0).max(100),
  })
  .strict();

/** A pull that ended well: the model is verified and in the store. */
export const PullResult = z
  .object({
    type: z.literal("pull_result"),
    id: requestId,
    model_id: modelId,
    /** Nothing was downloaded: it was there (or its package is installed). */
    already_present: z.boolean(),
    /** The hub commit installed; null for a package model. */
    revision: z.string().nullable(),
    downloaded_bytes: byteCount,
    path: z.string(),
    message: z.string(),
  })
  .strict();

export const PullCancelResult = z
  .object({
    type: z.literal("pull_cancel_result"),
    id: requestId,
    model_id: modelId,
    /** False when no pull of the model was running. */
    cancelled: z.boolean(),
  })
  .strict();

export type ModelEntry = z.infer<typeof ModelEntry>;
export type ModelState = z.infer<typeof ModelState>;
export type PullProgress = z.infer<typeof PullProgress>;
export type PullResult = z.infer<typeof PullResult>;
