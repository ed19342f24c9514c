/**
 * Turns a stream of global input events into step drafts: clicks (with double
 * clicks folded in), drags, scrolls, typing and key presses. Pure and
 * synchronous: the same events always give the same drafts, so it is tested
 * with recorded sequences. Drafts point back to their events by `seq`; the
 * recorder attaches screenshots, elements and window titles to them.
 */
import type { MouseButton } from "../../src-shared/actions";
import type { InputEvent, KeyEvent, MouseButtonEvent, SequencedEvent, WheelEvent } from "./input-events";
import {
  characterOf,
  isBackspace,
  isCapsLock,
  isModifierKey,
  keyNameOf,
  MODIFIER_KEY_NAMES,
  movesFocus,
} from "./keyboard-layout";

type Point = { x: number; y: number };

export type ClickDraft = {
  kind: "click";
  pressSeq: number;
  time: number;
  at: Point;
  button: MouseButton;
  count: 1 | 2;
};
export type DragDraft = { kind: "drag"; pressSeq: number; time: number; from: Point; to: Point; button: MouseButton };
export type ScrollDraft = { kind: "scroll"; firstSeq: number; time: number; at: Point; dx: number; dy: number };
export type TypeDraft = {
  kind: "type";
  firstSeq: number;
  time: number;
  /** When the last key of the text was pressed. */
  endTime: number;
  text: string;
  /** `pressSeq` of the click that put the focus in the field, when one did; unknown after Tab or with no click. */
  fieldSeq?: number;
  /** Some keys had no character on the layout table, so `text` lacks them. */
  incomplete: boolean;
};
export type KeyDraft = {
  kind: "key";
  seq: number;
  time: number;
  /** Executor key names (nut-js), modifiers first. */
  keys: string[];
  /** For people: "Ctrl+S", "Enter". */
  label: string;
  fieldSeq?: number;
};
export type StepDraft = ClickDraft | DragDraft | ScrollDraft | TypeDraft | KeyDraft;

export const STEP_BUILDER_LIMITS = {
  /** A press and release further apart than this (physical pixels) is a drag, not a click. */
  dragThresholdPx: 6,
  /** A second press this close to the first click, with the hook's click count at 2+, makes a double click. */
  doubleClickSlopPx: 4,
  /** Wheel notches this close in time and space add up to one scroll step. */
  scrollMergeMs: 1500,
  scrollMergePx: 40,
  /** The executor scrolls at most this many notches in one action. */
  maxScrollNotches: 100,
} as const;

type Press = { seq: number; time: number; at: Point; button: MouseButton };
type Typing = {
  firstSeq: number;
  time: number;
  endTime: number;
  chars: string[];
  fieldSeq: number | undefined;
  incomplete: boolean;
};
type Scroll = ScrollDraft & { lastTime: number };

const distance = (a: Point, b: Point) => Math.hypot(a.x - b.x, a.y - b.y);
const clampNotches = (n: number) =>
  Math.max(-STEP_BUILDER_LIMITS.maxScrollNotches, Math.min(STEP_BUILDER_LIMITS.maxScrollNotches, n));

export class StepBuilder {
  private press: Press | undefined;
  private pendingClick: ClickDraft | undefined;
  /** The release of a double click's second press belongs to the click already counted. */
  private absorbRelease: MouseButton | undefined;
  private typing: Typing | undefined;
  private scroll: Scroll | undefined;
  private focusSeq: number | undefined;
  private capsLock = false;

  /** Feeds one event; returns the drafts it completed, in the order the user did them. */
  push(event: SequencedEvent): StepDraft[] {
    const out: StepDraft[] = [];
    switch (event.type) {
      case "mousemove":
        break;
      case "mousedown":
        this.onMouseDown(event, out);
        break;
      case "mouseup":
        this.onMouseUp(event, out);
        break;
      case "wheel":
        this.onWheel(event, out);
        break;
      case "keydown":
        this.onKeyDown(event, out);
        break;
      case "keyup":
        break;
    }
    return out;
  }

  /** Ends the recording: completes whatever is still open (a press never released is dropped). */
  finish(): StepDraft[] {
    const out: StepDraft[] = [];
    this.flushAll(out);
    this.press = undefined;
    return out;
  }

  /** True while keystrokes are being collected into a type step. */
  get isTyping(): boolean {
    return this.typing !== undefined;
  }

  /** The smallest `seq` an open step may still report as its own event, or undefined when nothing is open. */
  oldestOpenSeq(): number | undefined {
    const seqs = [this.press?.seq, this.pendingClick?.pressSeq, this.typing?.firstSeq, this.scroll?.firstSeq].filter(
      (s): s is number => s !== undefined,
    );
    return seqs.length ? Math.min(...seqs) : undefined;
  }

  private onMouseDown(event: MouseButtonEvent & { seq: number }, out: StepDraft[]) {
    this.flushTyping(out);
    this.flushScroll(out);
    const at = { x: event.x, y: event.y };
    const pending = this.pendingClick;
    if (
      pending &&
      event.clicks >= 2 &&
      pending.button === event.button &&
      distance(pending.at, at) <= STEP_BUILDER_LIMITS.doubleClickSlopPx
    ) {
      pending.count = 2;
      this.absorbRelease = event.button;
      return;
    }
    this.flushClick(out);
    this.press = { seq: event.seq, time: event.time, at, button: event.button };
  }

