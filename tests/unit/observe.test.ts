import { describe, expect, it } from "vitest";
import { linesToElements } from "../../src-main/agent/observe";
import { pickDisplay } from "../../src-main/capture/backend";
import { toDisplayInfo } from "../../src-main/capture/backends/screenshot-desktop";
import { pngSize } from "../../src-main/capture/capture";
import type { DisplayInfo } from "../../src-shared/bridge-api";

const display = (id: string, x: number, y: number, width: number, height: number, primary = false): DisplayInfo => ({
  id,
  name: id,
  bounds: { x, y, width, height },
  primary,
  scaleFactor: 1,
});

describe("linesToElements", () => {
  it("adds the display offset, numbers elements in reading order", () => {
    const capture = { display: display("b", 1920, -200, 1280, 1024), width: 1280, height: 1024 };
    const elements = linesToElements(
      [
        { text: "Second", box: { x: 10, y: 300, width: 50, height: 20 }, confidence: 0.9 },
        { text: "First", box: { x: 400, y: 20, width: 60, height: 20 }, confidence: 0.8 },
      ],
      capture,
    );
    expect(elements.map((e) => [e.id, e.text])).toEqual([
      [1, "First"],
      [2, "Second"],
    ]);
    expect(elements[0]?.box).toEqual({ x: 2320, y: -180, width: 60, height: 20 });
  });

  it("scales when the image is not at the display's size", () => {
    const capture = { display: display("a", 0, 0, 1920, 1080), width: 3840, height: 2160 };
    const [element] = linesToElements(
      [{ text: "x", box: { x: 100, y: 50, width: 40, height: 20 }, confidence: 1 }],
      capture,
    );
    expect(element?.box).toEqual({ x: 50, y: 25, width: 20, height: 10 });
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
