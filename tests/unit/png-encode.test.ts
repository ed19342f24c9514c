import { PNG } from "pngjs";
import { describe, expect, it } from "vitest";
import { encodePng } from "../../src-main/capture/png-encode";

function randomPixels(width: number, height: number): Buffer {
  const data = Buffer.alloc(width * height * 4);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7919 + (i >> 3) * 31) & 0xff;
  return data;
}

describe("encodePng", () => {
  it.each(["rgba", "bgra"] as const)(
    "writes %s pixels as an opaque RGBA PNG that decodes to the same colours",
    (format) => {
      const width = 37;
      const height = 11;
      const data = randomPixels(width, height);
      const decoded = PNG.sync.read(encodePng({ format, width, height, data }));
      expect([decoded.width, decoded.height]).toEqual([width, height]);
      for (let i = 0; i < width * height; i++) {
        const [r, g, b] =
          format === "rgba"
            ? [data[i * 4], data[i * 4 + 1], data[i * 4 + 2]]
            : [data[i * 4 + 2], data[i * 4 + 1], data[i * 4]];
        expect([...decoded.data.subarray(i * 4, i * 4 + 4)]).toEqual([r, g, b, 255]);
      }
    },
  );

  it("reads pixels from an unaligned slice of a larger buffer", () => {
    const backing = Buffer.alloc(1 + 2 * 2 * 4);
    const data = backing.subarray(1);
    data.set([10, 20, 30, 0, 40, 50, 60, 0, 70, 80, 90, 0, 100, 110, 120, 0]);
    const decoded = PNG.sync.read(encodePng({ format: "bgra", width: 2, height: 2, data }));
    expect([...decoded.data]).toEqual([30, 20, 10, 255, 60, 50, 40, 255, 90, 80, 70, 255, 120, 110, 100, 255]);
  });

  it("refuses pixels that do not fill the size", () => {
    expect(() => encodePng({ format: "rgba", width: 2, height: 2, data: Buffer.alloc(15) })).toThrow(/needs 16 bytes/);
  });
});
