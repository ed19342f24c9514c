import {
  API_EVENTS,
  API_METHODS,
  ApiCallError,
  type ApiEvent,
  type ApiMethod,
  type EventPayload,
  type MethodInput,
  type MethodOutput,
  type SightlineApi,
} from "../../src-shared/bridge-api";
import { BRIDGE_PATH, BridgeServerFrame } from "../../src-shared/bridge-wire";

type Pending = { method: ApiMethod; resolve: (value: unknown) => void; reject: (error: Error) => void };

/**
 * The preload API over the headless bridge: the page learns the per-launch
 * token from the URL fragment (never sent to a server), then drops it from the
 * address bar. Reconnects if the bridge restarts.
 */
export function connectBridge(location: Location, history: History): SightlineApi {
  const token = new URLSearchParams(location.hash.slice(1)).get("token") ?? sessionStorage.getItem("sightline-token");
  if (!token)
    throw new Error("This page needs the link the Sightline headless server printed (it carries the access token).");
  sessionStorage.setItem("sightline-token", token);
  history.replaceState(null, "", location.pathname);
  const url = `ws://${location.host}${BRIDGE_PATH}?token=${encodeURIComponent(token)}`;

  let nextId = 0;
  const pending = new Map<number, Pending>();
  const listeners = new Map<ApiEvent, Set<(payload: never) => void>>();
  let socket: WebSocket;
  let opened: Promise<void>;

  const connect = (): void => {
    socket = new WebSocket(url);
    opened = new Promise((resolve, reject) => {
      socket.addEventListener("open", () => resolve(), { once: true });
      socket.addEventListener("error", () => reject(new ApiCallError("bridge_unreachable", "cannot reach Sightline")), {
        once: true,
      });
    });
    opened.catch(() => {});
    socket.addEventListener("message", (message) => onFrame(String(message.data)));
    socket.addEventListener("close", () => {
      for (const [id, call] of pending) {
        call.reject(new ApiCallError("bridge_closed", "the connection to Sightline closed"));
        pending.delete(id);
      }
      setTimeout(connect, 1000);
    });
  };

  const onFrame = (text: string): void => {
    const frame = BridgeServerFrame.parse(JSON.parse(text));
    if (frame.kind === "event") {
      if (!Object.hasOwn(API_EVENTS, frame.event)) return;
      const event = frame.event as ApiEvent;
      const payload = API_EVENTS[event].parse(frame.payload);
      for (const listener of listeners.get(event) ?? []) (listener as (p: typeof payload) => void)(payload);
      return;
    }
    const call = pending.get(frame.id);
    if (!call) return;
    pending.delete(frame.id);
    if (frame.ok) {
      const parsed = API_METHODS[call.method].output.safeParse(frame.value);
      if (parsed.success) call.resolve(parsed.data);
      else call.reject(new ApiCallError("invalid_reply", parsed.error.message));
    } else {
      call.reject(new ApiCallError(frame.error.code, frame.error.message));
    }
  };

  connect();

  return {
    async call<M extends ApiMethod>(method: M, input: MethodInput<M>): Promise<MethodOutput<M>> {
      const checked = API_METHODS[method].input.parse(input);
      await opened;
      const id = nextId++;
      return new Promise<MethodOutput<M>>((resolve, reject) => {
        pending.set(id, { method, resolve: resolve as (value: unknown) => void, reject });
        socket.send(JSON.stringify({ kind: "call", id, method, input: checked }));
      });
    },
    on<E extends ApiEvent>(event: E, listener: (payload: EventPayload<E>) => void): () => void {
      let set = listeners.get(event);
      if (!set) {
        set = new Set();
        listeners.set(event, set);
      }
      set.add(listener as (payload: never) => void);
      return () => set.delete(listener as (payload: never) => void);
    },
  };
}
