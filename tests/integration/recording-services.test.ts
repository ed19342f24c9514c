import { mkdtempSync } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { Capture } from "../../src-main/capture/capture";
import { HOOK_KEY } from "../../src-main/recording/hook-keycodes";
import type { InputEvent, InputEventListener, InputEventSource } from "../../src-main/recording/input-events";
import { characterOf } from "../../src-main/recording/keyboard-layout";
import { encodePng } from "../../src-main/recording/png-image";
import { Services } from "../../src-main/services";
import {
  type DisplayInfo,
  dispatchCall,
  type EventPayload,
  type MethodOutput,
  type ScreenElement,
} from "../../src-shared/bridge-api";
import { root, waitFor } from "./helpers";

/**
 * The recording API of the real Services (settings, library, recorder, the
 * schema-checked dispatch every transport uses, the pushed events), with only
 * the recorder's outside world faked: input fed by hand, a plain screen, and
 * observe answers for the texts on it. The host is not started.
 */
const DISPLAY: DisplayInfo = {
  id: "0",
  name: "fake",
  bounds: { x: 0, y: 0, width: 640, height: 400 },
  primary: true,
  scaleFactor: 1,
};
const ELEMENTS: ScreenElement[] = [
  { id: 1, kind: "text", text: "Name", confidence: 0.9, box: { x: 40, y: 60, width: 60, height: 24 } },
  { id: 2, kind: "button", text: "Save", confidence: 0.9, box: { x: 160, y: 300, width: 60, height: 28 } },
];
/** Sightline's own page on the screen, as the page reports it when it starts the recording. */
const OWN = { x: 400, y: 0, width: 240, height: 400 };

class ManualInput implements InputEventSource {
  listener: InputEventListener | undefined;
  start(listener: InputEventListener) {
    this.listener = listener;
  }
  stop() {
    this.listener = undefined;
  }
  emit(event: InputEvent) {
    this.listener?.(event);
  }
}

let captures = 0;
const capture = async (): Promise<Capture> => {
  captures++;
  const { width, height } = DISPLAY.bounds;
  const data = Buffer.alloc(width * height * 4, 255 - captures);
  return {
    display: DISPLAY,
    png: encodePng({ width, height, data }),
    width,
    height,
    capturedAt: captures,
    backend: "t",
  };
};

const input = new ManualInput();
const configDir = mkdtempSync(join(tmpdir(), "sightline-services-"));
const services = new Services({
  root,
  configDir,
  log: () => {},
  recorder: {
    input: () => input,
    capture,
    observe: async () => ELEMENTS,
    activeWindow: { title: async () => "Sign-up form" },
    frames: { intervalMs: 40, settleMs: 20 },
  },
});
afterAll(() => services.stop());

const call = <M extends Parameters<typeof dispatchCall>[1]>(method: M, input: unknown) =>
  dispatchCall(services.handlers, method, input) as Promise<never>;
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const NO_MODS = { shift: false, ctrl: false, alt: false, meta: false };

async function click(x: number, y: number) {
  input.emit({ type: "mousemove", time: Date.now(), x, y });
  await pause(120);
  input.emit({ type: "mousedown", time: Date.now(), x, y, button: "left", clicks: 1 });
  input.emit({ type: "mouseup", time: Date.now(), x, y, button: "left", clicks: 1 });
  await pause(60);
}
function type(text: string) {
  for (const c of text) {
    const code = Object.values(HOOK_KEY).find((k) => characterOf(k, false) === c || characterOf(k, true) === c);
    if (code === undefined) throw new Error(`no key types ${c}`);
    const modifiers = { ...NO_MODS, shift: characterOf(code, false) !== c };
    input.emit({ type: "keydown", time: Date.now(), keycode: code, modifiers });
    input.emit({ type: "keyup", time: Date.now(), keycode: code, modifiers });
  }
}

