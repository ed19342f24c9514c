import type { StoreApi } from "zustand/vanilla";
import type { SightlineApi } from "../../../src-shared/bridge-api";
import type { KeyValueStorage } from "./history";
import type { HistorySlice } from "./history-slice";
import type { HostSlice } from "./host-slice";
import type { ModelsSlice } from "./models-slice";
import type { RecordingSlice } from "./recording-slice";
import type { RunSlice } from "./run-slice";
import type { SettingsSlice } from "./settings-slice";
import type { TelemetrySlice } from "./telemetry-slice";
import type { ViewSlice } from "./view-slice";

/** What the store needs from outside: the API and somewhere to keep the history. Fakes in the unit tests. */
export type AppDeps = { api: SightlineApi; storage: KeyValueStorage };

export type AppState = HostSlice &
  HistorySlice &
  ModelsSlice &
  RecordingSlice &
  RunSlice &
  SettingsSlice &
  TelemetrySlice &
  ViewSlice;

export type SliceCreator<Slice> = (
  set: StoreApi<AppState>["setState"],
  get: StoreApi<AppState>["getState"],
  deps: AppDeps,
) => Slice;

export type CallFailure = { code: string; message: string };

/** Any rejection as the code and message the error panel shows. */
export function asFailure(error: unknown): CallFailure {
  const code = (error as { code?: unknown })?.code;
  return {
    code: typeof code === "string" ? code : "internal",
    message: error instanceof Error ? error.message : String(error),
  };
}
