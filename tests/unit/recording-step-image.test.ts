import { describe, expect, it } from "vitest";
import type { Capture } from "../../src-main/capture/capture";
import { decodePng, encodePng } from "../../src-main/recording/png-image";
import { cropFrame, cropWindow } from "../../src-main/recording/step-image";

/** A 40×20 frame whose every pixel says where it is: red = x, green = y, blue = 7. */
function frame(format: "rgba" | "bgra"): Capture {
  const width = 40;
  const height = 20;
  const rgba = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) rgba.set([x, y, 7, 255], (y * width + x) * 4);
  }
  const data = Buffer.from(rgba);
  if (format === "bgra")
    for (let i = 0; i < data.length; i += 4) data.set([7, data[i + 1] as number, data[i] as number], i);
  return {
    display: {
      id: "1",
      name: "test",
      primary: true,
      scaleFactor: 1,
      bounds: { x: 100, y: 50, width, height },
      workArea: { x: 100, y: 50, width, height },
    },
    png: encodePng({ width, height, data: rgba }),
    width,
    height,
    capturedAt: 0,
    backend: "test",
    pixels: { format, width, height, data },
  };
}

describe("cropFrame", () => {
  for (const format of ["rgba", "bgra"] as const) {
    it(`gives the crop its own pixels and PNG, never the whole frame's (${format} frame)`, () => {
      const capture = frame(format);
      const window = cropWindow(capture, { x: 120, y: 60 }, { width: 10, height: 6 });
      const { image, capture: crop } = cropFrame(capture, window);
      expect([crop.width, crop.height]).toEqual([10, 6]);
      expect(crop.pixels).toMatchObject({ format: "rgba", width: 10, height: 6 });
      expect(crop.pixels?.data.equals(image.data)).toBe(true);
      expect(decodePng(crop.png).data.equals(image.data)).toBe(true);
      // The crop's first pixel is the frame's pixel at the window's corner, in RGBA order.
      expect([...image.data.subarray(0, 4)]).toEqual([window.pixels.x, window.pixels.y, 7, 255]);
      expect(crop.display.bounds).toEqual(window.rect);
    });
  }
});
