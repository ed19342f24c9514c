import { UiohookKey, type UiohookKeyboardEvent, uIOhook } from "uiohook-napi";

export type Hotkey = { key: keyof typeof UiohookKey; ctrl?: boolean; alt?: boolean; shift?: boolean; meta?: boolean };

/** Ctrl+Alt+Escape: hard to press by accident, easy to hit in a hurry, and no desktop binds it by default. */
export const DEFAULT_KILL_HOTKEY: Hotkey = { key: "Escape", ctrl: true, alt: true };

export function matchesHotkey(event: UiohookKeyboardEvent, hotkey: Hotkey): boolean {
  return (
    event.keycode === UiohookKey[hotkey.key] &&
    event.ctrlKey === Boolean(hotkey.ctrl) &&
    event.altKey === Boolean(hotkey.alt) &&
    event.shiftKey === Boolean(hotkey.shift) &&
    event.metaKey === Boolean(hotkey.meta)
  );
}

/**
 * A global hotkey that aborts the running plan at once. It listens below every
 * window (uiohook), so it works whichever app has the focus, and it aborts an
 * AbortController that the executor checks between every primitive.
 */
export class KillSwitch {
  private controller = new AbortController();
  private started = false;
  private readonly onKey = (event: UiohookKeyboardEvent) => {
    if (matchesHotkey(event, this.hotkey)) this.trigger("kill-switch hotkey");
  };

  constructor(private readonly hotkey: Hotkey = DEFAULT_KILL_HOTKEY) {}

  /** The signal for the next run; a fresh one once the previous run was stopped. */
  arm(): AbortSignal {
    if (this.controller.signal.aborted) this.controller = new AbortController();
    if (!this.started) {
      uIOhook.on("keydown", this.onKey);
      uIOhook.start();
      this.started = true;
    }
    return this.controller.signal;
  }

  trigger(reason = "stopped"): void {
    this.controller.abort(new Error(reason));
  }

  dispose(): void {
    if (!this.started) return;
    uIOhook.off("keydown", this.onKey);
    uIOhook.stop();
    this.started = false;
  }
}
