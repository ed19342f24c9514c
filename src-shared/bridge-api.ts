/**
 * The API the renderer sees (`window.sightline`), as zod schemas. The preload
 * (Electron IPC) and the headless bridge (WebSocket) both carry exactly this
 * API and validate both directions with these schemas.
 */
import { z } from "zod";
import { Action } from "./actions";
import { Plan } from "./plan";
import { ModelEntry, modelId, PullProgress } from "./protocol/model-store";
import { Telemetry } from "./protocol/telemetry";
import { VramPlan } from "./protocol/vram-plan";

/** A rectangle in physical pixels of the virtual desktop (display offset included). */
export const ScreenBox = z
  .object({ x: z.number(), y: z.number(), width: z.number().nonnegative(), height: z.number().nonnegative() })
  .strict();

/** What an element is: "text" for a text line no control claimed, otherwise the detector's UI vocabulary. */
export const ElementKind = z.enum([
  "text",
  "button",
  "icon",
  "text_field",
  "checkbox",
  "radio",
  "dropdown",
  "menu_item",
  "tab",
  "link",
  "toggle",
  "slider",
  "scrollbar",
  "window_control",
  "other",
]);

export const ScreenElement = z
  .object({
    id: z.number().int().positive(),
    kind: ElementKind,
    text: z.string(),
    confidence: z.number().min(0).max(1),
    /** Physical pixels of the virtual desktop. */
    box: ScreenBox,
  })
  .strict();

export const DisplayInfo = z
  .object({
    id: z.string(),
    name: z.string(),
    /** Physical pixels of the virtual desktop. */
    bounds: ScreenBox,
    primary: z.boolean(),
    /** Physical pixels per logical point. */
    scaleFactor: z.number().positive().default(1),
    /**
     * The part of the display that panels and docks leave free, in the same physical pixels as `bounds`
     * (inside them). Every capture backend fills it, with the bounds where the desktop does not say;
     * optional only so that recordings saved before it existed still load.
     */
    workArea: ScreenBox.optional(),
  })
  .strict();

export const HostStatus = z.discriminatedUnion("phase", [
  z.object({ phase: z.literal("stopped") }),
  z.object({ phase: z.literal("starting"), attempt: z.number().int() }),
  z.object({ phase: z.literal("ready"), version: z.string(), pid: z.number().int() }),
  z.object({ phase: z.literal("restarting"), inMs: z.number(), reason: z.string() }),
  z.object({ phase: z.literal("failed"), reason: z.string() }),
]);

/** Where a run is. "confirming" waits on the user; "cancelled" is the user's stop or the kill switch. */
export const RunStage = z.enum([
  "capturing",
  "observing",
  "planning",
  "confirming",
  "executing",
  "verifying",
  "done",
  "failed",
  "cancelled",
]);

export const StepStatus = z.enum(["pending", "waiting", "running", "done", "failed", "skipped"]);

export const RiskInfo = z.object({ level: z.enum(["none", "low", "high"]), reasons: z.array(z.string()) }).strict();

export const RunStep = z
  .object({
    index: z.number().int().nonnegative(),
    description: z.string(),
    action: Action,
    risk: RiskInfo,
    status: StepStatus,
    /** The target resolved on the run's screenshot, in that screenshot's pixels (for the highlight). */
    targetBox: ScreenBox.optional(),
    detail: z.string().optional(),
    /** Which plan the step came from: 1 for the first, one more for each replan. */
    round: z.number().int().positive().optional(),
    /** The closed loop's check of the step's `expect` on the screen after it ran. */
    check: z.object({ met: z.boolean(), detail: z.string() }).strict().optional(),
    /** What the screen should show after the step (from the plan), checked when given. */
    expect: z.string().optional(),
  })
  .strict();

/** A failure the user can act on: what to run, or whether retrying makes sense. */
export const RunError = z
  .object({
    code: z.string(),
    message: z.string(),
    /** A shell command that fixes it (a model pull, say). */
    command: z.string().optional(),
    retryable: z.boolean(),
  })
  .strict();

