/**
 * Records a task: global input → step drafts (step-builder.ts) → for each
 * draft the frame from just before it, the element under the point (from the
 * host's observe), the active window's title → a privacy pass → a step in the
 * recording's manifest, with its screenshot saved next to it.
 *
 * Input is handled synchronously (the builder, picking the frame); the slow
 * part (cropping, observing, writing) runs in one queue, in order, so typing
 * can be judged by the field its click identified. Nothing typed reaches the
 * disk before the privacy verdict for it: drafts hold their text in memory
 * until their turn in the queue.
 */
import type { ScreenElement } from "../../src-shared/bridge-api";
import type { Capture } from "../capture/capture";
import { TypedEvents } from "../util/typed-events";
import { type ActiveWindowSource, CachedActiveWindow } from "./active-window";
import { describeElement, describeTargetAt, type ElementDescription, elementAt } from "./element-description";
import type { InputEvent, InputEventSource } from "./input-events";
import { isModifierKey } from "./keyboard-layout";
import { redactionBoxes, redactText, typedTextShown, typedTextVerdict } from "./privacy";
import { RecordedStep, type RecordingManifest, type RecordingSettings, type StepImage } from "./recording-manifest";
import type { ExportPaths, RecordingsLibrary } from "./recordings-library";
import { type Frame, RollingFrames } from "./rolling-frames";
import { StepBuilder, type StepDraft } from "./step-builder";
import { type CropWindow, cropFrame, cropWindow, renderStepImage, toWindowPixels } from "./step-image";
import { type StepFacts, type StepTextWriter, templateStepText } from "./step-text";

type Point = { x: number; y: number };

export type RecorderDeps = {
  library: RecordingsLibrary;
  input: InputEventSource;
  /** Captures the display under the point (the primary one without a point). */
  capture: (point?: Point) => Promise<Capture>;
  /** The host's observe of a capture, as screen elements in desktop physical pixels. */
  observe: (capture: Capture) => Promise<ScreenElement[]>;
  activeWindow: ActiveWindowSource;
  /** Writes each step's sentence; the templates when absent, and whenever it fails. */
  writeStepText?: StepTextWriter;
  /** Input to leave out: clicks on Sightline's own windows, its hotkeys. */
  ignore?: (event: InputEvent) => boolean;
  frames?: { intervalMs?: number; settleMs?: number };
  /** The window of the frame kept and observed around each step (physical pixels). */
  contextSize?: { width: number; height: number };
  log?: (line: string) => void;
};

export type RecorderState =
  | { phase: "idle" }
  /** `steps`: written so far; `pending`: waiting for their screenshot and observe. */
  | { phase: "recording" | "finishing"; id: string; title: string; startedAt: string; steps: number; pending: number };

export type RecorderEvents = {
  state: RecorderState;
  step: { id: string; step: RecordedStep };
  problem: { id: string; message: string };
};

/** What the recorder knows of the moment an input happened. */
type Moment = {
  time: number;
  point: Point | undefined;
  frame: Frame | undefined;
  /** A capture started when no earlier frame showed the point. */
  late: Promise<Frame> | undefined;
  title: Promise<string | undefined>;
};

const NO_MOMENT: Moment = {
  time: 0,
  point: undefined,
  frame: undefined,
  late: undefined,
  title: Promise.resolve(undefined),
};

type Look = {
  window: CropWindow;
  frame: Frame;
  imageData: ReturnType<typeof cropFrame>["image"];
  elements: ScreenElement[];
};

type Session = {
  manifest: RecordingManifest;
  startedAt: number;
  builder: StepBuilder;
  frames: RollingFrames;
  titles: ActiveWindowSource;
  moments: Map<number, Moment>;
  seq: number;
  pointer: Point | undefined;
  queue: Promise<void>;
  pending: number;
  /** Click results by the press's seq, for the typing that follows them. */
  clicks: Map<number, { index: number; at: Point; target: ElementDescription | undefined }>;
  /** Typed text that was not kept: blurred wherever a later screenshot shows it. Memory only. */
  secrets: string[];
  looks: Look[];
};

const DEFAULT_CONTEXT = { width: 1280, height: 800 } as const;
/** Time for a typed key to show on screen before a frame can prove it did. */
const TYPING_SHOWN_MS = 50;
const LOOKS_KEPT = 2;

