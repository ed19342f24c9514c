/**
 * Each display's work area: the part panels and docks leave free. Electron
 * knows it (screen.getAllDisplays()); without Electron, on X11, the window
 * manager publishes it on the root window (EWMH _NET_WORKAREA, one rectangle
 * per virtual desktop for the whole screen; Mutter adds _GTK_WORKAREAS_Dn,
 * one per monitor). Where nothing says, the work area is the display's bounds.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import type { DisplayInfo, ScreenBox } from "../../src-shared/bridge-api";

const run = promisify(execFile);

/** What the desktop says about work areas; absent fields were not published. */
export type DesktopWorkAreas = {
  /** _NET_WORKAREA of the current desktop: one rectangle over the whole virtual screen. */
  screen?: ScreenBox;
  /** _GTK_WORKAREAS_Dn of the current desktop: one rectangle per monitor, in no promised order. */
  perMonitor?: ScreenBox[];
};

/** Answers the work area of each display, by position; undefined where the source does not know one. */
export type WorkAreaSource = (displays: readonly DisplayInfo[]) => Promise<Array<ScreenBox | undefined>>;

function rectangles(values: number[]): ScreenBox[] {
  const boxes: ScreenBox[] = [];
  for (let i = 0; i + 3 < values.length; i += 4) {
    const [x, y, width, height] = values.slice(i, i + 4) as [number, number, number, number];
    boxes.push({ x, y, width, height });
  }
  return boxes;
}

/** The numbers of one `xprop -root -notype NAME` line, or undefined where the property is not set. */
export function xpropCardinals(output: string, name: string): number[] | undefined {
  const line = output.split("\n").find((l) => l.startsWith(`${name} = `) || l.startsWith(`${name}(`));
  if (!line) return undefined;
  const values = line
    .slice(line.indexOf("=") + 1)
    .split(",")
    .map((v) => Number(v.trim()));
  return values.length > 0 && values.every((v) => Number.isInteger(v)) ? values : undefined;
}

/** The current desktop's rectangles out of xprop's answer (desktop 0 where _NET_CURRENT_DESKTOP is unset). */
export function parseWorkAreas(netOutput: string, gtkOutput = ""): DesktopWorkAreas {
  const current = xpropCardinals(netOutput, "_NET_CURRENT_DESKTOP")?.[0] ?? 0;
  const perDesktop = rectangles(xpropCardinals(netOutput, "_NET_WORKAREA") ?? []);
  const screen = perDesktop[current] ?? perDesktop[0];
  const gtk = xpropCardinals(gtkOutput, `_GTK_WORKAREAS_D${current}`);
  return { ...(screen ? { screen } : {}), ...(gtk ? { perMonitor: rectangles(gtk) } : {}) };
}

function intersect(a: ScreenBox, b: ScreenBox): ScreenBox | undefined {
  const x = Math.max(a.x, b.x);
  const y = Math.max(a.y, b.y);
  const right = Math.min(a.x + a.width, b.x + b.width);
  const bottom = Math.min(a.y + a.height, b.y + b.height);
  return right > x && bottom > y ? { x, y, width: right - x, height: bottom - y } : undefined;
}

const inside = (box: ScreenBox, outer: ScreenBox) =>
  box.x >= outer.x &&
  box.y >= outer.y &&
  box.x + box.width <= outer.x + outer.width &&
  box.y + box.height <= outer.y + outer.height;

/**
 * A display's work area from what the desktop published: its own per-monitor
 * rectangle where there is one, else the screen-wide one cut to the display
 * (EWMH's single rectangle cannot say that a panel covers only one monitor),
 * else undefined.
 */
export function workAreaOf(bounds: ScreenBox, published: DesktopWorkAreas): ScreenBox | undefined {
  const own = published.perMonitor?.find((box) => box.width > 0 && box.height > 0 && inside(box, bounds));
  if (own) return own;
  return published.screen ? intersect(bounds, published.screen) : undefined;
}