export const PendingConfirmation = z
  .object({
    /** The steps this confirmation covers: one, or a batch of low-risk ones. */
    steps: z.array(z.number().int().nonnegative()).min(1),
    /** More low-risk steps follow that "confirm the rest" would cover. */
    lowRiskRest: z.boolean(),
  })
  .strict();

/** The whole state of one instruction's run; the main process pushes a fresh copy on every change. */
export const RunState = z
  .object({
    runId: z.string(),
    instruction: z.string(),
    stage: RunStage,
    stageDetail: z.string().optional(),
    display: DisplayInfo.optional(),
    elements: z.array(ScreenElement),
    steps: z.array(RunStep),
    confirmation: PendingConfirmation.optional(),
    error: RunError.optional(),
    /** The planner's streamed text while it is still planning. */
    planningText: z.string().optional(),
    /** The run's length where the planner knows it ahead (a replay plans one recorded step at a time). */
    totalSteps: z.number().int().positive().optional(),
    /** Which planner answered ("smollm2-135m-instruct-q4_1", "replay"). */
    planner: z.string().optional(),
    timingsMs: z.record(z.string(), z.number()),
  })
  .strict();

export const Decision = z.enum(["confirm", "skip", "stop", "confirm_low_risk_rest"]);

export const Settings = z
  .object({
    hotkeys: z
      .object({
        overlay: z.string().min(1).default("CommandOrControl+Shift+Space"),
        // Not Ctrl+Shift+Escape: Windows opens the Task Manager on it.
        killSwitch: z.string().min(1).default("CommandOrControl+Alt+Escape"),
        record: z.string().min(1).default("CommandOrControl+Shift+R"),
      })
      .strict()
      .prefault({}),
    confirmation: z.enum(["each", "batch-low-risk"]).default("each"),
    host: z
      .discriminatedUnion("mode", [
        z.object({ mode: z.literal("local") }).strict(),
        z.object({ mode: z.literal("remote"), url: z.url(), token: z.string().min(16) }).strict(),
      ])
      .default({ mode: "local" }),
    profile: z.enum(["embedded", "single-gpu", "workstation"]).default("embedded"),
    theme: z.enum(["system", "light", "dark"]).default("system"),
    /** Privacy of tutorial recordings: handed to the recorder at every start. */
    recording: z
      .object({
        /** Keep no typed text at all: every "type" step says only that something was typed. */
        maskAllTyping: z.boolean().default(false),
        /** Mask typing when no click said which field had the focus. */
        maskUnidentifiedFields: z.boolean().default(true),
        /** Blur text boxes that look like e-mail addresses in the saved screenshots. */
        redactEmails: z.boolean().default(true),
        /** Blur text boxes that look like card numbers in the saved screenshots. */
        redactCardNumbers: z.boolean().default(true),
      })
      .strict()
      .prefault({}),
  })
  .strict();

/** A recording's folder name, as the library makes them. */
export const RecordingIdInput = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9-]{0,80}$/, "a recording id");

/** Where the recorder is: idle, or recording (steps written so far; `pending` still being looked at). */
export const RecordingStatus = z.discriminatedUnion("phase", [
  z.object({ phase: z.literal("idle") }).strict(),
  z
    .object({
      phase: z.enum(["recording", "finishing"]),
      id: RecordingIdInput,
      title: z.string(),
      startedAt: z.string(),
      steps: z.number().int().nonnegative(),
      pending: z.number().int().nonnegative(),
    })
    .strict(),
]);

/** One recorded step as the renderer shows it. */
export const RecordingStepView = z
  .object({
    index: z.number().int().positive(),
    kind: z.enum(["click", "drag", "scroll", "type", "key"]),
    /** Markdown inline (bold only): "Click **Save**". */
    sentence: z.string(),
    /** Milliseconds since the recording started. */
    time: z.number().nonnegative(),
    windowTitle: z.string().optional(),
    /** The step's screenshot, relative to the recording's folder (for getRecordingImage). */
    image: z
      .object({ file: z.string(), width: z.number().int().positive(), height: z.number().int().positive() })
      .strict()
      .optional(),
  })
  .strict();

