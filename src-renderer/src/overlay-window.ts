/** The overlay window's own chores, which only Electron's preload provides (`window.sightlineOverlay`). */
import type { OverlayView } from "./state/view-slice";

export type OverlayWindowApi = {
  /** Hides the overlay window (Escape with no run). */
  hide(): void;
  /** The tray or the hotkey asks for a view; "run" means the overlay was just shown. */
  onShowView(listener: (view: OverlayView) => void): () => void;
};

declare global {
  interface Window {
    sightlineOverlay?: OverlayWindowApi;
  }
}

/** Undefined in the headless browser, where there is no window of ours to hide. */
export function overlayWindow(): OverlayWindowApi | undefined {
  return window.sightlineOverlay;
}
