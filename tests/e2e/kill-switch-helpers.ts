import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { expect } from "@playwright/test";
import { uIOhook } from "uiohook-napi";
import { KillSwitch } from "../../src-main/actions/kill-switch";

const run = promisify(execFile);

/**
 * A kill switch armed once the global hook really listens: the hook starts on a thread of its own, and until
 * it has seen a key a hotkey could go unheard, so a harmless Shift is pressed until the hook reports one.
 */
export async function armListeningKillSwitch(): Promise<{ killSwitch: KillSwitch; signal: AbortSignal }> {
  const killSwitch = new KillSwitch();
  const signal = killSwitch.arm();
  let heard = false;
  const probe = () => {
    heard = true;
  };
  uIOhook.on("keydown", probe);
  try {
    await expect
      .poll(async () => {
        await run("xdotool", ["key", "shift"]);
        return heard;
      })
      .toBe(true);
  } finally {
    uIOhook.off("keydown", probe);
  }
  return { killSwitch, signal };
}
