import { ActionExecutor } from "../../src-main/actions/executor";
import { type RunDependencies, RunManager } from "../../src-main/agent/run-manager";
import type { Capture } from "../../src-main/capture/capture";
import { toGeometry } from "../../src-main/capture/geometry";
import {
  type DisplayInfo,
  type RunState,
  RunState as RunStateSchema,
  type ScreenElement,
} from "../../src-shared/bridge-api";
import { loggingDesktopIO } from "./logging-desktop-io";

/** A screenshot of the whole display, at its physical size, whose PNG bytes are `png` (tests tell them apart by it). */
export function captureOf(display: DisplayInfo, png: string): Capture {
  return {
    display,
    png: Buffer.from(png),
    width: display.bounds.width,
    height: display.bounds.height,
    capturedAt: 0,
    backend: "test",
  };
}

export type RunHarnessOptions = Omit<
  RunDependencies,
  "capture" | "observe" | "executor" | "displays" | "confirmation"
> & {
  /** The one display, which every capture shows and the executor acts on. */
  display: DisplayInfo;
  /** Each look at the screen sees the next of these element lists (the last one repeats). */
  screens: ScreenElement[][];
  /** The user's confirmation setting. */
  confirmation: ReturnType<RunDependencies["confirmation"]>;
};

/**
 * The real RunManager over fakes: captures of one display (the n-th one's PNG bytes are "screen n"), scripted
 * screens, and the real executor over a
 * DesktopIO that records what would have reached the OS. Every state the manager emits is checked against the
 * renderer's schema and kept in `states`.
 */
export function runManagerHarness({ display, screens, confirmation, ...deps }: RunHarnessOptions) {
  const io = loggingDesktopIO();
  const states: RunState[] = [];
  let looks = 0;
  let captures = 0;
  let confirmations = 0;
  const manager = new RunManager({
    capture: async () => captureOf(display, `screen ${++captures}`),
    observe: async () => {
      const elements = screens[Math.min(looks, screens.length - 1)] ?? [];
      looks++;
      return { elements, timingsMs: {} };
    },
    executor: async () => new ActionExecutor(io),
    displays: async () => [toGeometry(display)],
    confirmation: () => confirmation,
    ...deps,
  });
  manager.on("run", (state) => states.push(RunStateSchema.parse(state)));
  /** The first state, emitted so far or later, that `predicate` accepts. */
  const next = (predicate: (s: RunState) => boolean) =>
    new Promise<RunState>((resolve) => {
      const found = states.find(predicate);
      if (found) return resolve(found);
      const off = manager.on("run", (state) => {
        if (predicate(state)) {
          off();
          resolve(state);
        }
      });
    });
  /** The confirmation that asks about step `index`. */
  const waitingOn = (index: number) => next((s) => s.confirmation?.steps[0] === index);
  const finished = () => next((s) => ["done", "failed", "cancelled"].includes(s.stage));
  /** Confirms every confirmation until the run ends (`confirmations()` counts them); resolves with the last state. */
  const confirmAll = (runId: string) => {
    const off = manager.on("run", (state) => {
      if (!state.confirmation) return;
      confirmations++;
      queueMicrotask(() => manager.decide(runId, "confirm"));
    });
    return finished().finally(off);
  };
  return {
    io,
    states,
    manager,
    next,
    waitingOn,
    finished,
    confirmAll,
    /** How many times the screen was observed. */
    looks: () => looks,
    /** How many confirmations `confirmAll` confirmed. */
    confirmations: () => confirmations,
  };
}