export const RecordingSummaryView = z
  .object({
    id: z.string(),
    title: z.string(),
    createdAt: z.string().optional(),
    endedAt: z.string().optional(),
    status: z.enum(["recording", "complete", "damaged"]),
    stepCount: z.number().int().nonnegative(),
    folder: z.string(),
  })
  .strict();

export const RecordingExports = z
  .object({ folder: z.string(), markdown: z.string(), html: z.string(), plan: z.string().optional() })
  .strict();

/** A pull's latest progress as the renderer gets it: the host protocol's `pull_progress` less its type and id. */
export const PullProgressView = PullProgress.omit({ type: true, id: true });

/**
 * One model pull as the renderer follows it: running (with its latest progress, none before the first), or how
 * it ended. A failure carries the host's code and, where there is one, the command that fixes it.
 */
export const ModelPullState = z.discriminatedUnion("status", [
  z.object({ status: z.literal("pulling"), modelId, progress: PullProgressView.nullable() }).strict(),
  z.object({ status: z.literal("done"), modelId, message: z.string(), alreadyPresent: z.boolean() }).strict(),
  z.object({ status: z.literal("cancelled"), modelId, message: z.string() }).strict(),
  z
    .object({
      status: z.literal("failed"),
      modelId,
      error: z.object({ code: z.string(), message: z.string(), command: z.string().optional() }).strict(),
    })
    .strict(),
]);

export const SubmitInstructionInput = z.object({ instruction: z.string().trim().min(1).max(4000) }).strict();

export const ApiError = z.object({ code: z.string(), message: z.string() }).strict();

const runRef = z.object({ runId: z.string() }).strict();

