import screenshot from "screenshot-desktop";
import type { DisplayInfo } from "../../src-shared/bridge-api";
import { listDisplays, pickDisplay } from "./displays";

export type Capture = {
  display: DisplayInfo;
  png: Buffer;
  width: number;
  height: number;
  capturedAt: number;
};

/** Reads width and height from a PNG's IHDR chunk, which always comes first. */
export function pngSize(png: Buffer): { width: number; height: number } {
  const signature = "89504e470d0a1a0a";
  if (png.length < 24 || png.subarray(0, 8).toString("hex") !== signature || png.toString("ascii", 12, 16) !== "IHDR") {
    throw new Error("capture did not return a PNG image");
  }
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

export type CaptureOptions = {
  /** Capture the display under this point (physical pixels); the primary display otherwise. */
  point?: { x: number; y: number };
};

/** Captures one display as PNG through screenshot-desktop (ImageMagick `import` on X11). */
export async function captureDisplay(options: CaptureOptions = {}): Promise<Capture> {
  const display = pickDisplay(await listDisplays(), options.point);
  const png = await screenshot({ format: "png", screen: display.id as unknown as number });
  const { width, height } = pngSize(png);
  return { display, png, width, height, capturedAt: Date.now() };
}
