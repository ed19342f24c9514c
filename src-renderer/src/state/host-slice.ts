import type { HostStatus } from "../../../src-shared/bridge-api";
import type { SliceCreator } from "./slice";

export type HostSlice = {
  host: HostStatus;
  setHost: (host: HostStatus) => void;
};

export const createHostSlice: SliceCreator<HostSlice> = (set) => ({
  host: { phase: "stopped" },
  setHost: (host) => set({ host }),
});
