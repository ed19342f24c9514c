/**
 * Every coordinate in Sightline names its space, and this module is the only
 * place that converts between spaces:
 *
 * - `display_px`: physical pixels of one display's captured image, origin at
 *   its top-left. What the OCR and the detector see (before any resize).
 * - `model_px`: pixels of a model's input after resize and letterbox.
 * - `desktop_px`: physical pixels of the virtual desktop (X11, Windows with
 *   per-monitor DPI awareness, nut-js on those); displays sit at their
 *   physical origins, which may be negative.
 * - `desktop_pt`: logical points of the virtual desktop (Electron's DIPs,
 *   macOS points): physical pixels divided by the display's scale factor.
 */

export type Space = "display_px" | "model_px" | "desktop_px" | "desktop_pt";

export type Point<S extends Space> = { readonly space: S; readonly x: number; readonly y: number };
export type Rect<S extends Space> = {
  readonly space: S;
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
};

/** One display of the virtual desktop, in both desktop spaces. */
export type DisplayGeometry = {
  readonly id: string;
  /** Top-left corner in desktop physical pixels. */
  readonly originPx: { readonly x: number; readonly y: number };
  /** Top-left corner in desktop logical points. */
  readonly originPt: { readonly x: number; readonly y: number };
  /** Size in physical pixels (the captured image's size). */
  readonly sizePx: { readonly width: number; readonly height: number };
  /** Physical pixels per logical point: 1, 1.25, 1.5, 2 … */
  readonly scaleFactor: number;
};

/** How an image of a display was fitted into a model's fixed input. */
export type Letterbox = {
  readonly inputWidth: number;
  readonly inputHeight: number;
  /** Model pixels per display pixel. */
  readonly scale: number;
  readonly padX: number;
  readonly padY: number;
};

export const point = <S extends Space>(space: S, x: number, y: number): Point<S> => ({ space, x, y });

/** Fits a width×height image into the model's input, keeping its aspect ratio and centring it. */
export function letterbox(width: number, height: number, inputWidth: number, inputHeight: number): Letterbox {
  if (width <= 0 || height <= 0) throw new Error(`letterbox: image of ${width}×${height} has no pixels`);
  const scale = Math.min(inputWidth / width, inputHeight / height);
  return {
    inputWidth,
    inputHeight,
    scale,
    padX: (inputWidth - width * scale) / 2,
    padY: (inputHeight - height * scale) / 2,
  };
}

export function displayToModel(p: Point<"display_px">, box: Letterbox): Point<"model_px"> {
  return point("model_px", p.x * box.scale + box.padX, p.y * box.scale + box.padY);
}

export function modelToDisplay(p: Point<"model_px">, box: Letterbox): Point<"display_px"> {
  return point("display_px", (p.x - box.padX) / box.scale, (p.y - box.padY) / box.scale);
}

export function displayToDesktopPx(p: Point<"display_px">, display: DisplayGeometry): Point<"desktop_px"> {
  return point("desktop_px", display.originPx.x + p.x, display.originPx.y + p.y);
}

export function desktopPxToDisplay(p: Point<"desktop_px">, display: DisplayGeometry): Point<"display_px"> {
  return point("display_px", p.x - display.originPx.x, p.y - display.originPx.y);
}

export function displayToDesktopPt(p: Point<"display_px">, display: DisplayGeometry): Point<"desktop_pt"> {
  return point(
    "desktop_pt",
    display.originPt.x + p.x / display.scaleFactor,
    display.originPt.y + p.y / display.scaleFactor,
  );
}

export function desktopPtToDisplay(p: Point<"desktop_pt">, display: DisplayGeometry): Point<"display_px"> {
  return point(
    "display_px",
    (p.x - display.originPt.x) * display.scaleFactor,
    (p.y - display.originPt.y) * display.scaleFactor,
  );
}

export function displayContains(display: DisplayGeometry, p: Point<"display_px">): boolean {
  return p.x >= 0 && p.y >= 0 && p.x < display.sizePx.width && p.y < display.sizePx.height;
}

/** The display whose area holds a desktop point, in either desktop space; undefined if none does (off every screen). */
export function displayAt(
  displays: readonly DisplayGeometry[],
  p: Point<"desktop_px"> | Point<"desktop_pt">,
): DisplayGeometry | undefined {
  return displays.find((d) =>
    displayContains(d, p.space === "desktop_px" ? desktopPxToDisplay(p, d) : desktopPtToDisplay(p, d)),
  );
}

/** Maps a rectangle through a point mapping by its two corners (every mapping here is axis-aligned and monotonic). */
export function mapRect<A extends Space, B extends Space>(r: Rect<A>, map: (p: Point<A>) => Point<B>): Rect<B> {
  const a = map({ space: r.space, x: r.x, y: r.y });
  const b = map({ space: r.space, x: r.x + r.width, y: r.y + r.height });
  return { space: a.space, x: a.x, y: a.y, width: b.x - a.x, height: b.y - a.y };
}

/** The centre of an unlabelled box (a ScreenBox, say), in whatever space the box is in. */
export function boxCentre(box: { x: number; y: number; width: number; height: number }): { x: number; y: number } {
  return { x: box.x + box.width / 2, y: box.y + box.height / 2 };
}
