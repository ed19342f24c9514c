import screenshot from "screenshot-desktop";
import type { DisplayInfo, ScreenBox } from "../../src-shared/bridge-api";

/** What screenshot-desktop reports per display; geometry fields exist on Linux and Windows, not macOS. */
type RawDisplay = {
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
  };
}

export async function listDisplays(): Promise<DisplayInfo[]> {
  const raw = (await screenshot.listDisplays()) as unknown as RawDisplay[];
  if (raw.length === 0) throw new Error("no display found: is a graphical session running (DISPLAY set)?");
  return raw.map(toDisplayInfo);
}

const contains = (box: ScreenBox, x: number, y: number): boolean =>
  x >= box.x && y >= box.y && x < box.x + box.width && y < box.y + box.height;

/** The display under the point, else the primary one, else the first. */
export function pickDisplay(displays: DisplayInfo[], point?: { x: number; y: number }): DisplayInfo {
  const first = displays[0];
  if (!first) throw new Error("no display to capture");
  const under = point ? displays.find((d) => contains(d.bounds, point.x, point.y)) : undefined;
  return under ?? displays.find((d) => d.primary) ?? first;
}
