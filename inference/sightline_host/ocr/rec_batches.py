"""Recognition input: each text crop scaled to the recognizer's height, then crops of like width batched together.

PP-OCR pads every crop of a batch to the batch's widest, so a crop's reading depends on its neighbours, and each new
width is a new input shape. Here a crop's width is rounded up to a bucket, and only crops of one bucket share a
batch: a crop reads the same whatever else is on screen, and the shapes are few (one CUDA graph each on a GPU)."""

import math
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

HEIGHT = 48
MIN_WIDTH = 320  # PP-OCR's training width: narrower inputs read worse


@dataclass(frozen=True)
class Bucketing:
    """`widths`: the bucket widths, ascending (a crop wider than the last is squeezed into it); `batch_sizes`: the
    batch sizes a group is padded up to, ascending; `max_pixels`: a batch's width times size at most (batches of
    wide buckets are smaller)."""

    widths: tuple[int, ...]
    batch_sizes: tuple[int, ...]
    max_pixels: int

    def bucket(self, width: int) -> int:
        return next((w for w in self.widths if w >= width), self.widths[-1])

    def sizes_for(self, width: int) -> tuple[int, ...]:
        fitting = tuple(s for s in self.batch_sizes if s == 1 or s * width <= self.max_pixels)
        return fitting or (1,)


# On a GPU each shape is captured once as a CUDA graph, and padding still costs: widths every 64 px up to a 1080p
# line and batches in powers of two read a text-dense 1080p screen in 0.73x the time of widths every 160 px and
# batches of 1/4/16/64 (H100, bench/results/observe-ocr-NVIDIA-H100-80GB-HBM3.json, same accuracy).
GPU_BUCKETING = Bucketing(
    widths=(*range(MIN_WIDTH, 1921, 64), 2560, 3200, 4000),
    batch_sizes=(1, 2, 4, 8, 16, 32, 64),
    max_pixels=64 * 640,
)
# On a CPU every padded column costs as much as a real one, and any shape is as fast as another: buckets every
# 32 px (the recognizer's column is 8 px), batches only as large as there are crops of one width.
CPU_BUCKETING = Bucketing(
    widths=tuple(range(MIN_WIDTH, 4001, 32)), batch_sizes=(1, 2, 3, 4, 5, 6, 7, 8), max_pixels=8 * 4000
)


def scaled_width(crop_height: int, crop_width: int, squeeze: float = 1.0) -> int:
    """The crop's width once scaled to HEIGHT, times `squeeze` (< 1 narrows the text: fewer columns to read)."""
    return max(1, math.ceil(HEIGHT * crop_width / max(crop_height, 1) * squeeze))


@dataclass(frozen=True)
class Batch:
    indices: tuple[int, ...]  # which crops, in order; the batch holds `size` rows, the rest padding
    width: int
    size: int


def plan_batches(widths: Sequence[int], bucketing: Bucketing) -> list[Batch]:
    """Crops (by scaled width) grouped by bucket, each group cut into batches of the allowed sizes: full batches of
    the largest size that fits the group, the remainder padded up to the smallest size that holds it."""
    groups: dict[int, list[int]] = {}
    for index, width in enumerate(widths):
        groups.setdefault(bucketing.bucket(max(width, MIN_WIDTH)), []).append(index)
    batches: list[Batch] = []
    for width in sorted(groups):
        members = groups[width]
        sizes = bucketing.sizes_for(width)
        while members:
            size = next((s for s in sizes if s >= len(members)), sizes[-1])
            batches.append(Batch(tuple(members[:size]), width, size))
            members = members[size:]
    return batches


def fill_batch(crops: Sequence[NDArray[np.uint8]], widths: Sequence[int], batch: Batch) -> tuple[
    NDArray[np.uint8], NDArray[np.int32]]:  # fmt: skip
    """The batch as (size, HEIGHT, width, 3) uint8 and each row's content width (0 for padding rows)."""
    pixels = np.zeros((batch.size, HEIGHT, batch.width, 3), dtype=np.uint8)
    content = np.zeros(batch.size, dtype=np.int32)
    for row, index in enumerate(batch.indices):
        width = min(widths[index], batch.width)
        pixels[row, :, :width] = cv2.resize(crops[index], (width, HEIGHT), interpolation=cv2.INTER_LINEAR)
        content[row] = width
    return pixels, content


def normalize(pixels: NDArray[np.uint8], content: NDArray[np.int32]) -> NDArray[np.float32]:
    """(size, 3, HEIGHT, width) in [-1, 1], zero beyond each row's content (PP-OCR's padding)."""
    x = pixels.astype(np.float32).transpose(0, 3, 1, 2) / 127.5 - 1.0
    columns = np.arange(pixels.shape[2])
    x *= (columns[None, :] < content[:, None])[:, None, None, :]
    return np.ascontiguousarray(x)
