import type { ScreenBox, ScreenElement } from "../../src-shared/bridge-api";
import type { ImageBox, ObserveResult } from "../../src-shared/protocol/host-messages";
import type { Capture } from "../capture/capture";

/** The size of the image the host saw, in its own pixels. */
export type ImageFrame = { width: number; height: number };

/** Desktop physical pixels per image pixel: the image is the display, possibly resized. */
function imageScale(image: ImageFrame, display: Capture["display"]): { x: number; y: number } {
  const { bounds } = display;
  return {
    x: bounds.width > 0 && image.width > 0 ? bounds.width / image.width : 1,
    y: bounds.height > 0 && image.height > 0 ? bounds.height / image.height : 1,
  };
}

/**
 * Maps a point in pixels of the image the host saw (an element's corner, a
 * point the vlm answered) to physical pixels of the virtual desktop: a scale
 * to the display's size plus the display's offset.
 */
export function imagePointToDesktop(
  p: { x: number; y: number },
  image: ImageFrame,
  display: Capture["display"],
): { x: number; y: number } {
  const scale = imageScale(image, display);
  return { x: display.bounds.x + p.x * scale.x, y: display.bounds.y + p.y * scale.y };
}

/** Maps a box in pixels of the image the host saw to physical pixels of the virtual desktop. */
function toDesktop(box: ImageBox, image: ImageFrame, display: Capture["display"]): ScreenBox {
  const scale = imageScale(image, display);
  const corner = imagePointToDesktop(box, image, display);
  return { ...corner, width: box.width * scale.x, height: box.height * scale.y };
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
