import { execFile } from "node:child_process";
import { promisify } from "node:util";

const run = promisify(execFile);

/** How long X clients need to read a keyboard-mapping change before keys that use it arrive. */
const MAPPING_SETTLE_MS = 60;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** X keysym name of a character: the `U+XXXX` form XStringToKeysym reads for any Unicode code point. */
export function keysymOf(char: string): string {
  return `U${(char.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, "0")}`;
}

/**
 * Makes characters that the keyboard layout lacks typeable on X11: binds each
 * one to a free keycode (same keysym on every level, so Shift cannot change
 * it), waits until clients have seen the new mapping, and puts the keycodes
 * back when typing is over. xdotool's own per-character remapping races with
 * clients such as Chromium, which then drop or lowercase characters.
 */
export class X11UnicodeKeymap {
  private bound: number[] = [];

  static async freeKeycodes(): Promise<number[]> {
    const { stdout } = await run("xmodmap", ["-pke"]);
    return stdout
      .split("\n")
      .map((line) => /^keycode\s+(\d+)\s*=\s*$/.exec(line))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => Number(m[1]))
      .filter((code) => code > 8);
  }

  /** Binds the characters of `text` the layout cannot type; returns the ones it could not bind (too few free keycodes). */
  async bind(characters: Iterable<string>): Promise<string[]> {
    const wanted = [...new Set(characters)];
    if (wanted.length === 0) return [];
    const free = await X11UnicodeKeymap.freeKeycodes();
    const expressions: string[] = [];
    const unbound: string[] = [];
    wanted.forEach((char, i) => {
      const code = free[i];
      if (code === undefined) {
        unbound.push(char);
        return;
      }
      const sym = keysymOf(char);
      expressions.push("-e", `keycode ${code} = ${sym} ${sym} ${sym} ${sym}`);
      this.bound.push(code);
    });
    if (expressions.length) {
      await run("xmodmap", expressions);
      await sleep(MAPPING_SETTLE_MS);
    }
    return unbound;
  }

  async release(): Promise<void> {
    if (this.bound.length === 0) return;
    await sleep(MAPPING_SETTLE_MS);
    const expressions = this.bound.flatMap((code) => ["-e", `keycode ${code} =`]);
    this.bound = [];
    await run("xmodmap", expressions);
  }
}
