/**
 * The recorder's view of global input: a few plain event shapes, independent
 * of the hook library that produces them, so the step builder can be fed
 * recorded sequences in tests. Every point is in desktop physical pixels (X11
 * root-window coordinates, which is what the global hook reports there).
 */
import type { MouseButton } from "../../src-shared/actions";

export type Modifiers = { shift: boolean; ctrl: boolean; alt: boolean; meta: boolean };

export type MouseButtonEvent = {
  type: "mousedown" | "mouseup";
  time: number;
  x: number;
  y: number;
  button: MouseButton;
  /** The hook's click count: 2 on the second press of a double click. */
  clicks: number;
};
export type MouseMoveEvent = { type: "mousemove"; time: number; x: number; y: number };
/** `rotation`: wheel notches, positive down (vertical) or right (horizontal). */
export type WheelEvent = {
  type: "wheel";
  time: number;
  x: number;
  y: number;
  axis: "vertical" | "horizontal";
  rotation: number;
};
/** `keycode`: the hook's layout-independent key code (hook-keycodes.ts). */
export type KeyEvent = { type: "keydown" | "keyup"; time: number; keycode: number; modifiers: Modifiers };

export type InputEvent = MouseButtonEvent | MouseMoveEvent | WheelEvent | KeyEvent;

/** An event with its place in the recording: the builder's drafts point back to events by `seq`. */
export type SequencedEvent = InputEvent & { seq: number };

export type InputEventListener = (event: InputEvent) => void;

/** Something that reports global input events while started. */
export interface InputEventSource {
  start(listener: InputEventListener): void;
  stop(): void;
}
