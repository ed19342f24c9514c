/**
 * IPC channel names shared by the Electron main process and the preload. No
 * imports: the sandboxed preload bundles this file, and main must not pull in
 * the preload's side effects.
 */
export const CHANNELS = {
  /** invoke(method, input) → {ok, value} | {ok: false, error} */
  call: "sightline:call",
  /** main → renderer: (event name, payload) */
  event: "sightline:event",
  /** renderer → main: a window chore ("hide") */
  overlayCommand: "sightline:overlay-command",
  /** main → renderer: the view to show (tray items, the hotkey) */
  overlayView: "sightline:overlay-view",
} as const;

export const OVERLAY_VIEWS = ["run", "settings", "record", "vram"] as const;
export const OVERLAY_COMMANDS = ["hide"] as const;
