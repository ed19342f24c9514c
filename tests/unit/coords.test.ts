import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type DisplayGeometry,
  desktopPtToDisplay,
  desktopPxToDisplay,
  displayAt,
  displayToDesktopPt,
  displayToDesktopPx,
  displayToModel,
  letterbox,
  mapRect,
  modelToDisplay,
  point,
} from "../../src-main/coords/spaces";

const SCALES = [1, 1.25, 1.5, 2] as const;

const displayArb: fc.Arbitrary<DisplayGeometry> = fc
  .record({
    scaleFactor: fc.constantFrom(...SCALES),
    widthPt: fc.integer({ min: 640, max: 3840 }),
    heightPt: fc.integer({ min: 480, max: 2160 }),
    xPt: fc.integer({ min: -8000, max: 8000 }),
    yPt: fc.integer({ min: -4000, max: 4000 }),
    xPx: fc.integer({ min: -16000, max: 16000 }),
    yPx: fc.integer({ min: -8000, max: 8000 }),
  })
  .map((d) => ({
    id: "d",
    originPt: { x: d.xPt, y: d.yPt },
    originPx: { x: d.xPx, y: d.yPx },
    sizePx: { width: Math.round(d.widthPt * d.scaleFactor), height: Math.round(d.heightPt * d.scaleFactor) },
    scaleFactor: d.scaleFactor,
  }));

const pointOn = (d: DisplayGeometry) =>
  fc
    .record({ x: fc.double({ min: 0, max: 1, noNaN: true }), y: fc.double({ min: 0, max: 1, noNaN: true }) })
    .map(({ x, y }) => point("display_px", x * (d.sizePx.width - 1), y * (d.sizePx.height - 1)));

const close = (a: { x: number; y: number }, b: { x: number; y: number }) =>
  Math.abs(a.x - b.x) <= 1 && Math.abs(a.y - b.y) <= 1;

describe("coordinate spaces", () => {
  it("display ↔ desktop pixels round-trips", () => {
    fc.assert(
      fc.property(
        displayArb.chain((d) => fc.tuple(fc.constant(d), pointOn(d))),
        ([d, p]) => close(desktopPxToDisplay(displayToDesktopPx(p, d), d), p),
      ),
    );
  });

  it("display ↔ desktop points round-trips, also after rounding to whole points as an OS would", () => {
    fc.assert(
      fc.property(
        displayArb.chain((d) => fc.tuple(fc.constant(d), pointOn(d))),
        ([d, p]) => {
          const pt = displayToDesktopPt(p, d);
          const rounded = point("desktop_pt", Math.round(pt.x), Math.round(pt.y));
          // One point is `scaleFactor` pixels, so rounding to points costs at most half of that.
          const back = desktopPtToDisplay(rounded, d);
          return (
            close(desktopPtToDisplay(pt, d), p) &&
            Math.abs(back.x - p.x) <= d.scaleFactor / 2 + 1e-9 &&
            Math.abs(back.y - p.y) <= d.scaleFactor / 2 + 1e-9
          );
        },
      ),
    );
  });

  it("display ↔ model input round-trips through any letterbox", () => {
    fc.assert(
      fc.property(
        displayArb.chain((d) => fc.tuple(fc.constant(d), pointOn(d))),
        fc.constantFrom([640, 640], [1280, 1280], [1024, 768], [336, 336]),
        ([d, p], [w, h]) => {
          const box = letterbox(d.sizePx.width, d.sizePx.height, w as number, h as number);
          const m = displayToModel(p, box);
          const inside = m.x >= -1e-6 && m.y >= -1e-6 && m.x <= box.inputWidth + 1e-6 && m.y <= box.inputHeight + 1e-6;
          // A whole model pixel is 1/scale display pixels; rounding to it must stay within that.
          const rounded = modelToDisplay(point("model_px", Math.round(m.x), Math.round(m.y)), box);
          const tolerance = 0.5 / box.scale + 1e-6;
          return (
            inside &&
            close(modelToDisplay(m, box), p) &&
            Math.abs(rounded.x - p.x) <= tolerance &&
            Math.abs(rounded.y - p.y) <= tolerance
          );
        },
      ),
    );
  });

  it("finds the display under a desktop point, with negative offsets", () => {
    const left: DisplayGeometry = {
      id: "left",
      originPx: { x: -2560, y: 0 },
      originPt: { x: -1280, y: 0 },
      sizePx: { width: 2560, height: 1600 },
      scaleFactor: 2,
    };
    const main: DisplayGeometry = {
      id: "main",
      originPx: { x: 0, y: 0 },
      originPt: { x: 0, y: 0 },
      sizePx: { width: 1920, height: 1080 },
      scaleFactor: 1,
    };
    expect(displayAt([left, main], point("desktop_pt", -10, 10))?.id).toBe("left");
    expect(displayAt([left, main], point("desktop_px", -10, 10))?.id).toBe("left");
    expect(displayAt([left, main], point("desktop_px", 10, 10))?.id).toBe("main");
    expect(displayAt([left, main], point("desktop_px", 10, 1500))).toBeUndefined();
    expect(displayToDesktopPt(point("display_px", 2000, 100), left)).toEqual(point("desktop_pt", -280, 50));
  });

  it("letterboxes a 16:9 frame into a square input with bars top and bottom", () => {
    const box = letterbox(1920, 1080, 640, 640);
    expect(box.scale).toBeCloseTo(1 / 3);
    expect(box.padX).toBe(0);
    expect(box.padY).toBeCloseTo(140);
    const r = mapRect({ space: "model_px", x: 0, y: 140, width: 640, height: 360 }, (p) => modelToDisplay(p, box));
    expect(r).toMatchObject({ space: "display_px", x: 0, width: 1920 });
    expect(r.y).toBeCloseTo(0);
    expect(r.height).toBeCloseTo(1080);
    expect(() => letterbox(0, 10, 640, 640)).toThrow(/no pixels/);
  });
});
