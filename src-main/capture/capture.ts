import type { DisplayInfo } from "../../src-shared/bridge-api";
import { type CaptureBackend, type Frame, pickDisplay, type RawPixels } from "./backend";
import { loadLibnutX11Backend } from "./backends/libnut-x11";
import { loadNodeScreenshotsBackend } from "./backends/node-screenshots";
import { screenshotDesktopBackend } from "./backends/screenshot-desktop";

export type { RawPixels } from "./backend";
export { pngSize } from "./backend";

export type Capture = {
  display: DisplayInfo;
  /** The frame as PNG. On a raw capture this is encoded on first read (and kept): read it only where a file is needed. */
  png: Buffer;
  width: number;
  height: number;
  capturedAt: number;
  backend: string;
  /** The pixels as captured, where the backend has them raw: what a host on this machine is sent. */
  pixels?: RawPixels;
};

export type CaptureOptions = {
  /** Capture the display under this point (physical pixels); the primary display otherwise. */
  point?: { x: number; y: number };
};

let chosen: Promise<CaptureBackend> | undefined;

/** The native backends to try, fastest first: libnut's XGetImage in an X11 session, xcap's capture anywhere. */
export function nativeBackendOrder(
  env: NodeJS.ProcessEnv = process.env,
  platform: string = process.platform,
): Array<"libnut-x11" | "node-screenshots"> {
  const forced = env.SIGHTLINE_CAPTURE_BACKEND;
  if (forced === "libnut-x11" || forced === "node-screenshots") return [forced];
  const x11Session = platform === "linux" && Boolean(env.DISPLAY) && !env.WAYLAND_DISPLAY;
  return x11Session ? ["libnut-x11", "node-screenshots"] : ["node-screenshots"];
}

const loaders = { "libnut-x11": loadLibnutX11Backend, "node-screenshots": loadNodeScreenshotsBackend };

/**
 * The first native backend whose addon loads and grabs a frame; screenshot-desktop otherwise.
 * SIGHTLINE_CAPTURE_BACKEND=libnut-x11|node-screenshots|screenshot-desktop picks one.
 */
export function captureBackend(): Promise<CaptureBackend> {
  chosen ??= (async () => {
    if (process.env.SIGHTLINE_CAPTURE_BACKEND === "screenshot-desktop") return screenshotDesktopBackend;
    for (const name of nativeBackendOrder()) {
      try {
        const native = await loaders[name]();
        const [display] = await native.listDisplays();
        if (!display) throw new Error("it sees no display");
        await native.grab(display);
        return native;
      } catch (error) {
        console.error(`capture backend ${name} unavailable: ${(error as Error).message}`);
      }
    }
    console.error("no native capture backend; using screenshot-desktop");
    return screenshotDesktopBackend;
  })();
  return chosen;
}

/** A capture whose PNG is made only when read. */
export function toCapture(display: DisplayInfo, frame: Frame, backend: string, capturedAt = Date.now()): Capture {
  let png: Buffer | undefined;
  return {
    display,
    width: frame.width,
    height: frame.height,
    capturedAt,
    backend,
    ...(frame.pixels ? { pixels: frame.pixels } : {}),
    get png() {
      png ??= frame.png();
      return png;
    },
  };
}

export async function captureDisplay(options: CaptureOptions = {}, backend?: CaptureBackend): Promise<Capture> {
  const use = backend ?? (await captureBackend());
  const display = pickDisplay(await use.listDisplays(), options.point);
  return toCapture(display, await use.grab(display), use.name);
}

/** Every display, one capture each, in the order the backend lists them (for a desktop-wide look or a recording). */
export async function captureAllDisplays(backend?: CaptureBackend): Promise<Capture[]> {
  const use = backend ?? (await captureBackend());
  const captures: Capture[] = [];
  for (const display of await use.listDisplays()) captures.push(toCapture(display, await use.grab(display), use.name));
  return captures;
}