describe("recording through the app's services", () => {
  it("records, leaves out the app's own window and hotkey, and the library renames, exports and deletes", async () => {
    const states: EventPayload<"recordingState">[] = [];
    const steps: EventPayload<"recordingStep">[] = [];
    services.on("recordingState", (s) => states.push(s));
    services.on("recordingStep", (s) => steps.push(s));

    const started = (await call("recordingStart", {
      title: "Sign up",
      ownWindow: OWN,
    })) as MethodOutput<"recordingStart">;
    expect(started).toMatchObject({ phase: "recording", title: "Sign up", steps: 0 });
    await expect(call("recordingStart", {})).rejects.toMatchObject({ code: "already_recording" });
    await pause(100);
    await click(70, 72);
    type("Ada");
    await click(500, 200); // on Sightline's own page: not a step
    input.emit({
      type: "keydown",
      time: Date.now(),
      keycode: HOOK_KEY.R,
      modifiers: { ...NO_MODS, ctrl: true, shift: true },
    });
    input.emit({
      type: "keyup",
      time: Date.now(),
      keycode: HOOK_KEY.R,
      modifiers: { ...NO_MODS, ctrl: true, shift: true },
    });
    await click(190, 314);
    // The last click's step is still open (a double click could follow): stop finishes it.
    await waitFor("the first steps to be written", () => steps.length >= 2 || undefined, 10_000);

    const stopped = (await call("recordingStop", {})) as MethodOutput<"recordingStop">;
    expect(
      stopped.steps.map((s) => s.kind),
      JSON.stringify(stopped.steps),
    ).toEqual(["click", "type", "click"]);
    expect(stopped.steps.map((s) => s.sentence)).toEqual([
      "Click **Name**",
      // The fake screen never shows the typed text in the field, so the privacy pass masks it ("not-shown").
      "Type your text in **Name**",
      "Click **Save**",
    ]);
    expect(steps.map((s) => s.step.index)).toEqual([1, 2, 3]);
    expect(stopped.recording).toMatchObject({ title: "Sign up", status: "complete", stepCount: 3 });
    expect(states.at(-1)).toEqual({ phase: "idle" });
    expect(states.some((s) => s.phase !== "idle" && s.steps === 3)).toBe(true);
    expect(await readFile(stopped.exports.markdown, "utf8")).toContain("Click **Save**");
    expect(await call("recordingState", {})).toEqual({ phase: "idle" });
    await expect(call("recordingStop", {})).rejects.toMatchObject({ code: "not_recording" });

    const id = stopped.recording.id;
    const list = (await call("listRecordings", {})) as MethodOutput<"listRecordings">;
    expect(list.map((r) => r.id)).toEqual([id]);
    const renamed = (await call("renameRecording", {
      id,
      title: "Create an account",
    })) as MethodOutput<"renameRecording">;
    expect(renamed.title).toBe("Create an account");
    expect(await readFile(stopped.exports.html, "utf8")).toContain("Create an account");
    const opened = (await call("getRecording", { id })) as MethodOutput<"getRecording">;
    const image = opened.steps[0]?.image;
    expect(image?.file).toMatch(/^images\/step-001\.png$/);
    const png = (await call("getRecordingImage", { id, file: image?.file })) as MethodOutput<"getRecordingImage">;
    expect(
      Buffer.from(png.dataUrl.split(",")[1] ?? "", "base64")
        .subarray(1, 4)
        .toString(),
    ).toBe("PNG");
    const folder = (await call("openRecordingFolder", { id })) as MethodOutput<"openRecordingFolder">;
    // The headless entry cannot open a file manager: it says so and hands the path to the page.
    expect(folder).toEqual({ folder: stopped.exports.folder, opened: false });
    expect((await stat(folder.folder)).isDirectory()).toBe(true);
    const again = (await call("exportRecording", { id })) as MethodOutput<"exportRecording">;
    expect(again.plan).toBeDefined();
    await call("deleteRecording", { id });
    expect(await call("listRecordings", {})).toEqual([]);
    await expect(stat(folder.folder)).rejects.toThrow();
  });

  it("hands the privacy settings to the recorder: masked typing keeps no text", async () => {
    await call("updateSettings", { recording: { maskAllTyping: true } });
    const settings = (await call("getSettings", {})) as MethodOutput<"getSettings">;
    expect(settings.recording).toEqual({
      maskAllTyping: true,
      maskUnidentifiedFields: true,
      redactEmails: true,
      redactCardNumbers: true,
    });
    await call("recordingStart", {});
    await pause(100);
    await click(70, 72);
    type("secret words");
    await click(190, 314);
    await pause(300);
    const stopped = (await call("recordingStop", {})) as MethodOutput<"recordingStop">;
    expect(stopped.steps.map((s) => s.kind)).toEqual(["click", "type", "click"]);
    for (const file of [stopped.exports.markdown, stopped.exports.html, stopped.exports.plan ?? ""]) {
      expect(await readFile(file, "utf8")).not.toContain("secret words");
    }
  });
});