  private onMouseUp(event: MouseButtonEvent & { seq: number }, out: StepDraft[]) {
    if (this.absorbRelease === event.button) {
      this.absorbRelease = undefined;
      return;
    }
    const press = this.press;
    if (!press || press.button !== event.button) return;
    this.press = undefined;
    const to = { x: event.x, y: event.y };
    if (distance(press.at, to) > STEP_BUILDER_LIMITS.dragThresholdPx) {
      this.focusSeq = undefined;
      out.push({ kind: "drag", pressSeq: press.seq, time: press.time, from: press.at, to, button: press.button });
      return;
    }
    this.pendingClick = {
      kind: "click",
      pressSeq: press.seq,
      time: press.time,
      at: press.at,
      button: press.button,
      count: 1,
    };
    this.focusSeq = press.button === "left" ? press.seq : this.focusSeq;
  }

  private onWheel(event: WheelEvent & { seq: number }, out: StepDraft[]) {
    this.flushTyping(out);
    this.flushClick(out);
    const at = { x: event.x, y: event.y };
    const open = this.scroll;
    if (
      !open ||
      event.time - open.lastTime > STEP_BUILDER_LIMITS.scrollMergeMs ||
      distance(open.at, at) > STEP_BUILDER_LIMITS.scrollMergePx
    ) {
      this.flushScroll(out);
      this.scroll = { kind: "scroll", firstSeq: event.seq, time: event.time, at, dx: 0, dy: 0, lastTime: event.time };
    }
    const scroll = this.scroll as Scroll;
    if (event.axis === "vertical") scroll.dy += event.rotation;
    else scroll.dx += event.rotation;
    scroll.lastTime = event.time;
  }

  private onKeyDown(event: KeyEvent & { seq: number }, out: StepDraft[]) {
    const { keycode, modifiers } = event;
    if (isCapsLock(keycode)) this.capsLock = !this.capsLock;
    if (isModifierKey(keycode)) return;
    const chord = modifiers.ctrl || modifiers.alt || modifiers.meta;
    const character = chord ? undefined : characterOf(keycode, modifiers.shift, this.capsLock);
    if (character !== undefined) {
      this.flushClick(out);
      this.flushScroll(out);
      this.typing ??= {
        firstSeq: event.seq,
        time: event.time,
        endTime: event.time,
        chars: [],
        fieldSeq: this.focusSeq,
        incomplete: false,
      };
      this.typing.chars.push(character);
      this.typing.endTime = event.time;
      return;
    }
    if (!chord && isBackspace(keycode) && this.typing && this.typing.chars.length > 0) {
      this.typing.chars.pop();
      this.typing.endTime = event.time;
      return;
    }
    const key = keyNameOf(keycode);
    if (!key) {
      // A key the table cannot name: inside typing it was probably a character we cannot read.
      if (this.typing) this.typing.incomplete = true;
      return;
    }
    this.flushAll(out);
    const held = (["ctrl", "alt", "shift", "meta"] as const).filter(
      (m) => modifiers[m] && (chord || m !== "shift" || !characterOf(keycode, false)),
    );
    const names = [...held.map((m) => MODIFIER_KEY_NAMES[m]), key];
    out.push({
      kind: "key",
      seq: event.seq,
      time: event.time,
      keys: names.map((k) => k.name),
      label: names.map((k) => k.label).join("+"),
      ...(this.focusSeq === undefined ? {} : { fieldSeq: this.focusSeq }),
    });
    if (movesFocus(keycode)) this.focusSeq = undefined;
  }

  private flushAll(out: StepDraft[]) {
    this.flushClick(out);
    this.flushTyping(out);
    this.flushScroll(out);
  }

  private flushClick(out: StepDraft[]) {
    if (this.pendingClick) out.push(this.pendingClick);
    this.pendingClick = undefined;
  }

  private flushTyping(out: StepDraft[]) {
    const typing = this.typing;
    this.typing = undefined;
    if (!typing || typing.chars.length === 0) return;
    out.push({
      kind: "type",
      firstSeq: typing.firstSeq,
      time: typing.time,
      endTime: typing.endTime,
      text: typing.chars.join(""),
      ...(typing.fieldSeq === undefined ? {} : { fieldSeq: typing.fieldSeq }),
      incomplete: typing.incomplete,
    });
  }

  private flushScroll(out: StepDraft[]) {
    const scroll = this.scroll;
    this.scroll = undefined;
    if (!scroll || (scroll.dx === 0 && scroll.dy === 0)) return;
    const { lastTime: _lastTime, ...draft } = scroll;
    out.push({ ...draft, dx: clampNotches(draft.dx), dy: clampNotches(draft.dy) });
  }
}

/** The drafts of a whole recorded sequence; events are numbered in order. */
export function buildSteps(events: readonly InputEvent[]): StepDraft[] {
  const builder = new StepBuilder();
  const drafts = events.flatMap((event, seq) => builder.push({ ...event, seq }));
  return [...drafts, ...builder.finish()];
}
