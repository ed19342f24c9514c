import { type Browser, chromium, expect, test } from "@playwright/test";
import { PNG } from "pngjs";
import { chromiumPath } from "../../playwright.config";
import type { RawPixels } from "../../src-main/capture/backend";
import { loadLibnutX11Backend } from "../../src-main/capture/backends/libnut-x11";
import { loadNodeScreenshotsBackend } from "../../src-main/capture/backends/node-screenshots";
import { captureBackend } from "../../src-main/capture/capture";

/**
 * The fast X11 backend (libnut's XGetImage, BGRA) against node-screenshots
 * (xcap, RGBA) on a real X server showing a still, colourful page: the same
 * pixels, and a PNG that decodes to them.
 */
let browser: Browser;

test.beforeAll(async () => {
  browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: false,
    args: ["--no-sandbox", "--disable-gpu", "--window-position=50,40", "--window-size=900,600"],
  });
  const page = await (await browser.newContext({ viewport: null })).newPage();
  await page.setContent(
    `<body style="margin:0;height:100vh;background:linear-gradient(90deg,#f00,#0f0 40%,#00f 70%,#fff),#123">
     <h1 style="font:48px sans-serif;color:#ff0;text-shadow:2px 2px #0ff">Sightline 1234</h1></body>`,
  );
  await page.waitForTimeout(500);
});

test.afterAll(async () => browser?.close());

function rgbAt(pixels: RawPixels, i: number): [number, number, number] {
  const byte = (k: number) => pixels.data[i * 4 + k] ?? 0;
  return pixels.format === "rgba" ? [byte(0), byte(1), byte(2)] : [byte(2), byte(1), byte(0)];
}

function differingPixels(a: RawPixels, b: RawPixels): number {
  let differ = 0;
  for (let i = 0; i < a.width * a.height; i++) if (rgbAt(a, i).join() !== rgbAt(b, i).join()) differ++;
  return differ;
}

test("libnut and node-screenshots see the same pixels; the PNG holds them too", async () => {
  const fast = await loadLibnutX11Backend();
  const reference = await loadNodeScreenshotsBackend();
  for (const display of await reference.listDisplays()) {
    const a = (await fast.grab(display)).pixels;
    const b = (await reference.grab(display)).pixels;
    if (!a || !b) throw new Error("a native backend gave no raw pixels");
    expect([a.format, a.width, a.height]).toEqual(["bgra", display.bounds.width, display.bounds.height]);
    expect([b.width, b.height]).toEqual([a.width, a.height]);
    expect(differingPixels(a, b)).toBe(0);
    const frame = await fast.grab(display);
    const decoded = PNG.sync.read(frame.png());
    const fromPng: RawPixels = { format: "rgba", width: decoded.width, height: decoded.height, data: decoded.data };
    if (!frame.pixels) throw new Error("no raw pixels");
    expect(differingPixels(fromPng, frame.pixels)).toBe(0);
    // Not a blank frame: the page's gradient runs along a row through the window.
    const row = Array.from({ length: 64 }, (_, k) => rgbAt(a, 300 * a.width + 60 + k * 12).join());
    expect(new Set(row).size).toBeGreaterThan(16);
  }
});

test("an X11 session captures through libnut by default", async () => {
  expect((await captureBackend()).name).toBe(process.env.WAYLAND_DISPLAY ? "node-screenshots" : "libnut-x11");
});