const momentPoint = (event: InputEvent, pointer: Point | undefined): Point | undefined =>
  "x" in event ? { x: event.x, y: event.y } : pointer;

export class Recorder extends TypedEvents<RecorderEvents> {
  private session: Session | undefined;
  private starting = false;
  private finishing = false;

  constructor(private readonly deps: RecorderDeps) {
    super();
  }

  get state(): RecorderState {
    const s = this.session;
    if (!s) return { phase: "idle" };
    const { id, title, createdAt } = s.manifest;
    return {
      phase: this.finishing ? "finishing" : "recording",
      id,
      title,
      startedAt: createdAt,
      steps: s.manifest.steps.length,
      pending: s.pending,
    };
  }

  /** Starts recording; resolves once the first frame is taken and the recording's folder exists. */
  async start(options: { title?: string; settings?: Partial<RecordingSettings> } = {}): Promise<RecordingManifest> {
    if (this.session || this.starting) throw new Error("a recording is already running");
    this.starting = true;
    try {
      const log = this.deps.log ?? (() => {});
      const frames = new RollingFrames(this.deps.capture, {
        ...this.deps.frames,
        onError: (error) => log(`recording: capture failed: ${error.message}`),
      });
      const first = await frames.captureNow();
      const manifest = await this.deps.library.create({
        title: options.title ?? "Untitled recording",
        display: first.capture.display,
        ...(options.settings ? { settings: options.settings } : {}),
      });
      const session: Session = {
        manifest,
        startedAt: Date.parse(manifest.createdAt),
        builder: new StepBuilder(),
        frames,
        titles: new CachedActiveWindow(this.deps.activeWindow),
        moments: new Map(),
        seq: 0,
        pointer: undefined,
        queue: Promise.resolve(),
        pending: 0,
        clicks: new Map(),
        secrets: [],
        looks: [],
      };
      this.session = session;
      this.finishing = false;
      frames.start();
      this.deps.input.start((event) => this.onInput(session, event));
      this.emit("state", this.state);
      return manifest;
    } finally {
      this.starting = false;
    }
  }

  /** Stops listening, finishes the steps still in the queue, writes the manifest and the exports. */
  async stop(): Promise<{ manifest: RecordingManifest; exports: ExportPaths }> {
    const session = this.session;
    if (!session) throw new Error("no recording is running");
    if (this.finishing) throw new Error("the recording is already stopping");
    this.finishing = true;
    this.emit("state", this.state);
    try {
      this.deps.input.stop();
      this.enqueue(session, session.builder.finish(), Number.POSITIVE_INFINITY);
      await session.queue;
      session.manifest = { ...session.manifest, status: "complete", endedAt: new Date().toISOString() };
      await this.deps.library.save(session.manifest);
      const exports = await this.deps.library.export(session.manifest.id);
      return { manifest: session.manifest, exports };
    } finally {
      await session.frames.stop();
      // Frames and typed text held in memory go with the session.
      session.secrets.length = 0;
      session.moments.clear();
      session.looks.length = 0;
      this.session = undefined;
      this.finishing = false;
      this.emit("state", this.state);
    }
  }

  private onInput(session: Session, event: InputEvent): void {
    if (this.session !== session || this.finishing) return;
    if (event.type === "mousemove") {
      session.pointer = { x: event.x, y: event.y };
      session.frames.pointerMoved(session.pointer);
    }
    // Typing changes the screen without moving the pointer: a frame once the keys pause.
    if (event.type === "keyup") session.frames.poke();
    if (this.deps.ignore?.(event)) return;
    const seq = session.seq++;
    if (
      event.type === "mousedown" ||
      event.type === "wheel" ||
      (event.type === "keydown" && !isModifierKey(event.keycode))
    ) {
      session.moments.set(seq, this.moment(session, event));
    }
    this.enqueue(session, session.builder.push({ ...event, seq }), event.time);
    // Moments no open step can still claim are dropped (with the frames they hold).
    const oldest = session.builder.oldestOpenSeq() ?? Number.POSITIVE_INFINITY;
    for (const key of session.moments.keys()) if (key < oldest) session.moments.delete(key);
  }

