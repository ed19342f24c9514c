import { randomUUID } from "node:crypto";
import WebSocket from "ws";
import { observeFrameParts, type RawObserve } from "../../src-shared/protocol/binary-frame";
import {
  type ClientMessage,
  type ErrorCode,
  HostMessage,
  LIMITS,
  type ModelEntry,
  type ObserveResult,
  type PointResult,
  PROTOCOL_VERSION,
  type PullProgress,
  type PullResult,
  type Telemetry,
  type VramPlan,
} from "../../src-shared/protocol/host-messages";
import type { Capture, RawPixels } from "../capture/capture";
import { Backoff, sleep } from "../util/backoff";
import { TypedEvents } from "../util/typed-events";
import { isLoopbackUrl } from "./loopback";
import type { HostEndpoint } from "./supervisor";

/** An error the host answered with, or one on the way to it; `code` says which. */
export class HostError extends Error {
  constructor(
    readonly code: ErrorCode | "timeout" | "disconnected" | "invalid_reply" | "aborted",
    message: string,
    /** A shell command that fixes it, where the host named one. */
    readonly command?: string,
  ) {
    super(message);
    this.name = "HostError";
  }
}

/** A pull may wait this long between two of its progress messages (a slow hub, a large file being hashed). */
export const PULL_IDLE_TIMEOUT_MS = 10 * 60_000;

type Pending = {
  resolve: (message: HostMessage) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
  /** For a request the host answers with progress first (pull_model): each progress message. */
  progress?: (message: PullProgress) => void;
  /** Restarts the timeout: a request with progress times out only when the progress stops. */
  restartTimer?: () => void;
};

type ClientEvents = {
  connected: { host: string };
  disconnected: { reason: string };
  /** A sample of the telemetry stream that startTelemetry() keeps running. */
  telemetry: Telemetry;
  /** The host answered the stream with an error (its replay file is unreadable, sampling failed). */
  telemetryError: { code: string; message: string };
};

/** The telemetry stream the app wants: its interval, and the id of the subscription in force (none while away). */
type TelemetryWish = { intervalMs: number; id: string | undefined; subscribing: boolean };

type WithoutId<M> = M extends unknown ? Omit<M, "id"> : never;

/** The capability a host announces in hello_ok when it reads RawImage and binary frames. */
export const RAW_IMAGE_CAPABILITY = "raw_image";

/** The capability a host announces in hello_ok when its profile has a vlm that `point` asks. */
export const POINT_CAPABILITY = "point";

export type PointOptions = {
  /** At most this many points (1 to LIMITS.maxPointsPerAnswer; the host's default is the most). */
  maxPoints?: number;
  /** Stops waiting for the answer: the promise rejects with HostError("aborted"); the reply, if any, is dropped. */
  signal?: AbortSignal;
};

export type HostClientOptions = {
  /** Resolves with the host's current endpoint; called again for every reconnection. */
  endpoint: () => Promise<Pick<HostEndpoint, "url" | "token">>;
  requestTimeoutMs?: number;
  clientName?: string;
  /** Whether a host URL is on this machine, where raw pixels beat a PNG; default: a loopback address. */
  isLocal?: (url: string) => boolean;
};

/**
 * The app's side of the host's `/ws`: a version handshake, request/response by
 * id with timeouts, replies validated with zod, and reconnection (to a new port,
 * if the supervisor restarted the host) with back-off.
 */
export class HostClient extends TypedEvents<ClientEvents> {
  private socket: WebSocket | undefined;
  private connecting: Promise<WebSocket> | undefined;
  private readonly pending = new Map<string, Pending>();
  private readonly backoff = new Backoff(200, 5000);
  private readonly telemetryBackoff = new Backoff(500, 5000);
  private telemetryWish: TelemetryWish | undefined;
  private closed = false;
  /** Connections to a host on this machine that reads raw pixels. */
  private readonly rawSockets = new WeakSet<WebSocket>();
  /** Connections whose host announced POINT_CAPABILITY (its profile has a vlm). */
  private readonly pointSockets = new WeakSet<WebSocket>();

