import type { ScreenElement } from "../../src-shared/bridge-api";
import type { TextLine } from "../../src-shared/protocol/host-messages";
import type { Capture } from "../capture/capture";

/**
 * Turns the host's text lines, in pixels of the captured image, into numbered
 * screen elements in physical pixels of the virtual desktop. The image is the
 * display at physical resolution, so the mapping is the display's offset.
 */
export function linesToElements(
  lines: TextLine[],
  capture: Pick<Capture, "display" | "width" | "height">,
): ScreenElement[] {
  const { bounds } = capture.display;
  const scaleX = bounds.width > 0 ? bounds.width / capture.width : 1;
  const scaleY = bounds.height > 0 ? bounds.height / capture.height : 1;
  const sorted = [...lines].sort((a, b) => a.box.y - b.box.y || a.box.x - b.box.x);
  return sorted.map((line, index) => ({
    id: index + 1,
    kind: "text",
    text: line.text,
    confidence: line.confidence,
    box: {
      x: bounds.x + line.box.x * scaleX,
      y: bounds.y + line.box.y * scaleY,
      width: line.box.width * scaleX,
      height: line.box.height * scaleY,
    },
  }));
}
