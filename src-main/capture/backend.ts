import type { DisplayInfo, ScreenBox } from "../../src-shared/bridge-api";

/** Pixels as the screen gave them: 4 bytes a pixel, rows top to bottom, no padding. */
export type RawPixels = { format: "rgba" | "bgra"; width: number; height: number; data: Buffer };

/** One captured frame. */
export type Frame = {
  width: number;
  height: number;
  /** The pixels, where the backend has them without encoding anything. */
  pixels?: RawPixels;
  /** The frame as a PNG file; where the backend holds raw pixels, this is where the encoding happens. */
  png(): Buffer;
};

export type CaptureBackend = {
  name: string;
  /** Every display, with its work area (the bounds where the desktop does not publish one). */
  listDisplays(): Promise<DisplayInfo[]>;
  grab(display: DisplayInfo): Promise<Frame>;
};

const contains = (box: ScreenBox, x: number, y: number): boolean =>
  x >= box.x && y >= box.y && x < box.x + box.width && y < box.y + box.height;

/** The display under the point, else the primary one, else the first. */
export function pickDisplay(displays: DisplayInfo[], point?: { x: number; y: number }): DisplayInfo {
  const first = displays[0];
  if (!first) throw new Error("no display to capture: is a graphical session running (DISPLAY set)?");
  const under = point ? displays.find((d) => contains(d.bounds, point.x, point.y)) : undefined;
  return under ?? displays.find((d) => d.primary) ?? first;
}

/** Reads width and height from a PNG's IHDR chunk, which always comes first. */
export function pngSize(png: Buffer): { width: number; height: number } {
  const signature = "89504e470d0a1a0a";
  if (png.length < 24 || png.subarray(0, 8).toString("hex") !== signature || png.toString("ascii", 12, 16) !== "IHDR") {
    throw new Error("capture did not return a PNG image");
  }
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}