  constructor(private readonly options: HostClientOptions) {
    super();
  }

  async observePng(png: Buffer, minConfidence?: number): Promise<ObserveResult> {
    return observed(
      await this.request({
        type: "observe",
        image: { format: "png", data: png.toString("base64") },
        ...confidence(minConfidence),
      }),
    );
  }

  /**
   * Observes a capture: its raw pixels in a binary frame where the host is on this machine and reads them
   * (no encoding on either side, bench/capture-transport.ts), its PNG otherwise (a remote host: the network,
   * not the encoder, is then the cost).
   */
  async observeCapture(capture: Capture, minConfidence?: number): Promise<ObserveResult> {
    const timeoutMs = this.options.requestTimeoutMs ?? 60_000;
    const attempt = async (socket: WebSocket) => {
      const pixels = capture.pixels;
      if (pixels && this.takesRawPixels(socket, pixels)) {
        const { format, width, height } = pixels;
        const message = { type: "observe", image: { format, width, height }, ...confidence(minConfidence) } as const;
        return this.send(socket, message, timeoutMs, pixels.data);
      }
      const image = { format: "png", data: capture.png.toString("base64") } as const;
      return this.send(socket, { type: "observe", image, ...confidence(minConfidence) }, timeoutMs);
    };
    return observed(await this.withRetry(attempt));
  }

  /**
   * Where `query` (e.g. "the Save button") is on the image, by the host's vlm: points in pixels of the image sent
   * and the model's raw answer. A capture travels as observeCapture sends it (raw pixels to a host on this
   * machine), a Buffer as PNG. A host without a vlm rejects with HostError("model_unavailable"), whose message
   * says which profile has one and the `sightline-host models pull` command that fetches it.
   */
  async point(image: Capture | Buffer, query: string, options: PointOptions = {}): Promise<PointResult> {
    const { signal, maxPoints } = options;
    signal?.throwIfAborted();
    const timeoutMs = this.options.requestTimeoutMs ?? 60_000;
    const limit = maxPoints === undefined ? {} : { max_points: maxPoints };
    const attempt = async (socket: WebSocket) => {
      const pixels = Buffer.isBuffer(image) ? undefined : image.pixels;
      if (pixels && this.takesRawPixels(socket, pixels)) {
        const { format, width, height } = pixels;
        const message = { type: "point", image: { format, width, height }, query, ...limit } as const;
        return this.send(socket, message, timeoutMs, pixels.data);
      }
      const png = Buffer.isBuffer(image) ? image : image.png;
      const message = {
        type: "point",
        image: { format: "png", data: png.toString("base64") },
        query,
        ...limit,
      } as const;
      return this.send(socket, message, timeoutMs);
    };
    const reply = await abortable(this.withRetry(attempt), signal);
    if (reply.type !== "point_result") throw new HostError("invalid_reply", `expected point_result, got ${reply.type}`);
    return reply;
  }

  /** Whether the host (connecting first) announced that its vlm can `point`. */
  async canPoint(): Promise<boolean> {
    return this.pointSockets.has(await this.connection());
  }

  /** Whether observeCapture would send these pixels raw (connecting first): a loopback host that reads them. */
  async sendsRawPixels(pixels: RawPixels): Promise<boolean> {
    return this.takesRawPixels(await this.connection(), pixels);
  }

  private takesRawPixels(socket: WebSocket, pixels: RawPixels): boolean {
    // Over the byte limit (beyond 4K), the host would refuse raw pixels; a PNG of the same frame passes.
    return this.rawSockets.has(socket) && pixels.width * pixels.height * 4 <= LIMITS.maxImageBytes;
  }

  async ping(): Promise<void> {
    await this.request({ type: "ping" });
  }

