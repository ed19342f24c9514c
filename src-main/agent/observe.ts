import type { ScreenBox, ScreenElement } from "../../src-shared/bridge-api";
import type { ImageBox, ObserveResult } from "../../src-shared/protocol/host-messages";
import type { Capture } from "../capture/capture";

type ImageFrame = { width: number; height: number };

/**
 * Maps a box in pixels of the image the host saw to physical pixels of the
 * virtual desktop: the image is the display (possibly resized), so the mapping
 * is a scale to the display's size plus the display's offset.
 */
function toDesktop(box: ImageBox, image: ImageFrame, display: Capture["display"]): ScreenBox {
  const { bounds } = display;
  const scaleX = bounds.width > 0 && image.width > 0 ? bounds.width / image.width : 1;
  const scaleY = bounds.height > 0 && image.height > 0 ? bounds.height / image.height : 1;
  return {
    x: bounds.x + box.x * scaleX,
    y: bounds.y + box.y * scaleY,
    width: box.width * scaleX,
    height: box.height * scaleY,
  };
}

/**
 * The host's merged element list (detector boxes labelled by OCR text, and the
 * text no control claimed) as screen elements in physical pixels of the
 * virtual desktop. Ids and order are the host's: 1, 2, … in reading order, the
 * same numbers a set-of-marks image shows.
 */
export function elementsFromObserve(
  result: Pick<ObserveResult, "elements" | "image_width" | "image_height">,
  capture: Pick<Capture, "display">,
): ScreenElement[] {
  // The host's image size, not the capture's: the app may send a resized copy, and boxes are in what the host saw.
  const image = { width: result.image_width, height: result.image_height };
  return result.elements.map((element) => ({
    id: element.id,
    kind: element.kind,
    text: element.text,
    confidence: element.confidence,
    box: toDesktop(element.box, image, capture.display),
  }));
}
