"""Tiling a large screen so small controls keep enough input pixels to be seen.

A 640-pixel input shrinks a 3840-pixel-wide screen by 6: a 16-pixel icon becomes under 3 pixels, below the
detector's finest stride of 8. Tiles are cut so that no tile is shrunk by more than `1 / min_scale`, neighbours
overlap so an element cut by one tile is whole in the next, and one pass over the whole screen still sees the
elements larger than the overlap.
"""

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from sightline_host.vision.nms import class_aware_nms
from sightline_host.vision.yolo_decode import RawDetections


@dataclass(frozen=True)
class Tile:
    """A crop of the source image, in source pixels."""

    x: int
    y: int
    width: int
    height: int


def _starts(length: int, tile: int, overlap: float) -> list[int]:
    if length <= tile:
        return [0]
    stride = tile * (1 - overlap)
    count = math.ceil((length - tile) / stride) + 1
    # Spread evenly: the last tile ends exactly at the edge instead of hanging over it.
    return [round(i * (length - tile) / (count - 1)) for i in range(count)]


def plan_tiles(
    width: int, height: int, input_width: int, input_height: int, min_scale: float = 0.5, overlap: float = 0.2
) -> list[Tile]:
    """The tiles to run besides the whole-image pass; empty when the whole image already keeps `min_scale`."""
    if not 0 < min_scale <= 1:
        raise ValueError(f"min_scale must be in (0, 1], got {min_scale}")
    if not 0 <= overlap < 1:
        raise ValueError(f"overlap must be in [0, 1), got {overlap}")
    if min(input_width / width, input_height / height) >= min_scale:
        return []
    tile_w = min(width, math.floor(input_width / min_scale))
    tile_h = min(height, math.floor(input_height / min_scale))
    return [
        Tile(x, y, tile_w, tile_h) for y in _starts(height, tile_h, overlap) for x in _starts(width, tile_w, overlap)
    ]


def drop_cut_at_inner_edges(
    detections: RawDetections, tile: Tile, image_width: int, image_height: int, margin: float = 2.0
) -> RawDetections:
    """Drops boxes touching a tile edge that is inside the image: that element was cut, and the overlapping
    neighbour (or the whole-image pass) holds it whole."""
    if len(detections) == 0:
        return detections
    boxes = detections.boxes
    cut = np.zeros(len(detections), dtype=bool)
    if tile.x > 0:
        cut |= boxes[:, 0] <= tile.x + margin
    if tile.y > 0:
        cut |= boxes[:, 1] <= tile.y + margin
    if tile.x + tile.width < image_width:
        cut |= boxes[:, 2] >= tile.x + tile.width - margin
    if tile.y + tile.height < image_height:
        cut |= boxes[:, 3] >= tile.y + tile.height - margin
    keep = ~cut
    return RawDetections(boxes[keep], detections.scores[keep], detections.class_ids[keep])


def merge_passes(passes: list[RawDetections], iou_threshold: float = 0.5) -> RawDetections:
    """One list from the whole-image pass and the tiles (all in source pixels): class-aware NMS over the union."""
    non_empty = [p for p in passes if len(p)]
    if not non_empty:
        return RawDetections.empty()
    boxes: NDArray[np.float32] = np.concatenate([p.boxes for p in non_empty])
    scores: NDArray[np.float32] = np.concatenate([p.scores for p in non_empty])
    ids: NDArray[np.intp] = np.concatenate([p.class_ids for p in non_empty])
    keep = class_aware_nms(boxes, scores, ids, iou_threshold)
    return RawDetections(boxes[keep], scores[keep], ids[keep])
