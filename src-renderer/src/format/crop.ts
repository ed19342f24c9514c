/** Which part of the run's screenshot the confirmation dialog shows, and where the target sits in it. */
import type { ScreenBox } from "../../../src-shared/bridge-api";

export type Size = { width: number; height: number };

export type CropView = {
  /** The region of the screenshot shown, in screenshot pixels. */
  source: ScreenBox;
  /** Screenshot pixels → view pixels. */
  scale: number;
  /** The target's box in view pixels, relative to the view's top-left corner. */
  highlight: ScreenBox;
  /** The view's size in view pixels. */
  view: Size;
};

/**
 * A region around the target with enough context to recognise where it is
 * (at least `context` pixels each side, at least a third of the screen wide),
 * clamped inside the screenshot and fitted into `maxView` without upscaling
 * past 2×, so a tiny icon is readable and a large window still fits.
 */
export function cropAround(target: ScreenBox, image: Size, maxView: Size, context = 160): CropView {
  const aspect = maxView.width / maxView.height;
  let width = Math.max(target.width + 2 * context, image.width / 3);
  let height = Math.max(target.height + 2 * context, width / aspect);
  width = Math.max(width, height * aspect);
  width = Math.min(width, image.width);
  height = Math.min(height, image.height);
  const cx = target.x + target.width / 2;
  const cy = target.y + target.height / 2;
  const x = clamp(cx - width / 2, 0, image.width - width);
  const y = clamp(cy - height / 2, 0, image.height - height);
  const scale = Math.min(maxView.width / width, maxView.height / height, 2);
  return {
    source: { x, y, width, height },
    scale,
    view: { width: width * scale, height: height * scale },
    highlight: {
      x: (target.x - x) * scale,
      y: (target.y - y) * scale,
      width: target.width * scale,
      height: target.height * scale,
    },
  };
}

function clamp(value: number, low: number, high: number): number {
  return Math.min(Math.max(value, low), Math.max(low, high));
}
