import { execFile } from "node:child_process";
import { promisify } from "node:util";

const run = promisify(execFile);

/** The title of the window that has the keyboard focus, if it can be told. */
export interface ActiveWindowSource {
  title(): Promise<string | undefined>;
}

/**
 * X11 through xdotool: the window manager's active window, or, where no window
 * manager says (a bare X server), the window holding the input focus.
 * Anything else (no xdotool, no focus, another platform) gives undefined: a
 * step without a window title is still a step.
 */
export class XdotoolActiveWindow implements ActiveWindowSource {
  constructor(private readonly timeoutMs = 1000) {}

  async title(): Promise<string | undefined> {
    if (process.platform !== "linux") return undefined;
    for (const query of [
      ["getactivewindow", "getwindowname"],
      ["getwindowfocus", "getwindowname"],
    ]) {
      try {
        const { stdout } = await run("xdotool", query, { timeout: this.timeoutMs });
        const title = stdout.trim();
        if (title) return title.slice(0, 500);
      } catch {
        // try the next query
      }
    }
    return undefined;
  }
}

/**
 * Asks at most once per `maxAgeMs`: typing asks on every key that may start a
 * step, and the window rarely changes between two keys.
 */
export class CachedActiveWindow implements ActiveWindowSource {
  private last: { at: number; title: Promise<string | undefined> } | undefined;

  constructor(
    private readonly source: ActiveWindowSource,
    private readonly maxAgeMs = 300,
    private readonly now: () => number = Date.now,
  ) {}

  title(): Promise<string | undefined> {
    const now = this.now();
    if (!this.last || now - this.last.at > this.maxAgeMs) {
      this.last = { at: now, title: this.source.title().catch(() => undefined) };
    }
    return this.last.title;
  }
}
