import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HostClient, HostError } from "../../src-main/host/client";
import { newSupervisor } from "./helpers";
import { renderTextPng } from "./render-text";

const supervisor = newSupervisor();
let client: HostClient;

describe("HostClient against the real host", () => {
  beforeAll(async () => {
    await supervisor.start();
    client = new HostClient({ endpoint: () => supervisor.whenReady(), requestTimeoutMs: 60_000 });
  });
  afterAll(async () => {
    client.close();
    await supervisor.stop();
  });

  it("completes the handshake and pings", async () => {
    await expect(client.ping()).resolves.toBeUndefined();
  });

  it("reads real text with the real OCR model", async () => {
    const result = await client.observePng(renderTextPng([{ text: "Quarterly Report", x: 60, y: 80 }]));
    const text = result.lines.map((l) => l.text).join(" ");
    expect(text).toMatch(/Quarterly\s*Report/i);
    const line = result.lines.find((l) => /quarterly/i.test(l.text));
    expect(line?.box.x).toBeGreaterThan(40);
    expect(line?.box.x).toBeLessThan(90);
    expect(line?.box.y).toBeGreaterThan(70);
    expect(line?.box.y).toBeLessThan(110);
  });

  it("turns a host error into a typed HostError", async () => {
    const error = await client.observePng(Buffer.from("not an image")).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HostError);
    expect((error as HostError).code).toBe("bad_image");
  });

  it("reconnects to a restarted host on its new port", async () => {
    const before = await supervisor.whenReady();
    process.kill(before.pid, "SIGKILL");
    await expect(client.ping()).resolves.toBeUndefined();
    const after = await supervisor.whenReady();
    expect(after.url).not.toBe(before.url);
  });
});
