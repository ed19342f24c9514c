import type { DisplayInfo } from "../../src-shared/bridge-api";
import { type CaptureBackend, pickDisplay } from "./backend";
import { loadNodeScreenshotsBackend } from "./backends/node-screenshots";
import { screenshotDesktopBackend } from "./backends/screenshot-desktop";

export type Capture = {
  display: DisplayInfo;
  png: Buffer;
  width: number;
  height: number;
  capturedAt: number;
  backend: string;
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

let chosen: Promise<CaptureBackend> | undefined;

/** The native backend where its addon loads and sees a display; screenshot-desktop otherwise. */
export function captureBackend(): Promise<CaptureBackend> {
  chosen ??= (async () => {
    if (process.env.SIGHTLINE_CAPTURE_BACKEND === "screenshot-desktop") return screenshotDesktopBackend;
    try {
      const native = await loadNodeScreenshotsBackend();
      if ((await native.listDisplays()).length > 0) return native;
    } catch (error) {
      console.error(`native capture unavailable (${(error as Error).message}); using screenshot-desktop`);
    }
    return screenshotDesktopBackend;
  })();
  return chosen;
}

export async function captureDisplay(options: CaptureOptions = {}, backend?: CaptureBackend): Promise<Capture> {
  const use = backend ?? (await captureBackend());
  const display = pickDisplay(await use.listDisplays(), options.point);
  const png = await use.capturePng(display);
  const { width, height } = pngSize(png);
  return { display, png, width, height, capturedAt: Date.now(), backend: use.name };
}

/** Every display, one capture each, in the order the backend lists them (for a desktop-wide look or a recording). */
export async function captureAllDisplays(backend?: CaptureBackend): Promise<Capture[]> {
  const use = backend ?? (await captureBackend());
  const captures: Capture[] = [];
  for (const display of await use.listDisplays()) {
    const png = await use.capturePng(display);
    captures.push({ display, png, ...pngSize(png), capturedAt: Date.now(), backend: use.name });
  }
  return captures;
}
