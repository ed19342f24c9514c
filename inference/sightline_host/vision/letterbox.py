"""Letterboxing: fit an image into the detector's fixed input without distorting it, and map boxes back."""

from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

# Ultralytics trains with this grey border; padding with anything else shifts the scores at the edges.
PAD_VALUE = 114


class BadImage(ValueError):
    """The image cannot be fed to the detector; the message says why."""


@dataclass(frozen=True)
class Letterbox:
    """How an image of `source` size was placed into an input of `target` size: scaled, then padded."""

    scale_x: float
    scale_y: float
    pad_x: float
    pad_y: float
    source_width: int
    source_height: int
    target_width: int
    target_height: int

    def to_source(self, boxes_xyxy: NDArray[np.float32]) -> NDArray[np.float32]:
        """Boxes (N, 4) in input pixels → pixels of the source image, clipped to it."""
        out = boxes_xyxy.astype(np.float32, copy=True)
        out[:, [0, 2]] = (out[:, [0, 2]] - self.pad_x) / self.scale_x
        out[:, [1, 3]] = (out[:, [1, 3]] - self.pad_y) / self.scale_y
        np.clip(out[:, [0, 2]], 0, self.source_width, out=out[:, [0, 2]])
        np.clip(out[:, [1, 3]], 0, self.source_height, out=out[:, [1, 3]])
        return out

    def to_input(self, boxes_xyxy: NDArray[np.float32]) -> NDArray[np.float32]:
        out = boxes_xyxy.astype(np.float32, copy=True)
        out[:, [0, 2]] = out[:, [0, 2]] * self.scale_x + self.pad_x
        out[:, [1, 3]] = out[:, [1, 3]] * self.scale_y + self.pad_y
        return out


def check_rgb(rgb: NDArray[np.uint8]) -> None:
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise BadImage(f"expected an RGB image of shape (height, width, 3), got shape {tuple(rgb.shape)}")
    if rgb.shape[0] == 0 or rgb.shape[1] == 0:
        raise BadImage(f"image is {rgb.shape[1]}x{rgb.shape[0]}: it has no pixels")
    if rgb.dtype != np.uint8:
        raise BadImage(f"expected 8-bit pixels (uint8), got {rgb.dtype}")


def letterbox(rgb: NDArray[np.uint8], width: int, height: int) -> tuple[NDArray[np.float32], Letterbox]:
    """RGB (H, W, 3) uint8 → a (1, 3, height, width) float32 tensor in [0, 1], centred, and how it was placed."""
    check_rgb(rgb)
    if width <= 0 or height <= 0:
        raise BadImage(f"detector input size must be positive, got {width}x{height}")
    src_h, src_w = rgb.shape[:2]
    scale = min(width / src_w, height / src_h)
    new_w = max(1, round(src_w * scale))
    new_h = max(1, round(src_h * scale))
    # INTER_AREA when shrinking: a screen's thin lines and small glyphs alias away with bilinear sampling.
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    resized = rgb if (new_w, new_h) == (src_w, src_h) else cv2.resize(rgb, (new_w, new_h), interpolation=interpolation)
    left, top = (width - new_w) // 2, (height - new_h) // 2
    canvas = np.full((height, width, 3), PAD_VALUE, dtype=np.uint8)
    canvas[top : top + new_h, left : left + new_w] = resized
    # One pass from uint8 HWC to float32 CHW in [0, 1] (astype then divide took ten times as long: two passes and a
    # temporary, over 1.2 M values per tile).
    tensor = np.empty((1, 3, height, width), dtype=np.float32)
    np.multiply(canvas.transpose(2, 0, 1), np.float32(1 / 255), out=tensor[0])
    # Per-axis scales from the rounded size, so mapping back is exact rather than off by the rounding.
    placement = Letterbox(new_w / src_w, new_h / src_h, float(left), float(top), src_w, src_h, width, height)
    return tensor, placement
