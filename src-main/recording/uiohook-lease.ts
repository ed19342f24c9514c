import { uIOhook } from "uiohook-napi";

/**
 * uiohook is one process-wide hook: a second `start()` is not supported and one
 * `stop()` stops it for every listener. Holders take a lease instead, and the
 * hook runs while any lease is held. (The kill switch in actions/ still starts
 * and stops the hook itself; it should move to this lease so a recording and
 * a plan run can share the hook.)
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
