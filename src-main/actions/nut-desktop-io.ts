import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { Button, Key, keyboard, mouse, Point } from "@nut-tree-fork/nut-js";
import type { MouseButton } from "../../src-shared/actions";
import type { DesktopIO } from "./desktop-io";
import { X11UnicodeKeymap } from "./x11-unicode-keymap";

const run = promisify(execFile);

const BUTTONS: Record<MouseButton, Button> = { left: Button.LEFT, right: Button.RIGHT, middle: Button.MIDDLE };

export function toNutKey(name: string): Key {
  const key = (Key as unknown as Record<string, Key | undefined>)[name];
  if (key === undefined) throw new Error(`unknown key "${name}"`);
  return key;
}

const PRINTABLE_ASCII = /^[\x20-\x7e\t\n]*$/;

async function needsX11Tools<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") {
      throw new Error("typing non-ASCII text on X11 needs xdotool and xmodmap (apt install xdotool x11-xserver-utils)");
    }
    throw error;
  }
}

/**
 * Desktop input through nut-js. On X11, libnut types only what the keyboard
 * layout maps, so other characters go through xdotool, which binds a spare
 * keycode to each character's keysym for the moment it types it.
 */
export function createNutDesktopIO(): DesktopIO {
  keyboard.config.autoDelayMs = 0;
  mouse.config.autoDelayMs = 0;
  mouse.config.mouseSpeed = 1e6;
  const held = new Set<MouseButton>();
  return {
    async moveTo(x, y) {
      await mouse.setPosition(new Point(Math.round(x), Math.round(y)));
    },
    async press(button) {
      held.add(button);
      await mouse.pressButton(BUTTONS[button]);
    },
    async release(button) {
      held.delete(button);
      await mouse.releaseButton(BUTTONS[button]);
    },
    async click(button, count) {
      if (count === 2) await mouse.doubleClick(BUTTONS[button]);
      else await mouse.click(BUTTONS[button]);
    },
    async scroll(dx, dy) {
      if (dy > 0) await mouse.scrollDown(dy);
      if (dy < 0) await mouse.scrollUp(-dy);
      if (dx > 0) await mouse.scrollRight(dx);
      if (dx < 0) await mouse.scrollLeft(-dx);
    },
    async beginTyping(text) {
      if (process.platform !== "linux" || PRINTABLE_ASCII.test(text)) return async () => {};
      const keymap = new X11UnicodeKeymap();
      const unbound = await needsX11Tools(() => keymap.bind(Array.from(text).filter((c) => !PRINTABLE_ASCII.test(c))));
      if (unbound.length) {
        await keymap.release();
        throw new Error(`too many different characters to type at once (${unbound.length} had no free keycode)`);
      }
      return () => keymap.release();
    },
    async typeText(text) {
      if (process.platform !== "linux" || PRINTABLE_ASCII.test(text)) {
        await keyboard.type(text);
        return;
      }
      // Every character is in the keymap now (beginTyping), so xdotool types without remapping.
      await needsX11Tools(() => run("xdotool", ["type", "--delay", "6", "--", text]));
    },
    async pressKeys(keys) {
      const nut = keys.map(toNutKey);
      await keyboard.pressKey(...nut);
      await keyboard.releaseKey(...[...nut].reverse());
    },
    async releaseAll() {
      for (const button of [...held]) await this.release(button);
    },
  };
}
