import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { type RunningBridge, startBridgeServer } from "../../src-main/headless/bridge-server";
import { Services } from "../../src-main/services";
import { root } from "./helpers";

/** The headless bridge with real services (the host is not started: these calls need none). */
let bridge: RunningBridge;
const services = new Services({ root });

beforeAll(async () => {
  const rendererDir = mkdtempSync(join(tmpdir(), "renderer-"));
  writeFileSync(join(rendererDir, "index.html"), "<!doctype html><title>t</title>");
  bridge = await startBridgeServer({ services, rendererDir });
});
afterAll(async () => {
  await bridge.close();
  await services.stop();
});

function open(query: string, origin?: string): Promise<WebSocket> {
  const ws = new WebSocket(`ws://127.0.0.1:${bridge.port}/bridge${query}`, origin ? { origin } : {});
  return new Promise((resolve, reject) => {
    ws.once("open", () => resolve(ws));
    ws.once("unexpected-response", (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once("error", reject);
  });
}

function call(ws: WebSocket, frame: unknown): Promise<Record<string, unknown>> {
  return new Promise((resolve) => {
    ws.once("message", (data) => resolve(JSON.parse(data.toString())));
    ws.send(typeof frame === "string" ? frame : JSON.stringify(frame));
  });
}

describe("headless bridge", () => {
  it("serves the renderer but not files outside it", async () => {
    const page = await fetch(`http://127.0.0.1:${bridge.port}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-security-policy")).toContain("default-src 'self'");
    expect((await fetch(`http://127.0.0.1:${bridge.port}/..%2f..%2fetc%2fpasswd`)).status).toBe(404);
  });

  it("refuses a socket without the token, with a wrong one, or from another origin", async () => {
    await expect(open("")).rejects.toThrow(/401/);
    await expect(open("?token=nope")).rejects.toThrow(/401/);
    await expect(open(`?token=${bridge.token}`, "http://evil.example")).rejects.toThrow(/401/);
  });

  it("carries API calls, validating their input, and survives bad frames", async () => {
    const ws = await open(`?token=${bridge.token}`, `http://127.0.0.1:${bridge.port}`);
    expect(await call(ws, "{oops")).toMatchObject({ kind: "result", ok: false, error: { code: "bad_frame" } });
    expect(await call(ws, { kind: "call", id: 1, method: "getHostStatus", input: {} })).toMatchObject({
      id: 1,
      ok: true,
      value: { phase: "stopped" },
    });
    expect(
      await call(ws, { kind: "call", id: 2, method: "submitInstruction", input: { instruction: "" } }),
    ).toMatchObject({
      id: 2,
      ok: false,
      error: { code: "bad_input" },
    });
    expect(await call(ws, { kind: "call", id: 3, method: "constructor", input: {} })).toMatchObject({
      id: 3,
      ok: false,
      error: { code: "unknown_method" },
    });
    ws.close();
  });
});
