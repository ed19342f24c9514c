/**
 * The renderer's state: one zustand store made of slices (host, history, models, run,
 * recording, settings, telemetry, view). Plain modules with the API injected, so vitest drives them
 * without a browser; React reads them through hooks.ts.
 */
import { createStore, type StoreApi } from "zustand/vanilla";
import { createHistorySlice } from "./history-slice";
import { createHostSlice } from "./host-slice";
import { createModelsSlice } from "./models-slice";
import { createRecordingSlice } from "./recording-slice";
import { createRunSlice } from "./run-slice";
import { createSettingsSlice } from "./settings-slice";
import type { AppDeps, AppState } from "./slice";
import { createTelemetrySlice } from "./telemetry-slice";
import { createViewSlice } from "./view-slice";

export type { AppDeps, AppState } from "./slice";
export type AppStore = StoreApi<AppState>;

export function createAppStore(deps: AppDeps): AppStore {
  return createStore<AppState>()((set, get) => ({
    ...createHostSlice(set, get, deps),
    ...createHistorySlice(set, get, deps),
    ...createModelsSlice(set, get, deps),
    ...createRecordingSlice(set, get, deps),
    ...createRunSlice(set, get, deps),
    ...createSettingsSlice(set, get, deps),
    ...createTelemetrySlice(set, get, deps),
    ...createViewSlice(set, get, deps),
  }));
}

/** Feeds the main process's pushed events into the store and reads the initial state; returns the unsubscribe. */
export function connectStore(store: AppStore, api: AppDeps["api"]): () => void {
  const offs = [
    api.on("hostStatus", (status) => store.getState().setHost(status)),
    api.on("run", (state) => store.getState().receiveRun(state)),
    api.on("telemetry", (sample) => store.getState().receiveTelemetry(sample)),
    api.on("telemetryError", (error) => store.getState().setTelemetryError(error)),
    api.on("modelPull", (state) => store.getState().receiveModelPull(state)),
    api.on("recordingState", (state) => store.getState().receiveRecordingState(state)),
    api.on("recordingStep", (event) => store.getState().receiveRecordingStep(event)),
    api.on("recordingProblem", (problem) => store.getState().receiveRecordingProblem(problem)),
  ];
  api
    .call("getHostStatus", {})
    .then((status) => store.getState().setHost(status))
    .catch(() => {});
  api
    .call("recordingState", {})
    .then((state) => store.getState().receiveRecordingState(state))
    .catch(() => {});
  void store.getState().loadSettings();
  return () => {
    for (const off of offs) off();
  };
}
