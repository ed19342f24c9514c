"""Box geometry shared by detection and recognition: quads in reading order, crops of them, thin-image padding."""

import math
from collections.abc import Sequence

import cv2
import numpy as np
from numpy.typing import NDArray

Quad = NDArray[np.float32]  # (4, 2): top-left, top-right, bottom-right, bottom-left

# A frame is shrunk to this long side at most before detection (RapidOCR's default), and no side may round to nothing.
MAX_SIDE = 2000
MIN_SIDE = 32
# Detection scales a frame until its SHORT side is this long (PP-OCR's setting): a thin strip (a 2000x40 toolbar)
# would become 36800x736 and take most of a minute on two cores. Padding the short side to a quarter of the long one
# bounds that cost near a full screen's.
MAX_ASPECT = 4


def axis_aligned(quad: Sequence[Sequence[float]]) -> tuple[float, float, float, float]:
    xs = [float(p[0]) for p in quad]
    ys = [float(p[1]) for p in quad]
    return min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)


def pad_thin(image: NDArray[np.uint8], max_side: int = MAX_SIDE) -> NDArray[np.uint8]:
    height, width = image.shape[:2]
    shrink = max(1.0, max(height, width) / max_side)
    need = max(math.ceil(MIN_SIDE * shrink), math.ceil(max(height, width) / MAX_ASPECT))
    if height >= need and width >= need:
        return image
    # The edge's usual colour, so the padding reads as more background and adds no edges of its own.
    border = np.concatenate([image[-1, :, :], image[:, -1, :]])
    fill = np.median(border, axis=0).astype(np.uint8)
    padded = np.empty((max(height, need), max(width, need), 3), dtype=np.uint8)
    padded[:] = fill
    # Padding at the bottom and right leaves every box's coordinates as they were.
    padded[:height, :width] = image
    return padded


def order_clockwise(points: NDArray[np.float32]) -> Quad:
    """Top-left, top-right, bottom-right, bottom-left: the two leftmost points by y, then the two rightmost."""
    by_x = points[np.argsort(points[:, 0], kind="stable")]
    left = by_x[:2][np.argsort(by_x[:2, 1], kind="stable")]
    right = by_x[2:][np.argsort(by_x[2:, 1], kind="stable")]
    return np.array([left[0], right[0], right[1], left[1]], dtype=np.float32)


def reading_order(quads: list[Quad], same_line_px: float = 10) -> list[int]:
    """Indices of `quads` top to bottom, and left to right among those whose tops lie within `same_line_px`."""
    order = sorted(range(len(quads)), key=lambda i: (float(quads[i][0][1]), float(quads[i][0][0])))
    # One insertion pass, as PaddleOCR does: a box moves left past its neighbours on (about) the same line.
    for i in range(len(order) - 1):
        for j in range(i, -1, -1):
            a, b = quads[order[j]][0], quads[order[j + 1]][0]
            if abs(float(b[1]) - float(a[1])) < same_line_px and float(b[0]) < float(a[0]):
                order[j], order[j + 1] = order[j + 1], order[j]
            else:
                break
    return order


def crop_quad(image: NDArray[np.uint8], quad: Quad) -> NDArray[np.uint8]:
    """The quad's content straightened into a rectangle; a tall one (vertical text) is turned to lie flat."""
    width = int(max(np.linalg.norm(quad[0] - quad[1]), np.linalg.norm(quad[2] - quad[3])))
    height = int(max(np.linalg.norm(quad[0] - quad[3]), np.linalg.norm(quad[1] - quad[2])))
    width, height = max(width, 1), max(height, 1)
    target = np.array([[0, 0], [width, 0], [width, height], [0, height]], dtype=np.float32)
    matrix = cv2.getPerspectiveTransform(quad.astype(np.float32), target)
    crop = cv2.warpPerspective(image, matrix, (width, height), borderMode=cv2.BORDER_REPLICATE, flags=cv2.INTER_CUBIC)
    if height / width >= 1.5:
        crop = np.rot90(crop)
    return np.ascontiguousarray(crop, dtype=np.uint8)
