import screenshot from "screenshot-desktop";
import type { DisplayInfo } from "../../../src-shared/bridge-api";
import { type CaptureBackend, pngSize } from "../backend";
import { withWorkAreas } from "../work-area";

/** What screenshot-desktop reports per display; geometry fields exist on Linux and Windows, not macOS. */
export type RawDisplay = {
  id: string | number;
  name?: string;
  width?: number;
  height?: number;
  offsetX?: number;
  offsetY?: number;
  left?: number;
  top?: number;
  right?: number;
  bottom?: number;
  primary?: boolean;
};

export function toDisplayInfo(raw: RawDisplay, index: number): DisplayInfo {
  const x = raw.offsetX ?? raw.left ?? 0;
  const y = raw.offsetY ?? raw.top ?? 0;
  const width = raw.width ?? (raw.right !== undefined ? raw.right - x : 0);
  const height = raw.height ?? (raw.bottom !== undefined ? raw.bottom - y : 0);
  return {
    id: String(raw.id),
    name: raw.name ?? `display ${index + 1}`,
    bounds: { x, y, width, height },
    primary: raw.primary ?? index === 0,
    scaleFactor: 1,
  };
}

/** The portable fallback: shells out to ImageMagick's `import` on X11 (about 0.5 s a 1080p frame here). */
export const screenshotDesktopBackend: CaptureBackend = {
  name: "screenshot-desktop",
  async listDisplays() {
    const raw = (await screenshot.listDisplays()) as unknown as RawDisplay[];
    return withWorkAreas(raw.map(toDisplayInfo));
  },
  async grab(display) {
    const png = await screenshot({ format: "png", screen: display.id as unknown as number });
    return { ...pngSize(png), png: () => png };
  },
};
