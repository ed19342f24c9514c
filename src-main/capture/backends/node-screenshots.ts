import type { DisplayInfo } from "../../../src-shared/bridge-api";
import type { CaptureBackend } from "../backend";
import { withWorkAreas } from "../work-area";

type NativeModule = typeof import("node-screenshots");

/**
 * Native capture (X11/XCB, DXGI, ScreenCaptureKit through the xcap crate). A
 * frame stays raw RGBA: the library's own capture call is most of the time
 * (bench/results/capture-*.json), and a PNG is encoded only if someone asks.
 */
export async function loadNodeScreenshotsBackend(): Promise<CaptureBackend> {
  const native: NativeModule = await import("node-screenshots");
  // captureDisplay lists then captures; keep the list's handles so a capture does not enumerate the monitors twice.
  let listed = new Map<string, InstanceType<NativeModule["Monitor"]>>();
  const monitorFor = (display: DisplayInfo) => {
    const monitor = listed.get(display.id) ?? native.Monitor.all().find((m) => String(m.id()) === display.id);
    if (!monitor) throw new Error(`display ${display.name} (${display.id}) is gone`);
    return monitor;
  };
  return {
    name: "node-screenshots",
    async listDisplays() {
      const monitors = native.Monitor.all();
      listed = new Map(monitors.map((m) => [String(m.id()), m]));
      return withWorkAreas(
        monitors.map((m, index) => ({
          id: String(m.id()),
          name: m.name() || `display ${index + 1}`,
          bounds: { x: m.x(), y: m.y(), width: m.width(), height: m.height() },
          primary: m.isPrimary(),
          scaleFactor: m.scaleFactor() || 1,
        })),
      );
    },
    async grab(display) {
      const image = await monitorFor(display).captureImage();
      const { width, height } = image;
      const data = await image.toRaw();
      // The native image is kept for the PNG: its encoder is several times faster than one in JS.
      return { width, height, pixels: { format: "rgba", width, height, data }, png: () => image.toPngSync() };
    },
  };
}
