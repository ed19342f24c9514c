import type { DisplayInfo } from "../../../src-shared/bridge-api";
import type { CaptureBackend } from "../backend";

type NativeModule = typeof import("node-screenshots");

/** Native capture (X11/XCB, DXGI, ScreenCaptureKit through the xcap crate): about 25 ms a 1080p frame here. */
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
      return monitors.map((m, index) => ({
        id: String(m.id()),
        name: m.name() || `display ${index + 1}`,
        bounds: { x: m.x(), y: m.y(), width: m.width(), height: m.height() },
        primary: m.isPrimary(),
        scaleFactor: m.scaleFactor() || 1,
      }));
    },
    async capturePng(display) {
      const image = await monitorFor(display).captureImage();
      return image.toPng();
    },
  };
}
