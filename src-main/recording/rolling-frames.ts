/**
 * Why a rolling capture: the global hook reports a press after the X server
 * (or the OS) has already delivered it to the app, and by the time a capture
 * started then completes, the app may have reacted (a button shows pressed, a
 * menu opens, a dialog closes). A tutorial needs the screen as it was when
 * the user decided to click. So frames are taken ahead of time and the step
 * uses the newest one that was complete before the press.
 *
 * When: whenever the pointer comes to rest (the user is about to act, and the
 * frame then shows the hover state of the target) and, so that keyboard-only
 * changes are seen too, every `intervalMs`. One capture runs at a time.
 *
 * A frame counts as "before" a press only if it was complete when the press
 * happened, by this process's clock. The press time must be the time the
 * input happened (uiohook-input-source.ts calibrates the hook's own clock to
 * this one), not the time the event reached JavaScript, which can be late.
 */
import type { Capture } from "../capture/capture";

export type Frame = {
  id: number;
  capture: Capture;
  startedAt: number;
  /** When the capture was complete: its pixels are from no later than this. */
  doneAt: number;
};

export type RollingFramesOptions = {
  intervalMs?: number;
  /** The pointer is at rest when it has not moved for this long. */
  settleMs?: number;
  /**
   * Frames kept (a step holds on to its own frame beyond this): enough to reach
   * back past the time input may wait in a busy event loop.
   */
  keep?: number;
  now?: () => number;
  onError?: (error: Error) => void;
};

type Point = { x: number; y: number };

const inside = (capture: Capture, p: Point) => {
  const b = capture.display.bounds;
  return p.x >= b.x && p.y >= b.y && p.x < b.x + b.width && p.y < b.y + b.height;
};

export class RollingFrames {
  private readonly frames: Frame[] = [];
  private nextId = 1;
  private pointer: Point | undefined;
  private inFlight: Promise<Frame> | undefined;
  private again = false;
  private timer: NodeJS.Timeout | undefined;
  private settle: NodeJS.Timeout | undefined;
  private running = false;
  private readonly intervalMs: number;
  private readonly settleMs: number;
  private readonly keep: number;
  private readonly now: () => number;

  constructor(
    private readonly grab: (point?: Point) => Promise<Capture>,
    private readonly options: RollingFramesOptions = {},
  ) {
    this.intervalMs = options.intervalMs ?? 1000;
    this.settleMs = options.settleMs ?? 80;
    this.keep = options.keep ?? 8;
    this.now = options.now ?? Date.now;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.timer = setInterval(() => this.request(), this.intervalMs);
    this.request();
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearInterval(this.timer);
    if (this.settle) clearTimeout(this.settle);
    this.timer = undefined;
    this.settle = undefined;
    this.again = false;
    await this.inFlight?.catch(() => undefined);
  }

  /** Tells where the pointer is; a capture follows once it rests. */
  pointerMoved(p: Point): void {
    this.pointer = p;
    if (!this.running) return;
    if (this.settle) clearTimeout(this.settle);
    this.settle = setTimeout(() => this.request(), this.settleMs);
  }

  /** The newest frame complete at `time` (and showing `point`, if given). */
  latestBefore(time: number, point?: Point): Frame | undefined {
    for (let i = this.frames.length - 1; i >= 0; i--) {
      const frame = this.frames[i] as Frame;
      if (frame.doneAt <= time && (!point || inside(frame.capture, point))) return frame;
    }
    return undefined;
  }

  /** Asks for a frame once input pauses (typing shows on screen without any pointer motion). */
  poke(): void {
    if (!this.running) return;
    if (this.settle) clearTimeout(this.settle);
    this.settle = setTimeout(() => this.request(), this.settleMs);
  }

  /** The newest frame begun at `from` or later and complete by `to`: the screen between two inputs. */
  latestBetween(from: number, to: number, point?: Point): Frame | undefined {
    for (let i = this.frames.length - 1; i >= 0; i--) {
      const frame = this.frames[i] as Frame;
      if (frame.startedAt >= from && frame.doneAt <= to && (!point || inside(frame.capture, point))) return frame;
    }
    return undefined;
  }

  /** A capture right now (of the display under `point`), kept like the others. */
  captureNow(point?: Point): Promise<Frame> {
    return this.take(point ?? this.pointer);
  }

  private request(): void {
    if (!this.running) return;
    if (this.inFlight) {
      this.again = true;
      return;
    }
    this.take(this.pointer)
      .catch((error: Error) => this.options.onError?.(error))
      .finally(() => {
        if (this.again) {
          this.again = false;
          this.request();
        }
      });
  }

  private take(point: Point | undefined): Promise<Frame> {
    const previous = this.inFlight ?? Promise.resolve(undefined);
    // One capture at a time: a requested one waits for the one in flight.
    const next = previous
      .catch(() => undefined)
      .then(async () => {
        const startedAt = this.now();
        const capture = await this.grab(point);
        const frame: Frame = { id: this.nextId++, capture, startedAt, doneAt: this.now() };
        this.frames.push(frame);
        while (this.frames.length > this.keep) this.frames.shift();
        return frame;
      });
    this.inFlight = next;
    void next
      .catch(() => undefined)
      .finally(() => {
        if (this.inFlight === next) this.inFlight = undefined;
      });
    return next;
  }
}
