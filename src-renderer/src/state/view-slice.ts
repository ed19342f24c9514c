import type { SliceCreator } from "./slice";

/** What the tray can ask the overlay to show. */
export type OverlayView = "run" | "settings" | "record" | "vram";

export type ViewSlice = {
  view: "run" | "settings";
  /** A one-line note for the user (a tray item whose panel this build lacks, say). */
  notice: string | undefined;
  showView: (view: OverlayView) => void;
  dismissNotice: () => void;
};

const NOT_YET: Record<"record" | "vram", string> = {
  record: "Tutorial recording is not part of this build yet.",
  vram: "The VRAM panel is not part of this build yet.",
};

export const createViewSlice: SliceCreator<ViewSlice> = (set) => ({
  view: "run",
  notice: undefined,
  showView: (view) => {
    if (view === "record" || view === "vram") set({ view: "run", notice: NOT_YET[view] });
    else set({ view, notice: undefined });
  },
  dismissNotice: () => set({ notice: undefined }),
});