  private moment(session: Session, event: InputEvent): Moment {
    const point = momentPoint(event, session.pointer);
    if (event.type === "keydown") {
      // Typing and key steps keep no screenshot of their own (the click into the field has one): no frame needed.
      return { time: event.time, point, frame: undefined, late: undefined, title: session.titles.title() };
    }
    const frame = session.frames.latestBefore(event.time, point);
    return {
      time: event.time,
      point,
      frame,
      // No complete frame before the input: the nearest thing is one taken at once (marked "after").
      late: frame ? undefined : session.frames.captureNow(point),
      title: session.titles.title(),
    };
  }

  /**
   * Queues drafts for processing. `until` is the time of the input that
   * completed them: a typed text is checked on a frame from between its last
   * key and that input (before anything else could change the field).
   */
  private enqueue(session: Session, drafts: StepDraft[], until: number): void {
    for (const draft of drafts) {
      const seq =
        draft.kind === "click" || draft.kind === "drag" ? draft.pressSeq : "seq" in draft ? draft.seq : draft.firstSeq;
      const moment = session.moments.get(seq);
      let after: Promise<Frame | undefined> | undefined;
      if (draft.kind === "type") {
        const from = draft.endTime + TYPING_SHOWN_MS;
        const found = session.frames.latestBetween(from, until);
        // At the end of the recording nothing came after the typing: a frame taken now shows it.
        after = found
          ? Promise.resolve(found)
          : until === Number.POSITIVE_INFINITY
            ? session.frames.captureNow().catch(() => undefined)
            : undefined;
      }
      session.pending++;
      session.queue = session.queue
        .then(() => this.process(session, draft, moment, after))
        .catch((error: Error) => {
          this.deps.log?.(`recording: a step was lost: ${error.stack ?? error.message}`);
          this.emit("problem", { id: session.manifest.id, message: error.message });
        })
        .finally(() => {
          session.pending--;
          if (this.session === session) this.emit("state", this.state);
        });
    }
  }

  /**
   * The frame of a moment, its window around `point`, and what observe found
   * in it (reused when it can be); undefined when there is no frame or observe
   * failed.
   */
  private async look(session: Session, moment: Moment | undefined, point: Point): Promise<Look | undefined> {
    const frame = moment?.frame ?? (await moment?.late?.catch(() => undefined));
    if (!frame) return undefined;
    const size = this.deps.contextSize ?? DEFAULT_CONTEXT;
    const margin = 80;
    const cached = session.looks.find(
      (l) =>
        l.frame.id === frame.id &&
        point.x >= l.window.rect.x + margin &&
        point.y >= l.window.rect.y + margin &&
        point.x <= l.window.rect.x + l.window.rect.width - margin &&
        point.y <= l.window.rect.y + l.window.rect.height - margin,
    );
    if (cached) return cached;
    const window = cropWindow(frame.capture, point, size);
    const crop = cropFrame(frame.capture, window);
    let elements: ScreenElement[];
    try {
      elements = await this.deps.observe(crop.capture);
    } catch (error) {
      // Without the elements nothing can be named or redacted: the step goes on without target and screenshot.
      const message = `observe failed: ${(error as Error).message}`;
      this.deps.log?.(`recording: ${message}`);
      this.emit("problem", { id: session.manifest.id, message });
      return undefined;
    }
    const look: Look = { window, frame, imageData: crop.image, elements };
    session.looks.push(look);
    while (session.looks.length > LOOKS_KEPT) session.looks.shift();
    return look;
  }

  private async stepImage(
    session: Session,
    look: Look,
    moment: Moment | undefined,
    index: number,
    marker: Point,
    drop?: Point,
  ): Promise<StepImage> {
    const { settings } = session.manifest;
    const blur = redactionBoxes(look.elements, settings, session.secrets);
    const png = renderStepImage(look.imageData, look.window, blur, drop ? [marker, drop] : [marker]);
    const file = `images/step-${String(index).padStart(3, "0")}.png`;
    await this.deps.library.writeImage(session.manifest.id, file, png);
    const inImage = (p: Point) => {
      const q = toWindowPixels(look.window, p);
      return { x: Math.round(q.x), y: Math.round(q.y) };
    };
    return {
      file,
      width: look.imageData.width,
      height: look.imageData.height,
      origin: { x: look.window.rect.x, y: look.window.rect.y },
      marker: inImage(marker),
      ...(drop ? { dropMarker: inImage(drop) } : {}),
      timing: moment?.frame ? "before" : "after",
      ageMs: Math.max(0, (moment?.time ?? look.frame.doneAt) - look.frame.doneAt),
      redacted: blur.length,
    };
  }

