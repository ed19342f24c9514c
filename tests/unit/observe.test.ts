import { describe, expect, it } from "vitest";
import { elementsFromObserve } from "../../src-main/agent/observe";
import { pickDisplay } from "../../src-main/capture/backend";
import { toDisplayInfo } from "../../src-main/capture/backends/screenshot-desktop";
import { pngSize } from "../../src-main/capture/capture";
import { type DisplayInfo, ScreenElement } from "../../src-shared/bridge-api";
import type { ObserveResult } from "../../src-shared/protocol/host-messages";

const display = (id: string, x: number, y: number, width: number, height: number, primary = false): DisplayInfo => ({
  id,
  name: id,
  bounds: { x, y, width, height },
  primary,
  scaleFactor: 1,
});

const hostResult = (
  elements: ObserveResult["elements"],
  size = { image_width: 1280, image_height: 1024 },
): Pick<ObserveResult, "elements" | "image_width" | "image_height"> => ({ elements, ...size });

describe("elementsFromObserve", () => {
  it("keeps the host's ids, kinds and order, and adds the display offset", () => {
    const capture = { display: display("b", 1920, -200, 1280, 1024) };
    const elements = elementsFromObserve(
      hostResult([
        { id: 1, kind: "button", text: "Save", box: { x: 400, y: 20, width: 60, height: 20 }, confidence: 0.8 },
        { id: 2, kind: "text", text: "Second", box: { x: 10, y: 300, width: 50, height: 20 }, confidence: 0.9 },
        { id: 3, kind: "icon", text: "", box: { x: 0, y: 0, width: 16, height: 16 }, confidence: 0.4 },
      ]),
      capture,
    );
    expect(elements.map((e) => [e.id, e.kind, e.text])).toEqual([
      [1, "button", "Save"],
      [2, "text", "Second"],
      [3, "icon", ""],
    ]);
    expect(elements[0]?.box).toEqual({ x: 2320, y: -180, width: 60, height: 20 });
    expect(elements[2]?.box).toEqual({ x: 1920, y: -200, width: 16, height: 16 });
    expect(elements.every((e) => ScreenElement.safeParse(e).success)).toBe(true);
  });

  it("scales by the size of the image the host saw, not the capture's", () => {
    // A 4K display whose screenshot was sent at half size: host boxes are in the 1920x1080 image.
    const capture = { display: display("a", 0, 0, 3840, 2160) };
    const [element] = elementsFromObserve(
      hostResult([{ id: 1, kind: "link", text: "x", box: { x: 100, y: 50, width: 40, height: 20 }, confidence: 1 }], {
        image_width: 1920,
        image_height: 1080,
      }),
      capture,
    );
    expect(element?.box).toEqual({ x: 200, y: 100, width: 80, height: 40 });
  });

  it("gives nothing for a screen with nothing on it", () => {
    expect(elementsFromObserve(hostResult([]), { display: display("a", 0, 0, 10, 10) })).toEqual([]);
  });
});

describe("displays", () => {
  const displays = [display("left", 0, 0, 1920, 1080, false), display("right", 1920, 0, 2560, 1440, true)];

  it("picks the display under the point, else the primary", () => {
    expect(pickDisplay(displays, { x: 100, y: 100 }).id).toBe("left");
    expect(pickDisplay(displays, { x: 2000, y: 1300 }).id).toBe("right");
    expect(pickDisplay(displays, { x: -5, y: 0 }).id).toBe("right");
    expect(pickDisplay(displays).id).toBe("right");
    expect(() => pickDisplay([])).toThrow(/no display/);
  });

  it("reads screenshot-desktop's X11 and Windows shapes", () => {
    expect(
      toDisplayInfo({ id: ":0", width: 800, height: 600, offsetX: 10, offsetY: 20, primary: true }, 0).bounds,
    ).toEqual({
      x: 10,
      y: 20,
      width: 800,
      height: 600,
    });
    expect(toDisplayInfo({ id: 2, left: -1280, top: 0, right: 0, bottom: 1024 }, 1)).toEqual({
      id: "2",
      name: "display 2",
      bounds: { x: -1280, y: 0, width: 1280, height: 1024 },
      primary: false,
      scaleFactor: 1,
    });
  });

  it("reads a PNG's size and refuses anything else", () => {
    const png = Buffer.from(
      "iVBORw0KGgoAAAANSUhEUgAAAAMAAAACCAYAAACddGYaAAAAEElEQVR42mP8z8DAwMDAAAAMBwEBq1v3dQAAAABJRU5ErkJggg==",
      "base64",
    );
    expect(pngSize(png)).toEqual({ width: 3, height: 2 });
    expect(() => pngSize(Buffer.from("GIF89a-not-a-png-at-all"))).toThrow(/PNG/);
  });
});
