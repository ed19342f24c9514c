import { useEffect } from "react";
import { overlayWindow } from "./overlay-window";
import { isActive, stepsAwaitingDecision } from "./state/run-logic";
import type { AppStore } from "./state/store";

/**
 * Escape outside the confirmation dialog (which answers it as Stop): cancels
 * a running instruction; otherwise closes settings or the VRAM panel; otherwise hides the
 * overlay in Electron, or, in the headless browser where there is no window
 * to hide, clears the box and the finished run.
 */
export function useOverlayKeys(store: AppStore): void {
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.key !== "Escape" || event.defaultPrevented) return;
      const state = store.getState();
      if (stepsAwaitingDecision(state.run).length > 0) return;
      event.preventDefault();
      if (isActive(state.run)) {
        void state.cancelRun();
      } else if (state.view !== "run") {
        state.showView("run");
      } else {
        const overlay = overlayWindow();
        if (overlay) overlay.hide();
        else {
          state.clearRun();
          state.setInstruction("");
        }
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [store]);
}
