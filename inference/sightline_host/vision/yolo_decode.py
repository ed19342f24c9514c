"""Decoding the YOLOv8 / YOLO-World output tensor.

The head's output is (batch, 4 + classes, anchors): per anchor the box as centre x, centre y, width, height in
input pixels, then one score per class, already through a sigmoid. There is no objectness column (unlike YOLOv5).
"""

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from sightline_host.vision.nms import class_aware_nms


class OutputLayoutError(ValueError):
    """The model's output is not the YOLOv8 layout this decoder reads; the message says what it got."""


@dataclass(frozen=True)
class RawDetections:
    """Detections of one image in the detector's input pixels."""

    boxes: NDArray[np.float32]  # (N, 4) x1, y1, x2, y2
    scores: NDArray[np.float32]  # (N,)
    class_ids: NDArray[np.intp]  # (N,)

    @staticmethod
    def empty() -> "RawDetections":
        return RawDetections(np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros(0, np.intp))

    def __len__(self) -> int:
        return int(self.scores.shape[0])


def check_layout(shape: tuple[int, ...], num_classes: int) -> None:
    """Refuses any output that is not (batch, 4 + num_classes, anchors), naming what it is instead."""
    expected_rows = 4 + num_classes
    if len(shape) != 3:
        raise OutputLayoutError(
            f"detector output has shape {shape}; expected 3 dimensions (batch, 4 + classes, anchors) "
            "as YOLOv8 / YOLO-World export it without NMS"
        )
    if shape[1] != expected_rows:
        hint = ""
        if shape[2] == expected_rows:
            hint = " (it looks transposed: anchors first)"
        elif shape[1] > 4:
            hint = f" — the model has {shape[1] - 4} classes but the vocabulary names {num_classes}"
        raise OutputLayoutError(
            f"detector output has shape {shape}; expected (batch, {expected_rows}, anchors) for "
            f"{num_classes} classes{hint}"
        )
    if shape[2] < 1:
        raise OutputLayoutError(f"detector output has shape {shape}: no anchors")


def decode(
    output: NDArray[np.float32],
    num_classes: int,
    score_threshold: float = 0.25,
    iou_threshold: float = 0.45,
    max_detections: int = 300,
) -> list[RawDetections]:
    """One `RawDetections` per image of the batch: best class per anchor, thresholded, class-aware NMS."""
    check_layout(tuple(int(d) for d in output.shape), num_classes)
    results: list[RawDetections] = []
    for image in output:
        boxes_cxcywh = image[:4].T
        class_scores = image[4:]
        class_ids = np.argmax(class_scores, axis=0)
        scores = class_scores[class_ids, np.arange(class_scores.shape[1])]
        mask = scores >= score_threshold
        if not mask.any():
            results.append(RawDetections.empty())
            continue
        chosen = boxes_cxcywh[mask]
        half_w, half_h = chosen[:, 2] / 2, chosen[:, 3] / 2
        boxes = np.stack(
            [chosen[:, 0] - half_w, chosen[:, 1] - half_h, chosen[:, 0] + half_w, chosen[:, 1] + half_h], axis=1
        ).astype(np.float32)
        kept_scores = scores[mask].astype(np.float32)
        kept_ids = class_ids[mask].astype(np.intp)
        keep = class_aware_nms(boxes, kept_scores, kept_ids, iou_threshold)[:max_detections]
        results.append(RawDetections(boxes[keep], kept_scores[keep], kept_ids[keep]))
    return results
