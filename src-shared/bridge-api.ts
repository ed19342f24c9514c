/**
 * The API the renderer sees (`window.sightline`), as zod schemas. The preload
 * (Electron IPC) and the headless bridge (WebSocket) both carry exactly this
 * API and validate both directions with these schemas.
 */
import { z } from "zod";

/** A rectangle in physical pixels of the virtual desktop (display offset included). */
export const ScreenBox = z
  .object({ x: z.number(), y: z.number(), width: z.number().nonnegative(), height: z.number().nonnegative() })
  .strict();

export const ScreenElement = z
  .object({
    id: z.number().int().positive(),
    kind: z.enum(["text"]),
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
  })
  .strict();

export const HostStatus = z.discriminatedUnion("phase", [
  z.object({ phase: z.literal("stopped") }),
  z.object({ phase: z.literal("starting"), attempt: z.number().int() }),
  z.object({ phase: z.literal("ready"), version: z.string(), pid: z.number().int() }),
  z.object({ phase: z.literal("restarting"), inMs: z.number(), reason: z.string() }),
  z.object({ phase: z.literal("failed"), reason: z.string() }),
]);

export const Stage = z.enum(["idle", "capturing", "observing", "done", "failed"]);

export const SubmitInstructionInput = z.object({ instruction: z.string().trim().min(1).max(4000) }).strict();

export const ObserveOutcome = z
  .object({
    instruction: z.string(),
    display: DisplayInfo,
    elements: z.array(ScreenElement),
    timingsMs: z.object({ capture: z.number(), observe: z.number(), hostOcr: z.number() }).strict(),
  })
  .strict();

export const ApiError = z.object({ code: z.string(), message: z.string() }).strict();

/** Every call: its input and output schema. */
export const API_METHODS = {
  getHostStatus: { input: z.object({}).strict(), output: HostStatus },
  submitInstruction: { input: SubmitInstructionInput, output: ObserveOutcome },
} as const;

/** Every event the main process pushes to the renderer. */
export const API_EVENTS = {
  hostStatus: HostStatus,
  stage: z.object({ stage: Stage, detail: z.string().optional() }).strict(),
} as const;

export type ApiMethod = keyof typeof API_METHODS;
export type ApiEvent = keyof typeof API_EVENTS;
export type MethodInput<M extends ApiMethod> = z.infer<(typeof API_METHODS)[M]["input"]>;
export type MethodOutput<M extends ApiMethod> = z.infer<(typeof API_METHODS)[M]["output"]>;
export type EventPayload<E extends ApiEvent> = z.infer<(typeof API_EVENTS)[E]>;

export type ScreenElement = z.infer<typeof ScreenElement>;
export type ScreenBox = z.infer<typeof ScreenBox>;
export type DisplayInfo = z.infer<typeof DisplayInfo>;
export type HostStatus = z.infer<typeof HostStatus>;
export type ObserveOutcome = z.infer<typeof ObserveOutcome>;
export type Stage = z.infer<typeof Stage>;
export type ApiError = z.infer<typeof ApiError>;

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
