import { describe, expect, it } from "vitest";
import { appInputFilter, chordOf } from "../../src-main/recording/app-ignore";
import { HOOK_KEY } from "../../src-main/recording/hook-keycodes";
import type { InputEvent } from "../../src-main/recording/input-events";
import { acceleratorText, elapsedText, recordingDate, stepCountText } from "../../src-renderer/src/format/recording";
import { isRecordShortcut } from "../../src-renderer/src/use-record-keys";

const mods = (m: Partial<{ shift: boolean; ctrl: boolean; alt: boolean; meta: boolean }> = {}) => ({
  shift: false,
  ctrl: false,
  alt: false,
  meta: false,
  ...m,
});

describe("what the recorder leaves out inside the app", () => {
  const filter = appInputFilter({
    ownWindows: () => [{ x: 100, y: 100, width: 200, height: 100 }],
    recordHotkey: () => "CommandOrControl+Shift+R",
  });
  const press = (x: number, y: number): InputEvent => ({ type: "mousedown", time: 0, x, y, button: "left", clicks: 1 });
  const key = (keycode: number, m = mods()): InputEvent => ({ type: "keydown", time: 0, keycode, modifiers: m });

  it("drops presses and wheel turns on Sightline's own window, keeps the rest", () => {
    expect(filter(press(150, 150))).toBe(true);
    expect(filter({ type: "wheel", time: 0, x: 299, y: 199, axis: "vertical", rotation: 1 })).toBe(true);
    expect(filter(press(300, 150))).toBe(false);
    expect(filter(press(99, 150))).toBe(false);
    expect(filter({ type: "mousemove", time: 0, x: 150, y: 150 })).toBe(false);
  });

  it("drops the record hotkey's chord only, not the same letter typed", () => {
    expect(filter(key(HOOK_KEY.R, mods({ ctrl: true, shift: true })))).toBe(true);
    expect(filter(key(HOOK_KEY.R, mods({ meta: true, shift: true })))).toBe(true);
    expect(filter(key(HOOK_KEY.R, mods({ shift: true })))).toBe(false);
    expect(filter(key(HOOK_KEY.R))).toBe(false);
    expect(filter(key(HOOK_KEY.S, mods({ ctrl: true, shift: true })))).toBe(false);
  });

  it("reads accelerators", () => {
    expect(chordOf("Alt+F9")).toEqual({ keycode: HOOK_KEY.F9, ctrlOrMeta: false, shift: false, alt: true });
    expect(chordOf("CmdOrCtrl+1")).toEqual({ keycode: HOOK_KEY.Digit1, ctrlOrMeta: true, shift: false, alt: false });
    expect(chordOf("Ctrl+NoSuchKey")).toBeUndefined();
  });
});

describe("the Record view's wording", () => {
  it("shows elapsed time as m:ss and h:mm:ss", () => {
    const start = "2025-01-01T12:00:00.000Z";
    const t = Date.parse(start);
    expect(elapsedText(start, t + 7_400)).toBe("0:07");
    expect(elapsedText(start, t + 754_000)).toBe("12:34");
    expect(elapsedText(start, t + 3_723_000)).toBe("1:02:03");
    expect(elapsedText(start, t - 5_000)).toBe("0:00");
    expect(elapsedText("not a date", t)).toBe("0:00");
  });

  it("counts steps and dates recordings", () => {
    expect(stepCountText(1)).toBe("1 step");
    expect(stepCountText(0)).toBe("0 steps");
    expect(recordingDate(undefined)).toBe("unknown date");
    expect(recordingDate("garbage")).toBe("unknown date");
    expect(recordingDate("2025-01-01T12:00:00.000Z", "en-GB")).toContain("2025");
  });

  it("writes accelerators as people read them", () => {
    expect(acceleratorText("CommandOrControl+Shift+R")).toBe("Ctrl+Shift+R");
    expect(acceleratorText("CmdOrCtrl+Alt+F9", true)).toBe("⌘+Alt+F9");
  });

  it("takes Alt+R and nothing else as the Record shortcut", () => {
    const e = { altKey: true, ctrlKey: false, metaKey: false, shiftKey: false, code: "KeyR" };
    expect(isRecordShortcut(e)).toBe(true);
    expect(isRecordShortcut({ ...e, ctrlKey: true })).toBe(false);
    expect(isRecordShortcut({ ...e, code: "KeyV" })).toBe(false);
  });
});
