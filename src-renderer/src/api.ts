import type { SightlineApi } from "../../src-shared/bridge-api";
import { connectBridge } from "./bridge-client";

declare global {
  interface Window {
    /** Present inside Electron, where the preload script exposes it. */
    sightline?: SightlineApi;
  }
}

let api: SightlineApi | undefined;

/** Electron's preload API when there is one, else the headless bridge. */
export function getApi(): SightlineApi {
  api ??= window.sightline ?? connectBridge(window.location, window.history);
  return api;
}
