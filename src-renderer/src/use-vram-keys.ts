import { useEffect } from "react";
import type { AppStore } from "./state/store";

/** True for Alt+V (Option+V on a Mac, whatever character the layout puts there), with no other modifier. */
export function isVramShortcut(
  event: Pick<KeyboardEvent, "altKey" | "ctrlKey" | "metaKey" | "shiftKey" | "code">,
): boolean {
  return event.altKey && !event.ctrlKey && !event.metaKey && !event.shiftKey && event.code === "KeyV";
}

/** Alt+V opens the VRAM panel from anywhere in the overlay, and closes it again. */
export function useVramKeys(store: AppStore): void {
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.defaultPrevented || event.repeat || !isVramShortcut(event)) return;
      // A confirmation dialog keeps the keyboard until it is answered.
      if (document.querySelector("[role=dialog]")) return;
      event.preventDefault();
      const state = store.getState();
      state.showView(state.view === "vram" ? "run" : "vram");
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [store]);
}
