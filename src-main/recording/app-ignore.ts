/**
 * What the recorder leaves out when it runs inside the app: presses and wheel
 * turns on Sightline's own windows (the overlay, the headless page) and the
 * record hotkey's own key (stopping a recording with it is not a step). Pure.
 */
import type { ScreenBox } from "../../src-shared/bridge-api";
import { HOOK_KEY, type HookKeyName } from "./hook-keycodes";
import type { InputEvent } from "./input-events";

type Chord = { keycode: number; ctrlOrMeta: boolean; shift: boolean; alt: boolean };

/** An Electron accelerator ("CommandOrControl+Shift+R") as a hook key chord; undefined for keys it cannot name. */
export function chordOf(accelerator: string): Chord | undefined {
  const parts = accelerator.split("+").map((p) => p.trim());
  const key = parts.pop() ?? "";
  const name = (/^\d$/.test(key) ? `Digit${key}` : key.length === 1 ? key.toUpperCase() : key) as HookKeyName;
  const keycode = Object.hasOwn(HOOK_KEY, name) ? HOOK_KEY[name] : undefined;
  if (keycode === undefined) return undefined;
  const has = (...names: string[]) => parts.some((p) => names.includes(p.toLowerCase()));
  return {
    keycode,
    ctrlOrMeta: has("commandorcontrol", "cmdorctrl", "control", "ctrl", "command", "cmd", "super", "meta"),
    shift: has("shift"),
    alt: has("alt", "option", "altgr"),
  };
}

const inside = (box: ScreenBox, x: number, y: number) =>
  x >= box.x && y >= box.y && x < box.x + box.width && y < box.y + box.height;

export function appInputFilter(sources: {
  /** Sightline's own windows now, desktop physical pixels. */
  ownWindows: () => readonly ScreenBox[];
  /** The record hotkey now (settings.hotkeys.record). */
  recordHotkey: () => string;
}): (event: InputEvent) => boolean {
  return (event) => {
    if (event.type === "mousemove") return false;
    if ("keycode" in event) {
      const chord = chordOf(sources.recordHotkey());
      if (!chord || event.keycode !== chord.keycode) return false;
      const m = event.modifiers;
      return (m.ctrl || m.meta) === chord.ctrlOrMeta && m.shift === chord.shift && m.alt === chord.alt;
    }
    return sources.ownWindows().some((box) => inside(box, event.x, event.y));
  };
}