  /** The VRAM planner's verdict for a catalog profile on the GPUs the host's telemetry sees now. */
  async planVram(profile: string): Promise<VramPlan> {
    const reply = await this.request({ type: "plan_vram", profile });
    if (reply.type !== "vram_plan") throw new HostError("invalid_reply", `expected vram_plan, got ${reply.type}`);
    return reply;
  }

  /** The catalog's models with what the host's store has of each and the profiles that use them. */
  async listModels(): Promise<ModelEntry[]> {
    const reply = await this.request({ type: "list_models" });
    if (reply.type !== "model_list") throw new HostError("invalid_reply", `expected model_list, got ${reply.type}`);
    return reply.models;
  }

  /**
   * Pulls a model into the host's store; `onProgress` gets each progress message (a few a second). Rejects
   * with the host's typed error (offline, unknown_model, download_failed, checksum_mismatch, pull_cancelled…).
   * Sent once more after a reconnection, like every request: the store resumes what it had downloaded.
   */
  async pullModel(modelId: string, onProgress: (progress: PullProgress) => void): Promise<PullResult> {
    const reply = await this.withRetry((socket) =>
      this.send(socket, { type: "pull_model", model_id: modelId }, PULL_IDLE_TIMEOUT_MS, undefined, onProgress),
    );
    if (reply.type !== "pull_result") throw new HostError("invalid_reply", `expected pull_result, got ${reply.type}`);
    return reply;
  }

  /** Stops the pull of `modelId`; false when none was running. Its pullModel then rejects with pull_cancelled. */
  async cancelPull(modelId: string): Promise<boolean> {
    const reply = await this.request({ type: "cancel_pull", model_id: modelId });
    if (reply.type !== "pull_cancel_result")
      throw new HostError("invalid_reply", `expected pull_cancel_result, got ${reply.type}`);
    return reply.cancelled;
  }

  /** True while startTelemetry() is in force. */
  get telemetryWanted(): boolean {
    return this.telemetryWish !== undefined;
  }

  /**
   * Keeps the host's telemetry stream running until stopTelemetry(): subscribes now (connecting first if
   * needed) and again after every reconnection, so a restarted host streams again by itself. Samples arrive
   * as `telemetry` events. Calling it again with the same interval does nothing.
   */
  startTelemetry(intervalMs = 1000): void {
    if (this.closed) return;
    if (this.telemetryWish?.intervalMs === intervalMs) return;
    this.telemetryWish = { intervalMs, id: undefined, subscribing: false };
    void this.subscribeTelemetry();
  }

  /** Ends the stream: no `telemetry` event follows, and the host stops sampling for this connection. */
  async stopTelemetry(): Promise<void> {
    const wish = this.telemetryWish;
    this.telemetryWish = undefined;
    if (wish?.id === undefined || this.socket?.readyState !== WebSocket.OPEN) return;
    await this.send(this.socket, { type: "unsubscribe_telemetry" }, 10_000).catch(() => {});
  }

  /**
   * Sends one request, connecting first if needed, and resolves with its reply (errors reject).
   * A request whose connection drops is sent once more after reconnecting: no host request
   * has side effects (the host never touches the desktop), so a retry is always safe.
   */
  async request(
    message: WithoutId<ClientMessage>,
    timeoutMs = this.options.requestTimeoutMs ?? 60_000,
  ): Promise<HostMessage> {
    return this.withRetry((socket) => this.send(socket, message, timeoutMs));
  }

  private async withRetry(attempt: (socket: WebSocket) => Promise<HostMessage>): Promise<HostMessage> {
    try {
      return await attempt(await this.connection());
    } catch (error) {
      if (!(error instanceof HostError) || error.code !== "disconnected" || this.closed) throw error;
      return attempt(await this.connection());
    }
  }

  close(): void {
    this.closed = true;
    this.telemetryWish = undefined;
    this.socket?.close();
    this.failPending(new HostError("disconnected", "client closed"));
  }

