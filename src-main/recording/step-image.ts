/**
 * The screenshot kept with a step: a window of the frame around the point the
 * step acted on (smaller to store and to observe than the whole display, and
 * where the reader should look), with the redaction pass applied and a ring
 * drawn where the step acted.
 */
import type { ScreenBox } from "../../src-shared/bridge-api";
import { type Capture, toCapture } from "../capture/capture";
import { blurRegion, cropImage, decodePng, drawRing, encodePng, type RgbaImage } from "./png-image";

type Point = { x: number; y: number };

export type CropWindow = {
  /** The window in desktop physical pixels. */
  rect: ScreenBox;
  /** The same window in the frame's image pixels. */
  pixels: ScreenBox;
  /** Image pixels per desktop pixel (1 unless the capture was resized). */
  scale: number;
};

/** A window of at most `size` centred on `point`, moved to lie within the captured display. */
export function cropWindow(capture: Capture, point: Point, size: { width: number; height: number }): CropWindow {
  const { bounds } = capture.display;
  const scale = bounds.width > 0 ? capture.width / bounds.width : 1;
  const width = Math.min(size.width, bounds.width);
  const height = Math.min(size.height, bounds.height);
  const x = Math.round(Math.min(Math.max(point.x - width / 2, bounds.x), bounds.x + bounds.width - width));
  const y = Math.round(Math.min(Math.max(point.y - height / 2, bounds.y), bounds.y + bounds.height - height));
  const rect = { x, y, width, height };
  const pixels = {
    x: Math.round((x - bounds.x) * scale),
    y: Math.round((y - bounds.y) * scale),
    width: Math.round(width * scale),
    height: Math.round(height * scale),
  };
  return { rect, pixels, scale };
}

/** The window as an image, and as a capture of its own whose display is the window (for observe). */
export function cropFrame(capture: Capture, window: CropWindow): { image: RgbaImage; capture: Capture } {
  // From the raw frame where there is one: no PNG encoded and decoded again per click.
  const raw = capture.pixels ?? { format: "rgba" as const, ...decodePng(capture.png) };
  const cropped = cropImage({ width: raw.width, height: raw.height, data: raw.data }, window.pixels);
  const image = raw.format === "bgra" ? swapRedBlue(cropped) : cropped;
  // A capture of its own (not `...capture`, whose raw pixels are the whole frame's: a host on this machine is
  // sent those, so it read the whole frame as if it were the crop); its PNG is made only if something reads it.
  const pixels = { format: "rgba" as const, width: image.width, height: image.height, data: image.data };
  const frame = { width: image.width, height: image.height, pixels, png: () => encodePng(image) };
  const display = { ...capture.display, bounds: window.rect };
  return { image, capture: toCapture(display, frame, capture.backend, capture.capturedAt) };
}

/** Desktop pixels → the window image's pixels. */
export const toWindowPixels = (window: CropWindow, p: Point): Point => ({
  x: (p.x - window.rect.x) * window.scale,
  y: (p.y - window.rect.y) * window.scale,
});

/**
 * The PNG to store: `blur` boxes (desktop pixels) made unreadable and a ring at
 * each of `markers` (desktop pixels: where a click landed, where a drag began
 * and ended). Works on a copy; the frame stays as it was.
 */
export function renderStepImage(
  image: RgbaImage,
  window: CropWindow,
  blur: readonly ScreenBox[],
  markers: readonly Point[],
): Buffer {
  const copy: RgbaImage = { width: image.width, height: image.height, data: Buffer.from(image.data) };
  for (const box of blur) {
    const p = toWindowPixels(window, box);
    // A little margin: the observer's boxes hug the glyphs.
    const pad = Math.max(2, box.height * window.scale * 0.15);
    blurRegion(copy, {
      x: p.x - pad,
      y: p.y - pad,
      width: box.width * window.scale + 2 * pad,
      height: box.height * window.scale + 2 * pad,
    });
  }
  const radius = Math.max(10, Math.round(14 * window.scale));
  for (const marker of markers) {
    const m = toWindowPixels(window, marker);
    drawRing(copy, m.x, m.y, radius + 2, 2, [255, 255, 255]);
    drawRing(copy, m.x, m.y, radius, 3, [230, 30, 60]);
  }
  return encodePng(copy);
}

/** BGRA ↔ RGBA, in place (the image is the crop's own copy). */
function swapRedBlue(image: RgbaImage): RgbaImage {
  const { data } = image;
  for (let i = 0; i < data.length; i += 4) {
    const blue = data[i] as number;
    data[i] = data[i + 2] as number;
    data[i + 2] = blue;
  }
  return image;
}
