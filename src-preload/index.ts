/** The renderer's only door to the main process: `window.sightline`, validated with zod both ways. */
import { contextBridge, ipcRenderer } from "electron";
import { z } from "zod";
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

// The sandboxed preload runs under the page's CSP, which forbids the eval zod would probe for.
z.config({ jitless: true });

const api: SightlineApi = {
  async call<M extends ApiMethod>(method: M, input: MethodInput<M>): Promise<MethodOutput<M>> {
    const spec = API_METHODS[method];
    const reply = (await ipcRenderer.invoke("sightline:call", method, spec.input.parse(input))) as {
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
    ipcRenderer.on("sightline:event", handler);
    return () => ipcRenderer.off("sightline:event", handler);
  },
};

contextBridge.exposeInMainWorld("sightline", api);
