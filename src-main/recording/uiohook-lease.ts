import { uIOhook } from "uiohook-napi";

/**
 * uiohook is one process-wide hook: a second `start()` is not supported and one
 * `stop()` stops it for every listener. Holders take a lease instead, and the
 * hook runs while any lease is held: the kill switch and a recording share it.
 */
let holders = 0;

export function acquireUiohook(): () => void {
  if (holders === 0) uIOhook.start();
  holders++;
  let released = false;
  return () => {
    if (released) return;
    released = true;
    holders--;
    if (holders === 0) uIOhook.stop();
  };
}
