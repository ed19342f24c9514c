import type { MouseButton } from "../../src-shared/actions";

/** The few primitives the executor needs from the OS; every point is in desktop physical pixels. */
export type DesktopIO = {
  moveTo(x: number, y: number): Promise<void>;
  press(button: MouseButton): Promise<void>;
  release(button: MouseButton): Promise<void>;
  click(button: MouseButton, count: 1 | 2): Promise<void>;
  scroll(dx: number, dy: number): Promise<void>;
  /**
   * Readies the OS to type every character of `text` and returns the undo;
   * then `typeText` types pieces of it, so a long text stays interruptible.
   */
  beginTyping(text: string): Promise<() => Promise<void>>;
  typeText(text: string): Promise<void>;
  pressKeys(keys: readonly string[]): Promise<void>;
  /** Lets go of every key and button the executor may hold, after an interruption. */
  releaseAll(): Promise<void>;
};
