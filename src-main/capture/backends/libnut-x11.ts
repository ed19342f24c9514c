import type { CaptureBackend } from "../backend";
import { encodePng } from "../png-encode";
import { loadNodeScreenshotsBackend } from "./node-screenshots";

/**
 * X11 capture through libnut (nut-js's native addon, already loaded for the
 * pointer and the actions): one XGetImage of the display's rectangle of the
 * root window, handed over as the server's BGRA. About 3× faster than
 * node-screenshots' capture of the same frame (bench/results/capture-*.json),
 * which also converts every pixel to RGBA. The displays are listed by
 * node-screenshots (ids, names, primary, scale). X11 sessions only: under
 * Wayland, XGetImage on the root window sees no Wayland window.
 */
export async function loadLibnutX11Backend(): Promise<CaptureBackend> {
  const listing = await loadNodeScreenshotsBackend();
  const { screen, Region } = await import("@nut-tree-fork/nut-js");
  return {
    name: "libnut-x11",
    listDisplays: () => listing.listDisplays(),
    async grab(display) {
      const { x, y, width, height } = display.bounds;
      const image = await screen.grabRegion(new Region(x, y, width, height));
      if (image.width !== width || image.height !== height) {
        throw new Error(`capture of ${width}×${height} came back ${image.width}×${image.height}`);
      }
      const row = width * 4;
      let data = image.data;
      if (image.byteWidth !== row) {
        // Rows padded by the X server: repack them, once, into the protocol's unpadded layout.
        data = Buffer.alloc(row * height);
        for (let r = 0; r < height; r++) image.data.copy(data, r * row, r * image.byteWidth, r * image.byteWidth + row);
      }
      const pixels = { format: "bgra" as const, width, height, data };
      return { width, height, pixels, png: () => encodePng(pixels) };
    },
  };
}