/** Every call: its input and output schema. */
export const API_METHODS = {
  getHostStatus: { input: z.object({}).strict(), output: HostStatus },
  /** Starts a run (capture → observe → plan → confirm → execute); its progress arrives as `run` events. */
  submitInstruction: { input: SubmitInstructionInput, output: runRef },
  /** Starts a run of a given plan (a recorded tutorial's, say): observe, then confirm and execute its steps. */
  runPlan: { input: z.object({ instruction: z.string().min(1).max(4000), plan: Plan }).strict(), output: runRef },
  /** The user's answer to the run's pending confirmation. */
  decide: { input: z.object({ runId: z.string(), decision: Decision }).strict(), output: z.object({}).strict() },
  /** Stops a run at whatever stage it is in; no further action is performed. */
  cancelRun: { input: runRef, output: z.object({}).strict() },
  getRun: { input: runRef, output: RunState },
  /** The screenshot the run planned on, as a PNG data URL. */
  getRunScreenshot: {
    input: runRef,
    output: z
      .object({ dataUrl: z.string().startsWith("data:image/png;base64,"), width: z.number(), height: z.number() })
      .strict(),
  },
  getSettings: { input: z.object({}).strict(), output: Settings },
  updateSettings: { input: Settings.partial(), output: Settings },
  /**
   * This renderer wants `telemetry` events (the VRAM panel is open): the main process keeps the host's
   * stream running while any watcher's lease lasts. Call again before `leaseMs` runs out to keep it.
   */
  watchTelemetry: {
    input: z.object({ watcher: z.string().min(8).max(64) }).strict(),
    output: z.object({ leaseMs: z.number().int().positive() }).strict(),
  },
  /** This renderer no longer wants telemetry (the panel closed); the stream stops when no watcher is left. */
  unwatchTelemetry: {
    input: z.object({ watcher: z.string().min(8).max(64) }).strict(),
    output: z.object({}).strict(),
  },
  /** The VRAM planner's verdict for a profile on the GPUs the host sees now (the host's `plan_vram`). */
  getVramPlan: {
    input: z.object({ profile: Settings.shape.profile.unwrap() }).strict(),
    output: VramPlan.omit({ type: true, id: true }),
  },
  /** The catalog's models with what the host's store has of each, and the pulls running now. */
  listModels: {
    input: z.object({}).strict(),
    output: z.object({ models: z.array(ModelEntry), pulls: z.array(ModelPullState) }).strict(),
  },
  /**
   * Starts pulling a model into the host's store and answers at once; its progress and its end arrive as
   * `modelPull` events (also to other windows). Refused with `pull_in_progress` while that model is pulling.
   */
  pullModel: { input: z.object({ modelId }).strict(), output: z.object({}).strict() },
  /** Stops a pull; its `modelPull` event then says "cancelled". `cancelled: false` when none was running. */
  cancelPull: { input: z.object({ modelId }).strict(), output: z.object({ cancelled: z.boolean() }).strict() },
  /** Starts recording a tutorial (global input, a screenshot and the element under the pointer per step). */
  recordingStart: {
    input: z
      .object({
        title: z.string().trim().min(1).max(200).optional(),
        /** The page's own window on the screen (the headless entry's tab): clicks on it are not recorded. */
        ownWindow: ScreenBox.optional(),
      })
      .strict(),
    output: RecordingStatus,
  },
  /** Stops recording, finishes the steps still being looked at, writes the manifest and the exports. */
  recordingStop: {
    input: z.object({}).strict(),
    output: z
      .object({ recording: RecordingSummaryView, steps: z.array(RecordingStepView), exports: RecordingExports })
      .strict(),
  },
  recordingState: { input: z.object({}).strict(), output: RecordingStatus },
  /** The recordings library, newest first. */
  listRecordings: { input: z.object({}).strict(), output: z.array(RecordingSummaryView) },
  /** One recording with its steps. */
  getRecording: {
    input: z.object({ id: RecordingIdInput }).strict(),
    output: z.object({ recording: RecordingSummaryView, steps: z.array(RecordingStepView) }).strict(),
  },
  renameRecording: {
    input: z.object({ id: RecordingIdInput, title: z.string().trim().min(1).max(200) }).strict(),
    output: RecordingSummaryView,
  },
  deleteRecording: { input: z.object({ id: RecordingIdInput }).strict(), output: z.object({}).strict() },
  /** Writes the Markdown, HTML and replay-plan exports again. */
  exportRecording: { input: z.object({ id: RecordingIdInput }).strict(), output: RecordingExports },
  /**
   * The recording's folder. Electron also opens it in the file manager (`opened: true`); the headless
   * entry cannot, and the page shows the path to copy.
   */
  openRecordingFolder: {
    input: z.object({ id: RecordingIdInput }).strict(),
    output: z.object({ folder: z.string(), opened: z.boolean() }).strict(),
  },
  /** One of a recording's step screenshots, as a PNG data URL. */
  getRecordingImage: {
    input: z.object({ id: RecordingIdInput, file: z.string().regex(/^images\/step-\d{3,}\.png$/) }).strict(),
    output: z.object({ dataUrl: z.string().startsWith("data:image/png;base64,") }).strict(),
  },
  /** Replays a recording as a run: each step found again on the live screen, confirmed like any plan step. */
  replayRecording: { input: z.object({ id: RecordingIdInput }).strict(), output: runRef },
} as const;

/** Every event the main process pushes to the renderer. */
export const API_EVENTS = {
  hostStatus: HostStatus,
  run: RunState,
  /** One sample of the host's telemetry stream (about once a second, while anyone watches). */
  telemetry: Telemetry.omit({ type: true, id: true }),
  /** The host could not stream telemetry (say, its SIGHTLINE_TELEMETRY_REPLAY recording is unreadable). */
  telemetryError: ApiError,
  /** A model pull's progress (a few a second) and then its end. */
  modelPull: ModelPullState,
  /** The recorder's state, on every change (a step written, started, stopped). */
  recordingState: RecordingStatus,
  /** A step of the recording in progress, as soon as it is written. */
  recordingStep: z.object({ id: z.string(), step: RecordingStepView }).strict(),
  /** Something went wrong while recording (an observe failed, a screenshot could not be saved). */
  recordingProblem: z.object({ id: z.string(), message: z.string() }).strict(),
} as const;

