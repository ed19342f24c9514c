/**
 * The renderer's only door to the main process, validated with zod both ways:
 * `window.sightline` (the API of src-shared/bridge-api.ts) and
 * `window.sightlineOverlay` (window chores that exist only in Electron).
 */
// First: no zod schema may be built before eval probing is turned off (the page's CSP forbids eval).
import "../src-renderer/src/zod-jitless";
import { contextBridge, ipcRenderer } from "electron";
import { z } from "zod";
import { CHANNELS, OVERLAY_COMMANDS, OVERLAY_VIEWS } from "../src-main/electron/channels";
import type { OverlayWindowApi } from "../src-renderer/src/overlay-window";
import {
  API_EVENTS,
  API_METHODS,
  ApiCallError,
  ApiError,
  type ApiEvent,
  type ApiMethod,
  type EventPayload,
  type MethodInput,
  type MethodOutput,
  type SightlineApi,
} from "../src-shared/bridge-api";

const OverlayView = z.enum(OVERLAY_VIEWS);
const OverlayCommand = z.enum(OVERLAY_COMMANDS);

const api: SightlineApi = {
  async call<M extends ApiMethod>(method: M, input: MethodInput<M>): Promise<MethodOutput<M>> {
    const spec = API_METHODS[method];
    const reply = (await ipcRenderer.invoke(CHANNELS.call, method, spec.input.parse(input))) as {
      ok: boolean;
      value?: unknown;
      error?: unknown;
    };
    if (!reply.ok) {
      const error = ApiError.parse(reply.error);
      throw new ApiCallError(error.code, error.message);
    }
    return spec.output.parse(reply.value) as MethodOutput<M>;
  },
  on<E extends ApiEvent>(event: E, listener: (payload: EventPayload<E>) => void): () => void {
    const handler = (_: unknown, name: unknown, payload: unknown) => {
      if (name === event) listener(API_EVENTS[event].parse(payload) as EventPayload<E>);
    };
    ipcRenderer.on(CHANNELS.event, handler);
    return () => ipcRenderer.off(CHANNELS.event, handler);
  },
};

const overlay: OverlayWindowApi = {
  hide: () => ipcRenderer.send(CHANNELS.overlayCommand, OverlayCommand.parse("hide")),
  onShowView(listener) {
    const handler = (_: unknown, view: unknown) => {
      const parsed = OverlayView.safeParse(view);
      if (parsed.success) listener(parsed.data);
    };
    ipcRenderer.on(CHANNELS.overlayView, handler);
    return () => ipcRenderer.off(CHANNELS.overlayView, handler);
  },
};

contextBridge.exposeInMainWorld("sightline", api);
contextBridge.exposeInMainWorld("sightlineOverlay", overlay);
