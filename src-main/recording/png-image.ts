/**
 * The little image work a recording needs, on RGBA pixels in memory: decode
 * and encode PNG (pngjs, pure JavaScript), crop, blur a region beyond reading,
 * and draw a ring where a click landed.
 */
import { PNG } from "pngjs";

export type RgbaImage = { width: number; height: number; data: Buffer };
export type PixelRect = { x: number; y: number; width: number; height: number };

export function decodePng(png: Buffer): RgbaImage {
  const decoded = PNG.sync.read(png);
  return { width: decoded.width, height: decoded.height, data: decoded.data };
}

export function encodePng(image: RgbaImage): Buffer {
  const png = new PNG({ width: image.width, height: image.height });
  image.data.copy(png.data);
  return PNG.sync.write(png, { colorType: 6 });
}

/** The part of `rect` that lies inside the image, with integer edges (possibly empty). */
export function clipRect(image: Pick<RgbaImage, "width" | "height">, rect: PixelRect): PixelRect {
  const x0 = Math.max(0, Math.floor(rect.x));
  const y0 = Math.max(0, Math.floor(rect.y));
  const x1 = Math.min(image.width, Math.ceil(rect.x + rect.width));
  const y1 = Math.min(image.height, Math.ceil(rect.y + rect.height));
  return { x: x0, y: y0, width: Math.max(0, x1 - x0), height: Math.max(0, y1 - y0) };
}

export function cropImage(image: RgbaImage, rect: PixelRect): RgbaImage {
  const r = clipRect(image, rect);
  const data = Buffer.alloc(r.width * r.height * 4);
  for (let row = 0; row < r.height; row++) {
    const from = ((r.y + row) * image.width + r.x) * 4;
    image.data.copy(data, row * r.width * 4, from, from + r.width * 4);
  }
  return { width: r.width, height: r.height, data };
}

/** Averages blocks of pixels in place: the structure smaller than a block (the strokes of letters) is gone. */
function pixelate(image: RgbaImage, r: PixelRect, block: number) {
  for (let by = r.y; by < r.y + r.height; by += block) {
    for (let bx = r.x; bx < r.x + r.width; bx += block) {
      const w = Math.min(block, r.x + r.width - bx);
      const h = Math.min(block, r.y + r.height - by);
      const sum = [0, 0, 0, 0];
      for (let y = by; y < by + h; y++) {
        for (let x = bx; x < bx + w; x++) {
          const i = (y * image.width + x) * 4;
          for (let c = 0; c < 4; c++) sum[c] = (sum[c] as number) + (image.data[i + c] as number);
        }
      }
      const n = w * h;
      for (let y = by; y < by + h; y++) {
        for (let x = bx; x < bx + w; x++) {
          const i = (y * image.width + x) * 4;
          for (let c = 0; c < 4; c++) image.data[i + c] = Math.round((sum[c] as number) / n);
        }
      }
    }
  }
}

/** One pass of a box blur along rows or columns of `r`, in place, reading only pixels inside `r`. */
function boxBlurPass(image: RgbaImage, r: PixelRect, radius: number, horizontal: boolean) {
  const lines = horizontal ? r.height : r.width;
  const length = horizontal ? r.width : r.height;
  const line = new Float64Array(length * 4);
  for (let l = 0; l < lines; l++) {
    const index = (k: number) =>
      horizontal ? ((r.y + l) * image.width + r.x + k) * 4 : ((r.y + k) * image.width + r.x + l) * 4;
    for (let k = 0; k < length; k++) for (let c = 0; c < 4; c++) line[k * 4 + c] = image.data[index(k) + c] as number;
    for (let k = 0; k < length; k++) {
      const lo = Math.max(0, k - radius);
      const hi = Math.min(length - 1, k + radius);
      for (let c = 0; c < 4; c++) {
        let sum = 0;
        for (let j = lo; j <= hi; j++) sum += line[j * 4 + c] as number;
        image.data[index(k) + c] = Math.round(sum / (hi - lo + 1));
      }
    }
  }
}

/**
 * Makes the text in `rect` unreadable, in place: blocks as large as the text
 * is tall are averaged (which no deblurring undoes), then smoothed so the
 * region reads as blurred rather than as a mosaic.
 */
export function blurRegion(image: RgbaImage, rect: PixelRect): void {
  const r = clipRect(image, rect);
  if (r.width === 0 || r.height === 0) return;
  const block = Math.max(6, Math.round(Math.min(r.height, 48) * 0.75));
  pixelate(image, r, block);
  const radius = Math.max(2, Math.floor(block / 2));
  boxBlurPass(image, r, radius, true);
  boxBlurPass(image, r, radius, false);
}

/** Draws a ring centred on (cx, cy), in place: where the click landed. */
export function drawRing(
  image: RgbaImage,
  cx: number,
  cy: number,
  radius: number,
  thickness: number,
  rgb: readonly [number, number, number],
): void {
  const outer = radius + thickness / 2;
  const inner = radius - thickness / 2;
  const r = clipRect(image, { x: cx - outer - 1, y: cy - outer - 1, width: 2 * outer + 3, height: 2 * outer + 3 });
  for (let y = r.y; y < r.y + r.height; y++) {
    for (let x = r.x; x < r.x + r.width; x++) {
      const d = Math.hypot(x + 0.5 - cx, y + 0.5 - cy);
      if (d < inner || d > outer) continue;
      const i = (y * image.width + x) * 4;
      image.data[i] = rgb[0];
      image.data[i + 1] = rgb[1];
      image.data[i + 2] = rgb[2];
      image.data[i + 3] = 255;
    }
  }
}