export type ApiMethod = keyof typeof API_METHODS;
export type ApiEvent = keyof typeof API_EVENTS;
export type MethodInput<M extends ApiMethod> = z.infer<(typeof API_METHODS)[M]["input"]>;
export type MethodOutput<M extends ApiMethod> = z.infer<(typeof API_METHODS)[M]["output"]>;
export type EventPayload<E extends ApiEvent> = z.infer<(typeof API_EVENTS)[E]>;

export type ScreenElement = z.infer<typeof ScreenElement>;
export type ElementKind = z.infer<typeof ElementKind>;
export type ScreenBox = z.infer<typeof ScreenBox>;
export type DisplayInfo = z.infer<typeof DisplayInfo>;
export type HostStatus = z.infer<typeof HostStatus>;
export type RunStage = z.infer<typeof RunStage>;
export type StepStatus = z.infer<typeof StepStatus>;
export type RunStep = z.infer<typeof RunStep>;
export type RunState = z.infer<typeof RunState>;
export type RunError = z.infer<typeof RunError>;
export type Decision = z.infer<typeof Decision>;
export type Settings = z.infer<typeof Settings>;
export type ApiError = z.infer<typeof ApiError>;
export type RecordingStatus = z.infer<typeof RecordingStatus>;
export type RecordingStepView = z.infer<typeof RecordingStepView>;
export type RecordingSummaryView = z.infer<typeof RecordingSummaryView>;
export type RecordingExports = z.infer<typeof RecordingExports>;
export type ModelPullState = z.infer<typeof ModelPullState>;
export type PullProgressView = z.infer<typeof PullProgressView>;
export type ModelInfo = z.infer<typeof ModelEntry>;

/** What the renderer calls; the same shape over IPC and over the headless bridge. */
export type SightlineApi = {
  call<M extends ApiMethod>(method: M, input: MethodInput<M>): Promise<MethodOutput<M>>;
  on<E extends ApiEvent>(event: E, listener: (payload: EventPayload<E>) => void): () => void;
};

/** The main process's implementation of the calls, before any transport. */
export type ApiHandlers = { [M in ApiMethod]: (input: MethodInput<M>) => Promise<MethodOutput<M>> };

/** A failed call crosses the bridge as this, so the renderer can show the code and message. */
export class ApiCallError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "ApiCallError";
  }
}

/** Validates a call's input, runs its handler, validates the output: the one path every transport uses. */
export async function dispatchCall(handlers: ApiHandlers, method: string, rawInput: unknown): Promise<unknown> {
  if (!Object.hasOwn(API_METHODS, method)) throw new ApiCallError("unknown_method", `no API method ${method}`);
  const spec = API_METHODS[method as ApiMethod];
  const input = spec.input.safeParse(rawInput);
  if (!input.success) throw new ApiCallError("bad_input", z.prettifyError(input.error));
  const handler = handlers[method as ApiMethod] as (input: unknown) => Promise<unknown>;
  return spec.output.parse(await handler(input.data));
}

export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiCallError) return { code: error.code, message: error.message };
  const code = typeof (error as { code?: unknown })?.code === "string" ? (error as { code: string }).code : "internal";
  return { code, message: error instanceof Error ? error.message : String(error) };
}

/** One telemetry sample as the renderer gets it: the host protocol's `telemetry` message less its request id. */
export type TelemetrySample = EventPayload<"telemetry">;
/** The VRAM planner's answer as the renderer gets it: the host protocol's `vram_plan` less its request id. */
export type VramPlanResult = MethodOutput<"getVramPlan">;
