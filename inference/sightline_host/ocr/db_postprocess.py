"""Text boxes from the probability map of a DB (Differentiable Binarization) text detector, as PP-OCR draws them:
threshold, dilate, one contour per blob, its minimum-area rectangle scored by the mean probability inside, then
grown ("unclipped") by area * ratio / perimeter on every side, since DB shrinks text regions when it learns them.

PP-OCR grows the rectangle with a polygon-offset library and takes the minimum-area rectangle of the result; that is
the same rectangle widened by the offset on each side (rounded corners do not change it), so it is computed here
directly: no pyclipper or shapely, and no per-box polygon work."""

from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from sightline_host.ocr.geometry import Quad, order_clockwise


@dataclass(frozen=True)
class DbParams:
    thresh: float = 0.3
    box_thresh: float = 0.5
    max_candidates: int = 1000
    unclip_ratio: float = 1.6
    min_size: float = 3


def _mini_box(rect: tuple[tuple[float, float], tuple[float, float], float]) -> tuple[NDArray[np.float32], float]:
    """The rectangle's corners as PP-OCR orders them (by x, then each pair by y), and its short side."""
    points = cv2.boxPoints(rect)
    points = points[np.argsort(points[:, 0], kind="stable")]
    first = (0, 1) if points[1][1] > points[0][1] else (1, 0)
    second = (2, 3) if points[3][1] > points[2][1] else (3, 2)
    box = np.array([points[first[0]], points[second[0]], points[second[1]], points[first[1]]], dtype=np.float32)
    return box, float(min(rect[1]))


def _mean_inside(prob: NDArray[np.float32], box: NDArray[np.float32]) -> float:
    """Mean probability inside the quad ("fast" score: the polygon filled on its bounding rectangle)."""
    height, width = prob.shape
    xmin = int(np.clip(np.floor(box[:, 0].min()), 0, width - 1))
    xmax = int(np.clip(np.ceil(box[:, 0].max()), 0, width - 1))
    ymin = int(np.clip(np.floor(box[:, 1].min()), 0, height - 1))
    ymax = int(np.clip(np.ceil(box[:, 1].max()), 0, height - 1))
    mask = np.zeros((ymax - ymin + 1, xmax - xmin + 1), dtype=np.uint8)
    shifted = (box - np.array([xmin, ymin], dtype=np.float32)).astype(np.int32)
    cv2.fillPoly(mask, [shifted.reshape(-1, 1, 2)], 1)
    return float(cv2.mean(prob[ymin : ymax + 1, xmin : xmax + 1], mask)[0])


def boxes_from_map(
    prob: NDArray[np.float32], scale_x: float, scale_y: float, params: DbParams | None = None
) -> tuple[list[Quad], list[float]]:
    """Quads in the frame's coordinates (map pixel times scale) and their scores, for a (H, W) probability map."""
    params = params or DbParams()
    prob = np.ascontiguousarray(prob, dtype=np.float32)
    mask = cv2.dilate((prob > params.thresh).astype(np.uint8), np.ones((2, 2), np.uint8))
    contours, _ = cv2.findContours(mask, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    quads: list[Quad] = []
    scores: list[float] = []
    for contour in contours[: params.max_candidates]:
        found = cv2.minAreaRect(contour)
        rect = ((float(found[0][0]), float(found[0][1])), (float(found[1][0]), float(found[1][1])), float(found[2]))
        box, short = _mini_box(rect)
        if short < params.min_size:
            continue
        score = _mean_inside(prob, box)
        if score < params.box_thresh:
            continue
        (cx, cy), (w, h), angle = rect
        grow = w * h * params.unclip_ratio / (2 * (w + h))
        box, short = _mini_box(((cx, cy), (w + 2 * grow, h + 2 * grow), angle))
        if short < params.min_size + 2:
            continue
        box[:, 0] = np.round(box[:, 0] * scale_x)
        box[:, 1] = np.round(box[:, 1] * scale_y)
        quads.append(box)
        scores.append(score)
    return quads, scores


def keep_on_frame(quads: list[Quad], width: int, height: int, min_side: int = 3) -> list[Quad]:
    """Quads ordered clockwise, corners clipped into the frame (whole pixels), too thin ones dropped."""
    kept: list[Quad] = []
    for quad in quads:
        ordered = order_clockwise(quad)
        ordered[:, 0] = np.clip(np.trunc(ordered[:, 0]), 0, width - 1)
        ordered[:, 1] = np.clip(np.trunc(ordered[:, 1]), 0, height - 1)
        if int(np.linalg.norm(ordered[0] - ordered[1])) <= min_side:
            continue
        if int(np.linalg.norm(ordered[0] - ordered[3])) <= min_side:
            continue
        kept.append(ordered)
    return kept
