"""One frame's OCR: detect text boxes, crop them, read the crops in width-bucketed batches."""

import time
from dataclasses import dataclass, field

import cv2
import numpy as np
from numpy.typing import NDArray

from sightline_host.ocr.ctc import CtcDecoder
from sightline_host.ocr.db_postprocess import DbParams, boxes_from_map, keep_on_frame
from sightline_host.ocr.geometry import MAX_SIDE, Quad, crop_quad, reading_order
from sightline_host.ocr.models import OcrModels
from sightline_host.ocr.rec_batches import Bucketing, fill_batch, plan_batches, scaled_width

DET_MIN_SIDE = 736  # PP-OCR scales a small image up until its short side is this long
DET_STRIDE = 32


@dataclass(frozen=True)
class OcrOptions:
    """`max_side`: a larger frame is shrunk to this long side first. `det_scale`: the detector's input is the
    (shrunk) frame times this (1: every pixel; less is faster and misses small text). `squeeze`: recognition
    narrows each crop by this factor (fewer columns to read; PP-OCR's recognizer was trained on text squeezed to fit
    its 320-px input). `min_score`: lines read with a lower mean probability are dropped, as PP-OCR does."""

    max_side: int = MAX_SIDE
    det_scale: float = 1.0
    squeeze: float = 1.0
    min_score: float = 0.5
    db: DbParams = field(default_factory=DbParams)
    #: The recognizer's batch shapes; None: the backend's own (few shapes on a GPU, many on a CPU).
    bucketing: Bucketing | None = None


@dataclass(frozen=True)
class OcrLine:
    quad: Quad
    text: str
    score: float


def det_input(bgr: NDArray[np.uint8], options: OcrOptions) -> tuple[NDArray[np.uint8], tuple[int, int]]:
    """The detector's input: the frame scaled (at most to max_side, at least to PP-OCR's short side, times
    det_scale), then padded with its own edge to multiples of 32. Returns it and the scaled frame's (width,
    height) within it."""
    height, width = bgr.shape[:2]
    scale = min(1.0, options.max_side / max(height, width))
    if min(height, width) * scale < DET_MIN_SIDE:
        # A wide frame (two 1080p displays side by side) cannot honour max_side and the short-side floor at once;
        # an in-between scale only blurs small gaps: a checkbox 10 px from its label merged into the label's box,
        # whose crop then began inside the box, and its edge was read as "1Remember my choice".
        scale = 1.0 if min(height, width) >= DET_MIN_SIDE else DET_MIN_SIDE / min(height, width)
    scale *= options.det_scale
    target = (max(1, round(width * scale)), max(1, round(height * scale)))
    image = bgr if target == (width, height) else cv2.resize(bgr, target, interpolation=cv2.INTER_LINEAR)
    pad_h = -image.shape[0] % DET_STRIDE
    pad_w = -image.shape[1] % DET_STRIDE
    if pad_h or pad_w:
        image = cv2.copyMakeBorder(image, 0, pad_h, 0, pad_w, cv2.BORDER_REPLICATE)
    return np.ascontiguousarray(image), target


@dataclass
class StageTimes:
    """Milliseconds of the last frame's stages, for benchmarks: detector input, detector network, DB
    post-processing, cropping, recognition (batching, network, decoding); `crops` and `batches` counted."""

    det_input: float = 0.0
    det_model: float = 0.0
    det_post: float = 0.0
    crop: float = 0.0
    rec: float = 0.0
    crops: int = 0
    batches: int = 0
    shapes: list[str] = field(default_factory=list)


class OcrPipeline:
    def __init__(self, models: OcrModels, options: OcrOptions | None = None) -> None:
        self.models = models
        self.options = options or OcrOptions()
        self.decoder = CtcDecoder.from_dictionary(models.dictionary)
        self.times = StageTimes()

    def detect(self, bgr: NDArray[np.uint8]) -> list[Quad]:
        """Text quads in the frame's coordinates, in reading order."""
        height, width = bgr.shape[:2]
        begin = time.perf_counter()
        image, (scaled_w, scaled_h) = det_input(bgr, self.options)
        after_input = time.perf_counter()
        prob = self.models.det(image)
        after_model = time.perf_counter()
        quads, _ = boxes_from_map(prob[:scaled_h, :scaled_w], width / scaled_w, height / scaled_h, self.options.db)
        quads = keep_on_frame(quads, width, height)
        ordered = [quads[i] for i in reading_order(quads)]
        end = time.perf_counter()
        self.times.det_input = (after_input - begin) * 1000
        self.times.det_model = (after_model - after_input) * 1000
        self.times.det_post = (end - after_model) * 1000
        return ordered

    def recognize(self, crops: list[NDArray[np.uint8]]) -> list[tuple[str, float]]:
        widths = [scaled_width(c.shape[0], c.shape[1], self.options.squeeze) for c in crops]
        read: list[tuple[str, float]] = [("", 0.0)] * len(crops)
        batches = plan_batches(widths, self.options.bucketing or self.models.bucketing)
        self.times.crops, self.times.batches = len(crops), len(batches)
        self.times.shapes = [f"{b.size}x{b.width}" for b in batches]
        for batch in batches:
            pixels, content = fill_batch(crops, widths, batch)
            best, prob = self.models.rec(pixels, content)
            for index, result in zip(batch.indices, self.decoder.decode(best, prob), strict=False):
                read[index] = result
        return read

    def read(self, bgr: NDArray[np.uint8]) -> list[OcrLine]:
        quads = self.detect(bgr)
        begin = time.perf_counter()
        crops = [crop_quad(bgr, quad) for quad in quads]
        after_crop = time.perf_counter()
        read = self.recognize(crops)
        self.times.crop = (after_crop - begin) * 1000
        self.times.rec = (time.perf_counter() - after_crop) * 1000
        lines: list[OcrLine] = []
        for quad, (text, score) in zip(quads, read, strict=True):
            if score >= self.options.min_score and text.strip():
                lines.append(OcrLine(quad, text, score))
        return lines
