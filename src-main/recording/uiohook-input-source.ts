import type { UiohookKeyboardEvent, UiohookMouseEvent, UiohookWheelEvent } from "uiohook-napi";
import { uIOhook, WheelDirection } from "uiohook-napi";
import type { MouseButton } from "../../src-shared/actions";
import type { InputEvent, InputEventListener, InputEventSource, Modifiers } from "./input-events";
import { acquireUiohook } from "./uiohook-lease";

/** libuiohook's button numbers: 1 left, 2 right, 3 middle (4 and 5 are side buttons, not recorded). */
const BUTTONS: Record<number, MouseButton> = { 1: "left", 2: "right", 3: "middle" };

const modifiersOf = (e: { shiftKey: boolean; ctrlKey: boolean; altKey: boolean; metaKey: boolean }): Modifiers => ({
  shift: e.shiftKey,
  ctrl: e.ctrlKey,
  alt: e.altKey,
  meta: e.metaKey,
});

/**
 * Maps the hook's event times to this process's clock. The hook stamps events
 * with its own clock (the X server's on X11), and the JavaScript callback runs
 * whenever the event loop is free, which may be long after the input. The
 * offset between the two clocks is at most the smallest gap seen between an
 * event's stamp and its arrival; with pointer motion arriving all the time,
 * that is within a few milliseconds of the truth.
 */
export class HookClock {
  private offset: number | undefined;
  private last: number | undefined;

  constructor(private readonly now: () => number = Date.now) {}

  toLocal(hookTime: number): number {
    const arrival = this.now();
    const gap = arrival - hookTime;
    // The hook's clock went back (a new X server, a wrap) or an event is implausibly late: start over.
    const restarted = this.last !== undefined && hookTime < this.last - 1000;
    if (this.offset === undefined || restarted || gap < this.offset || gap - this.offset > 10_000) this.offset = gap;
    this.last = hookTime;
    return Math.min(arrival, hookTime + this.offset);
  }
}

/**
 * Global input through uiohook-napi. Event times are the moment of the input
 * on this process's clock (HookClock), comparable with capture times.
 */
export class UiohookInputSource implements InputEventSource {
  private release: (() => void) | undefined;
  private listener: InputEventListener | undefined;
  private readonly clock = new HookClock();

  private readonly onMouse = (type: "mousedown" | "mouseup") => (e: UiohookMouseEvent) => {
    const button = BUTTONS[Number(e.button)];
    if (button) this.emit({ type, time: this.clock.toLocal(e.time), x: e.x, y: e.y, button, clicks: e.clicks });
  };
  private readonly onDown = this.onMouse("mousedown");
  private readonly onUp = this.onMouse("mouseup");
  private readonly onMove = (e: UiohookMouseEvent) =>
    this.emit({ type: "mousemove", time: this.clock.toLocal(e.time), x: e.x, y: e.y });
  private readonly onWheel = (e: UiohookWheelEvent) =>
    this.emit({
      type: "wheel",
      time: this.clock.toLocal(e.time),
      x: e.x,
      y: e.y,
      axis: e.direction === WheelDirection.HORIZONTAL ? "horizontal" : "vertical",
      rotation: e.rotation,
    });
  private readonly onKey = (type: "keydown" | "keyup") => (e: UiohookKeyboardEvent) =>
    this.emit({ type, time: this.clock.toLocal(e.time), keycode: e.keycode, modifiers: modifiersOf(e) });
  private readonly onKeyDown = this.onKey("keydown");
  private readonly onKeyUp = this.onKey("keyup");

  start(listener: InputEventListener): void {
    if (this.release) throw new Error("the input source is already started");
    this.listener = listener;
    uIOhook.on("mousedown", this.onDown);
    uIOhook.on("mouseup", this.onUp);
    uIOhook.on("mousemove", this.onMove);
    uIOhook.on("wheel", this.onWheel);
    uIOhook.on("keydown", this.onKeyDown);
    uIOhook.on("keyup", this.onKeyUp);
    this.release = acquireUiohook();
  }

  stop(): void {
    if (!this.release) return;
    uIOhook.off("mousedown", this.onDown);
    uIOhook.off("mouseup", this.onUp);
    uIOhook.off("mousemove", this.onMove);
    uIOhook.off("wheel", this.onWheel);
    uIOhook.off("keydown", this.onKeyDown);
    uIOhook.off("keyup", this.onKeyUp);
    this.release();
    this.release = undefined;
    this.listener = undefined;
  }

  private emit(event: InputEvent): void {
    this.listener?.(event);
  }
}
