import { describe, expect, it } from "vitest";
import type { Frame } from "../../src-main/capture/backend";
import { nativeBackendOrder, toCapture } from "../../src-main/capture/capture";
import { isLoopbackUrl } from "../../src-main/host/loopback";
import type { DisplayInfo } from "../../src-shared/bridge-api";
import { FRAME_HEADER_BYTES, observeFrameParts } from "../../src-shared/protocol/binary-frame";
import { Observe } from "../../src-shared/protocol/host-messages";

const display: DisplayInfo = {
  id: "0",
  name: "test",
  bounds: { x: 0, y: 0, width: 2, height: 1 },
  primary: true,
  scaleFactor: 1,
};

describe("a raw capture", () => {
  it("encodes its PNG only when read, and only once", () => {
    let encodings = 0;
    const frame: Frame = {
      width: 2,
      height: 1,
      pixels: { format: "rgba", width: 2, height: 1, data: Buffer.alloc(8) },
      png: () => {
        encodings++;
        return Buffer.from("png");
      },
    };
    const capture = toCapture(display, frame, "test");
    expect(encodings).toBe(0);
    expect(capture.pixels?.data.byteLength).toBe(8);
    expect(capture.png.toString()).toBe("png");
    expect(capture.png.toString()).toBe("png");
    expect(encodings).toBe(1);
  });
});

describe("the observe binary frame", () => {
  const message = { type: "observe", id: "o1", image: { format: "rgba", width: 2, height: 1 } } as const;

  it("is a big-endian JSON length, the JSON, then the pixels untouched", () => {
    const pixels = Buffer.from([1, 2, 3, 4, 5, 6, 7, 8]);
    const parts = observeFrameParts(message, pixels);
    expect(parts[2]).toBe(pixels);
    const frame = Buffer.concat(parts);
    const length = frame.readUInt32BE(0);
    const json = JSON.parse(frame.toString("utf8", FRAME_HEADER_BYTES, FRAME_HEADER_BYTES + length));
    expect(Observe.parse(json)).toEqual(message);
    expect([...frame.subarray(FRAME_HEADER_BYTES + length)]).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it("refuses pixels that do not fill width × height × 4 bytes", () => {
    expect(() => observeFrameParts(message, Buffer.alloc(7))).toThrow(/needs 8 bytes, got 7/);
    expect(() => observeFrameParts(message, Buffer.alloc(12))).toThrow(/needs 8 bytes, got 12/);
  });
});

describe("isLoopbackUrl", () => {
  it.each([
    ["http://127.0.0.1:8765", true],
    ["http://127.3.4.5", true],
    ["http://localhost:9000", true],
    ["http://[::1]:9000", true],
    ["http://192.168.1.20:8765", false],
    ["http://10.0.0.2:9000", false],
    ["http://127.0.0.1.example.com", false],
    ["http://1270.0.0.1", false],
    ["http://gpu-box.local:8765", false],
    ["not a url", false],
  ])("%s → %s", (url, local) => {
    expect(isLoopbackUrl(url)).toBe(local);
  });
});

describe("nativeBackendOrder", () => {
  it.each([
    [{ DISPLAY: ":0" }, "linux", ["libnut-x11", "node-screenshots"]],
    // XWayland: XGetImage on the root window would not see Wayland windows.
    [{ DISPLAY: ":0", WAYLAND_DISPLAY: "wayland-0" }, "linux", ["node-screenshots"]],
    [{}, "win32", ["node-screenshots"]],
    [{ DISPLAY: ":0", SIGHTLINE_CAPTURE_BACKEND: "node-screenshots" }, "linux", ["node-screenshots"]],
  ] as const)("%j on %s → %j", (env, platform, order) => {
    expect(nativeBackendOrder(env, platform)).toEqual(order);
  });
});
