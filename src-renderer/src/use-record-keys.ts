import { useEffect } from "react";
import type { AppStore } from "./state/store";

/** True for Alt+R (whatever character the layout puts there), with no other modifier. */
export function isRecordShortcut(
  event: Pick<KeyboardEvent, "altKey" | "ctrlKey" | "metaKey" | "shiftKey" | "code">,
): boolean {
  return event.altKey && !event.ctrlKey && !event.metaKey && !event.shiftKey && event.code === "KeyR";
}

/** Alt+R opens the Record view (recording and the library) from anywhere in the overlay, and closes it again. */
export function useRecordKeys(store: AppStore): void {
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.defaultPrevented || event.repeat || !isRecordShortcut(event)) return;
      // A confirmation dialog keeps the keyboard until it is answered.
      if (document.querySelector("[role=dialog]")) return;
      event.preventDefault();
      const state = store.getState();
      state.showView(state.view === "record" ? "run" : "record");
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [store]);
}