  /** Sends one message, as text, or with `pixels` as the binary frame of an observe with a raw image. */
  private send(
    socket: WebSocket,
    message: WithoutId<ClientMessage>,
    timeoutMs: number,
    pixels?: Buffer,
    progress?: (message: PullProgress) => void,
  ): Promise<HostMessage> {
    const id = randomUUID();
    const parts = pixels
      ? observeFrameParts({ ...(message as Omit<RawObserve, "id">), id }, pixels)
      : [Buffer.from(JSON.stringify({ ...message, id }))];
    const bytes = parts.reduce((sum, part) => sum + part.byteLength, 0);
    if (bytes > LIMITS.maxFrameBytes) {
      return Promise.reject(
        new HostError("image_too_large", `request of ${bytes} bytes exceeds the host's frame limit`),
      );
    }
    return new Promise<HostMessage>((resolve, reject) => {
      const expire = () => {
        this.pending.delete(id);
        reject(new HostError("timeout", `host did not answer ${message.type} within ${timeoutMs} ms`));
      };
      const entry: Pending = { resolve, reject, timer: setTimeout(expire, timeoutMs) };
      if (progress) {
        entry.progress = progress;
        entry.restartTimer = () => {
          clearTimeout(entry.timer);
          entry.timer = setTimeout(expire, timeoutMs);
        };
      }
      this.pending.set(id, entry);
      const failed = (error?: Error) => {
        if (!error) return;
        clearTimeout(entry.timer);
        this.pending.delete(id);
        reject(new HostError("disconnected", error.message));
      };
      if (!pixels) {
        socket.send(parts[0] as Buffer, { binary: false }, failed);
        return;
      }
      // Header and JSON, then the pixels, as fragments of one message: the pixels are sent as they lie, not
      // copied into one buffer; both sends happen in this tick, so no other message can come between them.
      const [header, json, data] = parts as [Buffer, Buffer, Buffer];
      socket.send(Buffer.concat([header, json]), { binary: true, fin: false, compress: false });
      socket.send(data, { binary: true, fin: true, compress: false }, failed);
    });
  }

  /** Subscribes on the current connection, connecting (and retrying with back-off) until it can or nobody wants it. */
  private async subscribeTelemetry(): Promise<void> {
    const wish = this.telemetryWish;
    if (!wish || wish.subscribing) return;
    wish.subscribing = true;
    try {
      while (this.telemetryWish === wish && !this.closed) {
        try {
          const socket = await this.connection();
          if (this.telemetryWish !== wish) return;
          const id = randomUUID();
          wish.id = id;
          socket.send(JSON.stringify({ type: "subscribe_telemetry", id, interval_ms: wish.intervalMs }));
          this.telemetryBackoff.reset();
          return;
        } catch {
          await sleep(this.telemetryBackoff.next());
        }
      }
    } finally {
      wish.subscribing = false;
    }
  }