  private async process(
    session: Session,
    draft: StepDraft,
    moment: Moment | undefined,
    after?: Promise<Frame | undefined>,
  ): Promise<void> {
    const index = session.manifest.steps.length + 1;
    const { settings } = session.manifest;
    const display = session.manifest.display;
    const rawTitle = await moment?.title;
    const windowTitle = rawTitle ? redactText(rawTitle, settings) : undefined;
    const time = Math.max(0, draft.time - session.startedAt);
    let facts: StepFacts;
    let image: StepImage | undefined;

    switch (draft.kind) {
      case "click":
      case "scroll": {
        const look = await this.look(session, moment, draft.at);
        const target = look ? describeTargetAt(draft.at, look.elements, display) : undefined;
        facts =
          draft.kind === "click"
            ? { kind: "click", time, at: draft.at, button: draft.button, count: draft.count, ...opt("target", target) }
            : { kind: "scroll", time, at: draft.at, dx: draft.dx, dy: draft.dy, ...opt("target", target) };
        if (look) image = await this.stepImage(session, look, moment, index, draft.at);
        if (draft.kind === "click") session.clicks.set(draft.pressSeq, { index, at: draft.at, target });
        break;
      }
      case "drag": {
        const look = await this.look(session, moment, draft.from);
        let target: ElementDescription | undefined;
        let toTarget: ElementDescription | undefined;
        if (look) {
          const from = elementAt(draft.from, look.elements, display.scaleFactor);
          const to = elementAt(draft.to, look.elements, display.scaleFactor);
          if (from) target = describeElement(from.element, from.relation, draft.from, display);
          // The drop point is named by its own element only when it is on one; otherwise relative to the start.
          if (to && to.relation === "on" && to.element !== from?.element) {
            toTarget = describeElement(to.element, to.relation, draft.to, display);
          }
          image = await this.stepImage(session, look, moment, index, draft.from, draft.to);
        }
        facts = {
          kind: "drag",
          time,
          from: draft.from,
          to: draft.to,
          button: draft.button,
          ...opt("target", target),
          ...opt("toTarget", toTarget),
        };
        break;
      }
      case "type": {
        const click = draft.fieldSeq === undefined ? undefined : session.clicks.get(draft.fieldSeq);
        const field = click?.target;
        let verdict = typedTextVerdict(field, click !== undefined, settings, draft.text);
        if (verdict.kind === "keep") {
          // Kept only if it shows in the field afterwards: a password field shows dots, whatever its label says.
          const frame = await after;
          const where = click?.at ?? moment?.point;
          const look = frame && where ? await this.look(session, { ...NO_MOMENT, frame }, where) : undefined;
          const shown = look && where ? typedTextShown(draft.text, look.elements, where, display.scaleFactor) : false;
          if (!shown) verdict = { kind: "masked", reason: "not-shown" };
        }
        if (verdict.kind !== "keep") session.secrets.push(draft.text);
        facts = {
          kind: "type",
          time,
          typed: verdict.kind === "keep" ? { kind: "text", text: draft.text, incomplete: draft.incomplete } : verdict,
          ...opt("field", field),
          ...opt("focusedBy", click?.index),
        };
        break;
      }
      case "key":
        facts = { kind: "key", time, keys: draft.keys, label: draft.label };
        break;
    }

    const sentence = await this.sentence(facts);
    const step = RecordedStep.parse({
      ...facts,
      index,
      sentence,
      ...opt("windowTitle", windowTitle),
      ...opt("image", image),
    });
    session.manifest = { ...session.manifest, steps: [...session.manifest.steps, step] };
    await this.deps.library.save(session.manifest);
    this.emit("step", { id: session.manifest.id, step });
  }

  private async sentence(facts: StepFacts): Promise<string> {
    const writer = this.deps.writeStepText;
    if (writer) {
      try {
        const written = (await writer(facts)).trim();
        if (written) return written.slice(0, 500);
      } catch (error) {
        this.deps.log?.(`recording: the step writer failed (${(error as Error).message}); using the template`);
      }
    }
    return templateStepText(facts);
  }
}

function opt<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}
