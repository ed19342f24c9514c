import type { SliceCreator } from "./slice";

/** What the tray can ask the overlay to show. */
export type OverlayView = "run" | "settings" | "record" | "vram";

export type ViewSlice = {
  view: "run" | "settings" | "vram";
  /** A one-line note for the user (a tray item whose panel this build lacks, say). */
  notice: string | undefined;
  showView: (view: OverlayView) => void;
  dismissNotice: () => void;
};

const NOT_YET: Record<"record", string> = {
  record: "Tutorial recording is not part of this build yet.",
};

export const createViewSlice: SliceCreator<ViewSlice> = (set) => ({
  view: "run",
  notice: undefined,
  showView: (view) => {
    if (view === "record") set({ view: "run", notice: NOT_YET[view] });
    else set({ view, notice: undefined });
  },
  dismissNotice: () => set({ notice: undefined }),
});
