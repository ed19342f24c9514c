import { randomBytes, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { WebSocket, WebSocketServer } from "ws";
import { API_EVENTS, type ApiEvent, dispatchCall, toApiError } from "../../src-shared/bridge-api";
import { BRIDGE_PATH, BridgeCall, type BridgeServerFrame } from "../../src-shared/bridge-wire";
import type { Services } from "../services";
import { readStatic } from "./static-files";

export type BridgeServerOptions = {
  services: Services;
  rendererDir: string;
  port?: number;
  token?: string;
};

export type RunningBridge = { url: string; port: number; token: string; close: () => Promise<void> };

function tokenMatches(expected: string, given: string | null): boolean {
  if (given === null) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * The headless entry's face: serves the built renderer and carries the preload
 * API over a WebSocket that needs the per-launch token and a same-origin page.
 * It listens on loopback only.
 */
export async function startBridgeServer(options: BridgeServerOptions): Promise<RunningBridge> {
  const token = options.token ?? randomBytes(24).toString("base64url");
  let origin = "";
  const server: Server = createServer(async (req, res) => {
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    const file = req.method === "GET" ? await readStatic(options.rendererDir, path) : undefined;
    if (!file) {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found");
      return;
    }
    res
      .writeHead(200, {
        "content-type": file.type,
        "cache-control": "no-store",
        "x-content-type-options": "nosniff",
        "content-security-policy": `default-src 'self'; connect-src 'self' ws://${new URL(origin).host}; img-src 'self' data:; style-src 'self' 'unsafe-inline'`,
      })
      .end(file.body);
  });
  const sockets = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 });

  server.on("upgrade", (req: IncomingMessage, socket, head) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const originOk = req.headers.origin === undefined || req.headers.origin === origin;
    if (url.pathname !== BRIDGE_PATH || !originOk || !tokenMatches(token, url.searchParams.get("token"))) {
      socket.end("HTTP/1.1 401 Unauthorized\r\nConnection: close\r\n\r\n");
      return;
    }
    sockets.handleUpgrade(req, socket, head, (ws) => serveConnection(ws, options.services));
  });

  await new Promise<void>((resolve) => server.listen(options.port ?? 0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  origin = `http://127.0.0.1:${port}`;
  return {
    url: `${origin}/#token=${token}`,
    port,
    token,
    close: async () => {
      for (const client of sockets.clients) client.terminate();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function serveConnection(ws: WebSocket, services: Services): void {
  const send = (frame: BridgeServerFrame): void => {
    if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(frame));
  };
  const unsubscribe = (Object.keys(API_EVENTS) as ApiEvent[]).map((event) =>
    services.on(event, (payload) => send({ kind: "event", event, payload })),
  );
  ws.on("close", () => {
    for (const off of unsubscribe) off();
  });
  ws.on("message", async (data) => {
    let call: BridgeCall;
    try {
      call = BridgeCall.parse(JSON.parse(data.toString()));
    } catch (error) {
      send({ kind: "result", id: -1, ok: false, error: { code: "bad_frame", message: (error as Error).message } });
      return;
    }
    try {
      send({
        kind: "result",
        id: call.id,
        ok: true,
        value: await dispatchCall(services.handlers, call.method, call.input),
      });
    } catch (error) {
      send({ kind: "result", id: call.id, ok: false, error: toApiError(error) });
    }
  });
}
