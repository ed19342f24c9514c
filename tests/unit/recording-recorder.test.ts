import { mkdtemp, readdir, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { Capture } from "../../src-main/capture/capture";
import type { ActiveWindowSource } from "../../src-main/recording/active-window";
import { HOOK_KEY } from "../../src-main/recording/hook-keycodes";
import type {
  InputEvent,
  InputEventListener,
  InputEventSource,
  Modifiers,
} from "../../src-main/recording/input-events";
import { characterOf } from "../../src-main/recording/keyboard-layout";
import { decodePng, encodePng, type RgbaImage } from "../../src-main/recording/png-image";
import { Recorder, type RecorderDeps } from "../../src-main/recording/recorder";
import { RecordingsLibrary } from "../../src-main/recording/recordings-library";
import { templateStepText } from "../../src-main/recording/step-text";
import type { DisplayInfo, ScreenBox, ScreenElement } from "../../src-shared/bridge-api";

/**
 * The recorder with everything around it faked but its own work real: a fake
 * screen that "reacts" to every press at once (its background darkens), fake
 * observe answers for the texts on it, and input events fed by hand.
 */
const DISPLAY: DisplayInfo = {
  id: "0",
  name: "fake",
  bounds: { x: 0, y: 0, width: 800, height: 600 },
  primary: true,
  scaleFactor: 1,
};

const TEXTS: Array<[string, ScreenBox]> = [
  ["Name", { x: 40, y: 60, width: 60, height: 24 }],
  ["Password", { x: 40, y: 140, width: 100, height: 24 }],
  ["Send me updates", { x: 80, y: 200, width: 180, height: 24 }],
  ["History", { x: 500, y: 40, width: 80, height: 24 }],
  ["Tuesday 1", { x: 520, y: 110, width: 100, height: 24 }],
  ["ada@example.org", { x: 400, y: 250, width: 160, height: 20 }],
  ["Volume", { x: 40, y: 300, width: 80, height: 24 }],
  ["Save", { x: 160, y: 400, width: 60, height: 28 }],
];

/** Spaces, one case: no "looks like a password" rule catches it, only the field's label does. */
const PASSWORD = "violet meadow 93";
const NAME = "Ada Lovelace";

class FakeScreen {
  presses = 0;
  captures = 0;
  observed: Array<{ bounds: ScreenBox; background: number }> = [];
  /** Text the fake app shows in its fields once typed. */
  shown: Array<[string, ScreenBox]> = [];
  /** What each capture showed, by its number (the fake's `capturedAt`), for observe to answer from. */
  private readonly snapshots = new Map<number, Array<[string, ScreenBox]>>();

  /** The fake app shows `text` in the field at `p`, as a text field does (a password field would not). */
  show(text: string, p: { x: number; y: number }) {
    this.shown.push([text, { x: p.x - 90, y: p.y - 12, width: 14 * text.length, height: 24 }]);
  }

  texts(): Array<[string, ScreenBox]> {
    return [...TEXTS, ...this.shown];
  }

  background(presses = this.presses) {
    return 250 - 20 * presses;
  }

  async capture(): Promise<Capture> {
    this.captures++;
    const { width, height } = DISPLAY.bounds;
    const bg = this.background();
    const texts = this.texts();
    const data = Buffer.alloc(width * height * 4, 255);
    for (let i = 0; i < data.length; i += 4) data.fill(bg, i, i + 3);
    // Text is drawn as stripes: something a blur visibly removes.
    for (const [, box] of texts) {
      for (let y = box.y; y < box.y + box.height; y++) {
        for (let x = box.x; x < box.x + box.width; x += 3) data.fill(0, (y * width + x) * 4, (y * width + x) * 4 + 3);
      }
    }
    const png = encodePng({ width, height, data });
    this.snapshots.set(this.captures, this.texts());
    return { display: DISPLAY, png, width, height, capturedAt: this.captures, backend: "fake" };
  }

  async observe(capture: Capture): Promise<ScreenElement[]> {
    const image = decodePng(capture.png);
    this.observed.push({ bounds: capture.display.bounds, background: image.data[0] as number });
    const b = capture.display.bounds;
    return (this.snapshots.get(capture.capturedAt) ?? [])
      .filter(
        ([, box]) =>
          box.x >= b.x && box.y >= b.y && box.x + box.width <= b.x + b.width && box.y + box.height <= b.y + b.height,
      )
      .map(([text, box], i) => ({ id: i + 1, kind: "text", text, confidence: 0.9, box }));
  }
}

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

const NO_MODS: Modifiers = { shift: false, ctrl: false, alt: false, meta: false };
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Drives the recorder like a person: moves, rests, presses (the fake app reacts at once), types. */
class Person {
  private focus: { x: number; y: number } | undefined;

  constructor(
    private readonly input: ManualInput,
    private readonly screen: FakeScreen,
  ) {}

  async moveTo(x: number, y: number) {
    this.input.emit({ type: "mousemove", time: Date.now(), x, y });
    await pause(120);
  }
  press(x: number, y: number) {
    this.input.emit({ type: "mousedown", time: Date.now(), x, y, button: "left", clicks: 1 });
    this.screen.presses++;
  }
  release(x: number, y: number) {
    this.input.emit({ type: "mouseup", time: Date.now(), x, y, button: "left", clicks: 1 });
  }
  async click(x: number, y: number) {
    this.focus = { x, y };
    await this.moveTo(x, y);
    this.press(x, y);
    this.release(x, y);
    await pause(30);
  }
  async drag(from: { x: number; y: number }, to: { x: number; y: number }) {
    await this.moveTo(from.x, from.y);
    this.press(from.x, from.y);
    await pause(30);
    this.release(to.x, to.y);
    await pause(30);
  }
  async scroll(x: number, y: number, notches: number) {
    await this.moveTo(x, y);
    for (let i = 0; i < notches; i++) {
      this.input.emit({ type: "wheel", time: Date.now(), x, y, axis: "vertical", rotation: 1 });
    }
    await pause(30);
  }
  key(keycode: number, modifiers: Modifiers = NO_MODS) {
    this.input.emit({ type: "keydown", time: Date.now(), keycode, modifiers });
    this.input.emit({ type: "keyup", time: Date.now(), keycode, modifiers });
  }
  /** Types `text`; `shows` says whether the fake app then shows it in the focused field. */
  type(text: string, shows = true) {
    if (shows && this.focus) this.screen.show(text, this.focus);
    for (const c of text) {
      const code = Object.values(HOOK_KEY).find((k) => characterOf(k, false) === c || characterOf(k, true) === c);
      if (code === undefined) throw new Error(`no key types ${c}`);
      this.key(code, { ...NO_MODS, shift: characterOf(code, false) !== c });
    }
  }
}

async function filesUnder(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

function variance(img: RgbaImage, box: ScreenBox) {
  const values: number[] = [];
  for (let y = box.y; y < box.y + box.height; y++) {
    for (let x = box.x; x < box.x + box.width; x++) values.push(img.data[(y * img.width + x) * 4] as number);
  }
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  return values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length;
}

/** A recorder on the fake screen; `deps` replaces any of its parts. */
async function setUp(deps: Partial<Pick<RecorderDeps, "writeStepText" | "observe" | "ignore" | "activeWindow">> = {}) {
  const library = new RecordingsLibrary(await mkdtemp(join(tmpdir(), "recorder-")));
  const screen = new FakeScreen();
  const input = new ManualInput();
  const titles: ActiveWindowSource = { title: async () => "Test form — ada@example.org — Fake" };
  const recorder = new Recorder({
    library,
    input,
    capture: () => screen.capture(),
    observe: (capture) => screen.observe(capture),
    activeWindow: titles,
    frames: { intervalMs: 40, settleMs: 20 },
    contextSize: { width: 640, height: 400 },
    ...deps,
  });
  return { library, screen, input, recorder, person: new Person(input, screen) };
}

describe("the recorder", () => {
  it("records a form session as steps with before-press screenshots, and keeps no password anywhere", async () => {
    const { library, screen, recorder, person } = await setUp();
    const states: string[] = [];
    recorder.on("state", (s) => states.push(s.phase));
    const pending: number[] = [];
    recorder.on("state", (s) => {
      if (s.phase !== "idle") pending.push(s.pending);
    });
    const started = await recorder.start({ title: "Fill in the form" });
    expect(recorder.state).toMatchObject({ phase: "recording", id: started.id });

    await person.click(250, 72);
    person.type(NAME);
    await person.click(250, 152);
    person.type(PASSWORD, false);
    await person.click(52, 212);
    await person.scroll(560, 122, 3);
    await person.drag({ x: 180, y: 312 }, { x: 380, y: 312 });
    person.key(HOOK_KEY.S, { ...NO_MODS, ctrl: true });
    await person.click(190, 414);
    const { manifest, exports } = await recorder.stop();

    expect(states.filter((phase, i) => phase !== states[i - 1])).toEqual(["recording", "finishing", "idle"]);
    expect(manifest.status).toBe("complete");
    // The state says how many steps still wait for their screenshot: some did, none at the end.
    expect(Math.max(...pending)).toBeGreaterThan(0);
    expect(pending.at(-1)).toBe(0);
    expect(manifest.steps.map((s) => s.sentence)).toEqual([
      "Click the **Name** field",
      `Type "${NAME}" in **Name**`,
      "Click the **Password** field",
      "Type your password in **Password**",
      "Click the box beside **Send me updates**",
      "Scroll down over **Tuesday 1**",
      "Drag the control beside **Volume** to the right",
      "Press **Ctrl+S**",
      "Click **Save**",
    ]);
    expect(manifest.steps[3]).toMatchObject({ kind: "type", typed: { kind: "secret" }, focusedBy: 3 });
    expect(manifest.steps[5]).toMatchObject({ kind: "scroll", dy: 3 });
    const drag = manifest.steps[6];
    expect(drag).toMatchObject({ kind: "drag", from: { x: 180, y: 312 }, to: { x: 380, y: 312 } });
    const dragImage = drag?.image;
    const dragOrigin = dragImage?.origin ?? { x: Number.NaN, y: Number.NaN };
    expect(dragImage?.marker).toEqual({ x: 180 - dragOrigin.x, y: 312 - dragOrigin.y });
    expect(dragImage?.dropMarker).toEqual({ x: 380 - dragOrigin.x, y: 312 - dragOrigin.y });
    expect(manifest.steps.every((s) => s.windowTitle === "Test form — [e-mail] — Fake")).toBe(true);

    // Each screenshot is of the screen before its press: the fake app had already reacted when the hook reported it.
    const withImages = manifest.steps.filter((s) => s.image);
    expect(withImages.map((s) => s.index)).toEqual([1, 3, 5, 6, 7, 9]);
    // Presses made before each of those steps' own input (the scroll presses nothing).
    const pressesBefore = [0, 1, 2, 3, 3, 4];
    for (const [i, step] of withImages.entries()) {
      const image = step.image;
      expect(image?.timing).toBe("before");
      const png = decodePng(await library.readImage(manifest.id, image?.file ?? ""));
      expect([image?.width, image?.height]).toEqual([640, 400]);
      expect([step.index, png.data[0]]).toEqual([step.index, screen.background(pressesBefore[i])]);
    }

    // The e-mail address on screen is blurred in the screenshots that show it; other text is not.
    const saveStep = manifest.steps[8];
    const save = decodePng(await library.readImage(manifest.id, saveStep?.image?.file ?? ""));
    const origin = saveStep?.image?.origin ?? { x: 0, y: 0 };
    const inImage = (b: ScreenBox) => ({ x: b.x - origin.x, y: b.y - origin.y, width: b.width, height: b.height });
    const box = (text: string) => (TEXTS.find(([t]) => t === text) as [string, ScreenBox])[1];
    expect(saveStep?.image?.redacted).toBe(1);
    expect(variance(save, inImage(box("ada@example.org")))).toBeLessThan(200);
    expect(variance(save, inImage(box("Save")))).toBeGreaterThan(2000);
    expect(variance(save, inImage(box("Volume")))).toBeGreaterThan(2000);
    // The first click's window (0..640 × 0..400) shows the address too; its own typing came later.
    expect(manifest.steps[0]?.image?.redacted).toBe(1);

    // Nothing saved holds the password: not the manifest, the images, nor the exports.
    const files = await filesUnder(exports.folder);
    expect(files.map((f) => f.slice(exports.folder.length + 1)).sort()).toEqual([
      "images/step-001.png",
      "images/step-003.png",
      "images/step-005.png",
      "images/step-006.png",
      "images/step-007.png",
      "images/step-009.png",
      "manifest.json",
      "plan.json",
      "tutorial.html",
      "tutorial.md",
    ]);
    for (const file of files) {
      const bytes = await readFile(file);
      expect([file, bytes.includes(PASSWORD)]).toEqual([file, false]);
      expect([file, bytes.includes("ada@example.org")]).toEqual([file, false]);
    }
    expect((await readFile(join(exports.folder, "manifest.json"), "utf8")).includes(NAME)).toBe(true);
    // One observe per screenshot at most, each of a window of the frame, not of the whole display.
    expect(screen.observed.length).toBeLessThanOrEqual(6);
    expect(screen.observed.every((o) => o.bounds.width === 640 && o.bounds.height === 400)).toBe(true);
  });

  it("uses the frame from before the input's own time when the event reached it late", async () => {
    const { library, screen, input, recorder, person } = await setUp();
    await recorder.start({ title: "Late" });
    await person.moveTo(190, 414);
    // The press happens and the app reacts; the hook's event waits in a busy loop while frames of the new state come in.
    const pressedAt = Date.now();
    screen.presses++;
    await pause(150);
    input.emit({ type: "mousedown", time: pressedAt, x: 190, y: 414, button: "left", clicks: 1 });
    input.emit({ type: "mouseup", time: pressedAt + 5, x: 190, y: 414, button: "left", clicks: 1 });
    const { manifest } = await recorder.stop();
    const image = manifest.steps[0]?.image;
    expect(image?.timing).toBe("before");
    expect(decodePng(await library.readImage(manifest.id, image?.file ?? "")).data[0]).toBe(screen.background(0));
    expect(screen.captures).toBeGreaterThan(3);
  });

  it("masks all typed text when the setting says so, and text typed into a field no click identified", async () => {
    const { recorder, person } = await setUp();
    await recorder.start({ title: "Masked", settings: { maskAllTyping: true } });
    await person.click(250, 72);
    person.type(NAME);
    const { manifest, exports } = await recorder.stop();
    expect(manifest.steps.map((s) => s.sentence)).toEqual(["Click the **Name** field", "Type your text in **Name**"]);
    for (const file of await filesUnder(exports.folder)) expect((await readFile(file)).includes(NAME)).toBe(false);

    const second = await setUp();
    await second.recorder.start({ title: "Tabbed" });
    await second.person.click(250, 72);
    second.person.type("ada");
    await pause(200);
    second.person.key(HOOK_KEY.Tab);
    second.person.type(PASSWORD, false);
    second.person.key(HOOK_KEY.Enter);
    const tabbed = await second.recorder.stop();
    expect(tabbed.manifest.steps.map((s) => s.sentence)).toEqual([
      "Click the **Name** field",
      'Type "ada" in **Name**',
      "Press **Tab**",
      "Type your text",
      "Press **Enter**",
    ]);
    for (const file of await filesUnder(tabbed.exports.folder))
      expect((await readFile(file)).includes(PASSWORD)).toBe(false);
  });

  it("keeps typed text only when the field shows it afterwards, whatever the label says", async () => {
    const { recorder, person } = await setUp();
    await recorder.start({ title: "Hidden field" });
    // A field labelled "Name" that shows dots, and typing cut short by a click with no frame in between.
    await person.click(250, 72);
    person.type("plain words", false);
    await person.click(190, 414);
    person.type("quick");
    person.press(52, 212);
    person.release(52, 212);
    const { manifest, exports } = await recorder.stop();
    expect(manifest.steps.map((s) => (s.kind === "type" ? s.typed : s.kind))).toEqual([
      "click",
      { kind: "masked", reason: "not-shown" },
      "click",
      { kind: "masked", reason: "not-shown" },
      "click",
    ]);
    expect(manifest.steps[1]?.sentence).toBe("Type your text in **Name**");
    for (const file of await filesUnder(exports.folder)) {
      const bytes = await readFile(file);
      expect(bytes.includes("plain words") || bytes.includes("quick")).toBe(false);
    }
  });

  it("goes on without targets or screenshots when observe fails, and says so", async () => {
    const { recorder, person } = await setUp({
      observe: async () => {
        throw new Error("host is down");
      },
      activeWindow: { title: async () => "Form" },
    });
    const problems: string[] = [];
    recorder.on("problem", (p) => problems.push(p.message));
    await recorder.start({ title: "No host" });
    await person.click(250, 72);
    person.type(NAME);
    await person.click(190, 414);
    const { manifest, exports } = await recorder.stop();
    expect(manifest.steps.map((s) => s.sentence)).toEqual([
      "Click the spot shown",
      "Type your text",
      "Click the spot shown",
    ]);
    expect(manifest.steps.every((s) => s.image === undefined)).toBe(true);
    expect(problems.length).toBeGreaterThan(0);
    expect(problems[0]).toMatch(/host is down/);
    for (const file of await filesUnder(exports.folder)) expect((await readFile(file)).includes(NAME)).toBe(false);
  });

  it("takes sentences from the writer it is given, and from the templates when the writer fails", async () => {
    const { recorder, person } = await setUp({
      writeStepText: (facts) => {
        if (facts.kind === "click") return `${templateStepText(facts)} now`;
        throw new Error("no model loaded");
      },
    });
    await recorder.start();
    await person.click(190, 414);
    person.key(HOOK_KEY.Enter);
    const { manifest } = await recorder.stop();
    expect(manifest.title).toBe("Untitled recording");
    expect(manifest.steps.map((s) => s.sentence)).toEqual(["Click **Save** now", "Press **Enter**"]);
  });

  it("leaves out input the app says to ignore, and refuses a second start", async () => {
    const { recorder, person } = await setUp({
      activeWindow: { title: async () => undefined },
      // Sightline's own overlay sits at the bottom right.
      ignore: (event) => "x" in event && event.x > 700 && event.y > 500,
    });
    await recorder.start({ title: "x" });
    await expect(recorder.start()).rejects.toThrow(/already/);
    await person.click(190, 414);
    await person.click(750, 550);
    const { manifest } = await recorder.stop();
    expect(manifest.steps.map((s) => s.sentence)).toEqual(["Click **Save**"]);
    expect(manifest.steps[0]?.windowTitle).toBeUndefined();
    await expect(recorder.stop()).rejects.toThrow(/no recording/);
  });
});
