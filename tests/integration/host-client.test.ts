import { PNG } from "pngjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Capture, toCapture } from "../../src-main/capture/capture";
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

  /** A raw capture of rendered text; `pngReads` counts how often its PNG was asked for. */
  function rawCapture(text: string): Capture & { pngReads: () => number } {
    const png = renderTextPng([{ text, x: 60, y: 80 }]);
    const { width, height, data } = PNG.sync.read(png);
    let reads = 0;
    const display = { id: "0", name: "test", bounds: { x: 0, y: 0, width, height }, primary: true, scaleFactor: 1 };
    const frame = {
      width,
      height,
      pixels: { format: "rgba" as const, width, height, data },
      png: () => {
        reads++;
        return png;
      },
    };
    return Object.assign(toCapture(display, frame, "test"), { pngReads: () => reads });
  }

  it("sends a capture's raw pixels, never its PNG, to a host on this machine", async () => {
    const capture = rawCapture("Quarterly Report");
    expect(capture.pixels && (await client.sendsRawPixels(capture.pixels))).toBe(true);
    const result = await client.observeCapture(capture);
    expect([result.image_width, result.image_height]).toEqual([capture.width, capture.height]);
    expect(result.lines.map((l) => l.text).join(" ")).toMatch(/Quarterly\s*Report/i);
    expect(capture.pngReads()).toBe(0);
  });

  it("sends the PNG to a host on another machine", async () => {
    const remote = new HostClient({ endpoint: () => supervisor.whenReady(), isLocal: () => false });
    try {
      const capture = rawCapture("Export as PDF");
      expect(capture.pixels && (await remote.sendsRawPixels(capture.pixels))).toBe(false);
      const result = await remote.observeCapture(capture);
      expect(result.lines.map((l) => l.text).join(" ")).toMatch(/Export\s*as\s*PDF/i);
      expect(capture.pngReads()).toBe(1);
    } finally {
      remote.close();
    }
  });

  it("turns a raw image the host refuses into a typed HostError", async () => {
    // Over the pixel limit, observeCapture would send a PNG; a hand-made request shows the host's answer.
    const image = { format: "rgba", width: 8000, height: 8000, data: "AAAA" } as const;
    const error = await client.request({ type: "observe", image }).catch((e: unknown) => e);
    expect((error as HostError).code).toBe("image_too_large");
    expect((error as HostError).message).toMatch(/8000×8000/);
  });

  it("asks for points and gets the host's typed refusal when its profile has no vlm", async () => {
    const error = await client
      .point(renderTextPng([{ text: "Save", x: 20, y: 20 }]), "the Save button", { maxPoints: 1 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HostError);
    expect((error as HostError).code).toBe("model_unavailable");
    expect((error as HostError).message).toMatch(
      /no vlm model.*SIGHTLINE_PROFILE=\S+ after `sightline-host models pull \S+`/,
    );
  });

  it("stops waiting for points when the caller aborts", async () => {
    const error = await client.point(Buffer.from("png"), "anything", { signal: AbortSignal.abort() }).catch((e) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).name).toBe("AbortError");
    const controller = new AbortController();
    const pending = client.point(renderTextPng([{ text: "Save", x: 20, y: 20 }]), "Save", {
      signal: controller.signal,
    });
    controller.abort();
    await expect(pending).rejects.toMatchObject({ code: "aborted" });
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
