import type { DisplayInfo } from "../../src-shared/bridge-api";
import type { DisplayGeometry } from "../coords/spaces";

/** A captured display's geometry for the coordinate module: bounds are physical, points are bounds ÷ scale. */
export function toGeometry(display: DisplayInfo): DisplayGeometry {
  const { bounds, scaleFactor } = display;
  return {
    id: display.id,
    originPx: { x: bounds.x, y: bounds.y },
    originPt: { x: bounds.x / scaleFactor, y: bounds.y / scaleFactor },
    sizePx: { width: bounds.width, height: bounds.height },
    scaleFactor,
  };
}
