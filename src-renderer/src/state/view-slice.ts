import type { SliceCreator } from "./slice";

/** What the tray can ask the overlay to show. */
export type OverlayView = "run" | "settings" | "record" | "vram" | "models";

export type ViewSlice = {
  view: OverlayView;
  /** A one-line note for the user. */
  notice: string | undefined;
  showView: (view: OverlayView) => void;
  dismissNotice: () => void;
};

export const createViewSlice: SliceCreator<ViewSlice> = (set, get) => ({
  view: "run",
  notice: undefined,
  showView: (view) => {
    set({ view, notice: undefined });
    // The Record view opens on the library as it is now.
    if (view === "record") void get().loadRecordings();
    // The Models view opens on the store as it is now.
    if (view === "models") void get().loadModels();
  },
  dismissNotice: () => set({ notice: undefined }),
});
