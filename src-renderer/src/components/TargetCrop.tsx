import type { ScreenBox } from "../../../src-shared/bridge-api";
import { cropAround } from "../format/crop";
import type { RunScreenshot } from "../state/run-slice";

const MAX_VIEW = { width: 560, height: 240 };
const RING = 4;

/** The part of the run's screenshot around the step's target, with the target outlined. */
export function TargetCrop({ screenshot, box, label }: { screenshot: RunScreenshot; box: ScreenBox; label: string }) {
  const crop = cropAround(box, screenshot, MAX_VIEW);
  const { scale, source, highlight, view } = crop;
  return (
    <figure className="target-crop" data-testid="target-crop">
      <div
        className="crop-view"
        role="img"
        aria-label={`Screenshot around the target: ${label}`}
        style={{ width: view.width, height: view.height }}
      >
        <img
          src={screenshot.dataUrl}
          alt=""
          draggable={false}
          style={{
            left: -source.x * scale,
            top: -source.y * scale,
            width: screenshot.width * scale,
            height: screenshot.height * scale,
          }}
        />
        <div
          className="crop-highlight"
          data-testid="target-highlight"
          data-box={JSON.stringify(box)}
          // A few pixels of air so the outline does not cover the target's own edge.
          style={{
            left: highlight.x - RING,
            top: highlight.y - RING,
            width: highlight.width + 2 * RING,
            height: highlight.height + 2 * RING,
          }}
        />
      </div>
      <figcaption className="muted">
        The outlined area is where this step acts, on the screenshot Sightline planned with.
      </figcaption>
    </figure>
  );
}
