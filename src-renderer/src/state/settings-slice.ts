import type { Settings } from "../../../src-shared/bridge-api";
import { asFailure, type CallFailure, type SliceCreator } from "./slice";

export type SettingsStatus = "loading" | "ready" | "saving" | "saved" | "error";

export type SettingsSlice = {
  /** As the main process last reported them; undefined until the first read. */
  settings: Settings | undefined;
  settingsStatus: SettingsStatus;
  settingsError: CallFailure | undefined;
  loadSettings: () => Promise<void>;
  /** Saves and keeps what the main process read back, which is what it will use. */
  saveSettings: (next: Settings) => Promise<boolean>;
};

export const createSettingsSlice: SliceCreator<SettingsSlice> = (set, _get, { api }) => ({
  settings: undefined,
  settingsStatus: "loading",
  settingsError: undefined,
  loadSettings: async () => {
    try {
      const settings = await api.call("getSettings", {});
      set({ settings, settingsStatus: "ready", settingsError: undefined });
    } catch (error) {
      set({ settingsStatus: "error", settingsError: asFailure(error) });
    }
  },
  saveSettings: async (next) => {
    set({ settingsStatus: "saving", settingsError: undefined });
    try {
      const settings = await api.call("updateSettings", next);
      set({ settings, settingsStatus: "saved" });
      return true;
    } catch (error) {
      set({ settingsStatus: "error", settingsError: asFailure(error) });
      return false;
    }
  },
});