  private async connection(): Promise<WebSocket> {
    if (this.closed) throw new HostError("disconnected", "client closed");
    if (this.socket?.readyState === WebSocket.OPEN) return this.socket;
    this.connecting ??= this.connectWithRetry().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private async connectWithRetry(): Promise<WebSocket> {
    const deadline = Date.now() + (this.options.requestTimeoutMs ?? 60_000);
    let lastError: Error = new Error("no attempt");
    while (!this.closed && Date.now() < deadline) {
      try {
        const socket = await this.connectOnce();
        this.backoff.reset();
        return socket;
      } catch (error) {
        lastError = error as Error;
        await sleep(this.backoff.next());
      }
    }
    throw new HostError("disconnected", `cannot reach the inference host: ${lastError.message}`);
  }

  private async connectOnce(): Promise<WebSocket> {
    const endpoint = await this.options.endpoint();
    const local = (this.options.isLocal ?? isLoopbackUrl)(endpoint.url);
    const socket = new WebSocket(`${endpoint.url.replace(/^http/, "ws")}/ws`, {
      headers: { authorization: `Bearer ${endpoint.token}` },
      maxPayload: LIMITS.maxFrameBytes,
      // On this machine, deflating a frame (or its base64 PNG) costs more than the loopback saves, and the
      // mask guards against caching proxies that a loopback connection never crosses: skip both.
      ...(local ? { perMessageDeflate: false, generateMask: (mask: Buffer) => mask.fill(0) } : {}),
    });
    await new Promise<void>((resolve, reject) => {
      socket.once("open", () => resolve());
      socket.once("error", reject);
      socket.once("unexpected-response", (_req, res) =>
        reject(new Error(`host refused the connection (HTTP ${res.statusCode})`)),
      );
    });
    socket.on("message", (data, isBinary) => this.onMessage(data, isBinary));
    socket.on("close", (code, reason) => {
      if (this.socket === socket) this.socket = undefined;
      this.failPending(new HostError("disconnected", `connection closed (${code} ${reason.toString()})`));
      this.emit("disconnected", { reason: `${code}` });
      // The stream died with the connection: reconnect (to the restarted host) and subscribe again.
      const wish = this.telemetryWish;
      if (wish && wish.id !== undefined && !this.closed) {
        wish.id = undefined;
        void this.subscribeTelemetry();
      }
    });
    socket.on("error", () => {});
    try {
      const hello = await this.send(
        socket,
        { type: "hello", protocol: PROTOCOL_VERSION, client: this.options.clientName ?? "sightline-app/0.1.0" },
        10_000,
      );
      if (hello.type !== "hello_ok") throw new HostError("invalid_reply", `expected hello_ok, got ${hello.type}`);
      if (local && hello.capabilities.includes(RAW_IMAGE_CAPABILITY)) this.rawSockets.add(socket);
      if (hello.capabilities.includes(POINT_CAPABILITY)) this.pointSockets.add(socket);
      this.socket = socket;
      this.emit("connected", { host: hello.host });
      return socket;
    } catch (error) {
      socket.close();
      throw error;
    }
  }

  private onMessage(data: WebSocket.RawData, isBinary: boolean): void {
    if (isBinary) return;
    let parsed: HostMessage;
    try {
      parsed = HostMessage.parse(JSON.parse(data.toString()));
    } catch (error) {
      // A reply we cannot read fails no one request in particular; the timeout covers the caller.
      console.error("host sent an invalid message:", (error as Error).message);
      return;
    }
    if (parsed.id === null) return;
    const wish = this.telemetryWish;
    if (wish?.id !== undefined && parsed.id === wish.id) {
      if (parsed.type === "telemetry") this.emit("telemetry", parsed);
      else if (parsed.type === "error") {
        // The host ended the stream; the next reconnection (or startTelemetry after stopTelemetry) tries again.
        wish.id = undefined;
        this.emit("telemetryError", { code: parsed.code, message: parsed.message });
      }
      return;
    }
    const pending = this.pending.get(parsed.id);
    if (!pending) return;
    if (parsed.type === "pull_progress") {
      // Not the answer yet: the request stays pending, its timeout counted from now.
      pending.restartTimer?.();
      pending.progress?.(parsed);
      return;
    }
    this.pending.delete(parsed.id);
    clearTimeout(pending.timer);
    if (parsed.type === "error") pending.reject(new HostError(parsed.code, parsed.message, parsed.command));
    else pending.resolve(parsed);
  }

  private failPending(error: Error): void {
    for (const [id, pending] of this.pending) {
      clearTimeout(pending.timer);
      pending.reject(error);
      this.pending.delete(id);
    }
  }
}

/** The promise, or a HostError("aborted") as soon as `signal` fires, whichever comes first. */
function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new HostError("aborted", "the caller stopped waiting for the host"));
    if (signal.aborted) onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

function confidence(minConfidence: number | undefined): { min_confidence?: number } {
  return minConfidence === undefined ? {} : { min_confidence: minConfidence };
}

function observed(reply: HostMessage): ObserveResult {
  if (reply.type !== "observe_result")
    throw new HostError("invalid_reply", `expected observe_result, got ${reply.type}`);
  return reply;
}