/** The displays with their work area filled: the source's, else the bounds. */
export async function withWorkAreas(displays: DisplayInfo[], source = workAreaSource): Promise<DisplayInfo[]> {
  let areas: Array<ScreenBox | undefined> = [];
  try {
    areas = await source(displays);
  } catch {
    // A desktop that will not say has no panels we know of: the bounds are the honest answer.
  }
  return displays.map((display, i) => ({ ...display, workArea: areas[i] ?? { ...display.bounds } }));
}

/** How long a read of the root window's properties is trusted; panels move rarely, captures come often. */
export const X11_WORK_AREA_TTL_MS = 2000;

/**
 * Reads the root window's properties with xprop. A capture must not wait on
 * a process: after the first read, callers get the cached answer at once and
 * a stale one is refreshed in the background for the next call.
 */
export function x11WorkAreaSource(
  read: () => Promise<DesktopWorkAreas> = readX11WorkAreas,
  ttlMs = X11_WORK_AREA_TTL_MS,
  now: () => number = Date.now,
): WorkAreaSource {
  let cached: { at: number; areas: DesktopWorkAreas } | undefined;
  let refreshing: Promise<DesktopWorkAreas> | undefined;
  const refresh = () => {
    refreshing ??= read()
      .catch((): DesktopWorkAreas => ({}))
      .then((areas) => {
        cached = { at: now(), areas };
        return areas;
      })
      .finally(() => {
        refreshing = undefined;
      });
    return refreshing;
  };
  return async (displays) => {
    let areas: DesktopWorkAreas;
    if (!cached) areas = await refresh();
    else {
      areas = cached.areas;
      if (now() - cached.at > ttlMs) void refresh();
    }
    return displays.map((d) => workAreaOf(d.bounds, areas));
  };
}

async function xprop(...names: string[]): Promise<string> {
  const { stdout } = await run("xprop", ["-root", "-notype", ...names], { timeout: 2000 });
  return stdout;
}

export async function readX11WorkAreas(): Promise<DesktopWorkAreas> {
  const net = await xprop("_NET_CURRENT_DESKTOP", "_NET_WORKAREA");
  const current = xpropCardinals(net, "_NET_CURRENT_DESKTOP")?.[0] ?? 0;
  return parseWorkAreas(net, await xprop(`_GTK_WORKAREAS_D${current}`));
}

/** The work area Electron reports for a display, as it appears on the capture's display. */
export type ElectronDisplay = { bounds: ScreenBox; workArea: ScreenBox; scaleFactor: number };

/**
 * Electron's work areas (points) on the capture's displays (physical pixels):
 * each display is paired with the Electron display that overlaps it most once
 * both are in pixels, and the work area keeps its offset within the display.
 */
export function workAreasFromElectron(
  displays: readonly DisplayInfo[],
  electron: readonly ElectronDisplay[],
): Array<ScreenBox | undefined> {
  const inPixels = (box: ScreenBox, scale: number): ScreenBox => ({
    x: box.x * scale,
    y: box.y * scale,
    width: box.width * scale,
    height: box.height * scale,
  });
  const overlap = (a: ScreenBox, b: ScreenBox) => {
    const common = intersect(a, b);
    return common ? common.width * common.height : 0;
  };
  return displays.map((display) => {
    let best: ElectronDisplay | undefined;
    let bestArea = 0;
    for (const candidate of electron) {
      const area = overlap(display.bounds, inPixels(candidate.bounds, candidate.scaleFactor));
      if (area > bestArea) [best, bestArea] = [candidate, area];
    }
    if (!best) return undefined;
    const s = best.scaleFactor;
    const free = {
      x: Math.round(display.bounds.x + (best.workArea.x - best.bounds.x) * s),
      y: Math.round(display.bounds.y + (best.workArea.y - best.bounds.y) * s),
      width: Math.round(best.workArea.width * s),
      height: Math.round(best.workArea.height * s),
    };
    return intersect(display.bounds, free);
  });
}

let workAreaSource: WorkAreaSource =
  process.platform === "linux" && process.env.DISPLAY ? x11WorkAreaSource() : async () => [];

/** Electron's window plumbing installs its own source (screen.getAllDisplays()); tests install theirs. */
export function setWorkAreaSource(source: WorkAreaSource): void {
  workAreaSource = source;
}
