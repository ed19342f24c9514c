import { UiohookKey, type UiohookKeyboardEvent, uIOhook } from "uiohook-napi";
import { acquireUiohook } from "../recording/uiohook-lease";

export type Hotkey = { key: keyof typeof UiohookKey; ctrl?: boolean; alt?: boolean; shift?: boolean; meta?: boolean };

/** Ctrl+Alt+Escape: hard to press by accident, easy to hit in a hurry, and no desktop binds it by default. */
export const DEFAULT_KILL_HOTKEY: Hotkey = { key: "Escape", ctrl: true, alt: true };

const ACCELERATOR_KEYS: Record<string, keyof typeof UiohookKey> = {
  esc: "Escape",
  escape: "Escape",
  space: "Space",
  enter: "Enter",
  return: "Enter",
  tab: "Tab",
  backspace: "Backspace",
  delete: "Delete",
  insert: "Insert",
  home: "Home",
  end: "End",
  pageup: "PageUp",
  pagedown: "PageDown",
  up: "ArrowUp",
  down: "ArrowDown",
  left: "ArrowLeft",
  right: "ArrowRight",
};

/**
 * An Electron accelerator ("CommandOrControl+Alt+Escape") as the key the input
 * hook reports, so the kill switch answers the same setting with or without
 * Electron. "CommandOrControl" is Ctrl off macOS, as in Electron.
 */
export function hotkeyFromAccelerator(accelerator: string, platform: string = process.platform): Hotkey {
  const hotkey: Partial<Hotkey> = {};
  const parts = accelerator.split("+").map((p) => p.trim());
  for (const [i, part] of parts.entries()) {
    const name = part.toLowerCase();
    const last = i === parts.length - 1;
    if (!last && ["commandorcontrol", "cmdorctrl"].includes(name)) {
      if (platform === "darwin") hotkey.meta = true;
      else hotkey.ctrl = true;
    } else if (!last && ["control", "ctrl"].includes(name)) hotkey.ctrl = true;
    else if (!last && ["alt", "option", "altgr"].includes(name)) hotkey.alt = true;
    else if (!last && name === "shift") hotkey.shift = true;
    else if (!last && ["command", "cmd", "super", "meta"].includes(name)) hotkey.meta = true;
    else if (last) {
      const key =
        ACCELERATOR_KEYS[name] ??
        (/^(f([1-9]|1[0-9]|2[0-4])|[a-z0-9])$/.test(name)
          ? (part.toUpperCase() as keyof typeof UiohookKey)
          : undefined);
      if (!key || !(key in UiohookKey)) throw new Error(`the kill switch cannot listen for the key "${part}"`);
      hotkey.key = key;
    } else throw new Error(`"${part}" is not a modifier in "${accelerator}"`);
  }
  if (!hotkey.key) throw new Error(`no key in "${accelerator}"`);
  return hotkey as Hotkey;
}

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
  private release: (() => void) | undefined;
  private readonly onKey = (event: UiohookKeyboardEvent) => {
    if (matchesHotkey(event, this.hotkey())) this.trigger("kill-switch hotkey");
  };

  /** `hotkey` is read on every key press, so a changed setting applies at once. */
  constructor(private readonly hotkey: () => Hotkey = () => DEFAULT_KILL_HOTKEY) {}

  /** The signal for the next run; a fresh one once the previous run was stopped. */
  arm(): AbortSignal {
    if (this.controller.signal.aborted) this.controller = new AbortController();
    if (!this.release) {
      uIOhook.on("keydown", this.onKey);
      // One hook per process: a lease, so that a recording ending does not stop the kill switch's hook.
      this.release = acquireUiohook();
    }
    return this.controller.signal;
  }

  trigger(reason = "stopped"): void {
    this.controller.abort(new Error(reason));
  }

  dispose(): void {
    if (!this.release) return;
    uIOhook.off("keydown", this.onKey);
    this.release();
    this.release = undefined;
  }
}
