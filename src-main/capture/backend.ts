import type { DisplayInfo, ScreenBox } from "../../src-shared/bridge-api";

export type CaptureBackend = {
  name: string;
  listDisplays(): Promise<DisplayInfo[]>;
  capturePng(display: DisplayInfo): Promise<Buffer>;
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
