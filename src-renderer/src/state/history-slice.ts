import { addEntry, type HistoryNav, loadHistory, recallNewer, recallOlder, saveHistory } from "./history";
import type { SliceCreator } from "./slice";

export type HistorySlice = {
  /** The instruction box's text. */
  instruction: string;
  historyNav: HistoryNav;
  setInstruction: (text: string) => void;
  /** Up: the previous instruction; false when there is none, so the caret may move instead. */
  recallOlder: () => boolean;
  /** Down: the next one, then the draft typed before recalling. */
  recallNewer: () => boolean;
  rememberInstruction: (text: string) => void;
};

export const createHistorySlice: SliceCreator<HistorySlice> = (set, get, { storage }) => ({
  instruction: "",
  historyNav: { entries: loadHistory(storage), cursor: null, draft: "" },
  setInstruction: (instruction) => set({ instruction, historyNav: { ...get().historyNav, cursor: null, draft: "" } }),
  recallOlder: () => {
    const recall = recallOlder(get().historyNav, get().instruction);
    if (!recall) return false;
    set({ historyNav: recall.nav, instruction: recall.text });
    return true;
  },
  recallNewer: () => {
    const recall = recallNewer(get().historyNav);
    if (!recall) return false;
    set({ historyNav: recall.nav, instruction: recall.text });
    return true;
  },
  rememberInstruction: (text) => {
    const entries = addEntry(get().historyNav.entries, text);
    saveHistory(storage, entries);
    set({ historyNav: { entries, cursor: null, draft: "" } });
  },
});
