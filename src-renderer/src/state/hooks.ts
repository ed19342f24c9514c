import { useStore } from "zustand";
import { getApi } from "../api";
import { type AppState, type AppStore, createAppStore } from "./store";

let store: AppStore | undefined;

/** The page's one store, made on first use so the API connects only once. */
export function appStore(): AppStore {
  store ??= createAppStore({ api: getApi(), storage: window.localStorage });
  return store;
}

export function useApp<T>(selector: (state: AppState) => T): T {
  return useStore(appStore(), selector);
}
