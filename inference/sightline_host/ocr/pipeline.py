"""One frame's OCR: detect text boxes, crop them, read the crops in width-bucketed batches.

The agent re-observes a screen after every action, and most of it is as it was. Two memories make that cheap and
change nothing read: crops read before are served from a `PixelCache`, and a frame identical to the previous one
reuses its text boxes. A crop's reading is a function of its pixels alone: its scaled width, and so its bucket and
the zero padding after it (which the recognizer's global pooling sees), follow from its shape and the pipeline's
fixed options; a batch holds one bucket's crops and each row is computed on its own, so which crops share its batch
changes nothing (tests/test_ocr_rec_cache.py checks cached against uncached reads bit for bit).

The text boxes are not reused for the unchanged parts of a changed frame: the detector pools globally
(squeeze-and-excitation blocks), so every probability depends on the whole image and a partial re-detection would
not be exact."""

import time
from dataclasses import dataclass, field

import cv2
import numpy as np
from numpy.typing import NDArray

from sightline_host.ocr.ctc import CtcDecoder
from sightline_host.ocr.db_postprocess import DbParams, boxes_from_map, keep_on_frame
from sightline_host.ocr.geometry import MAX_SIDE, Quad, crop_quad, reading_order
from sightline_host.ocr.models import OcrModels
from sightline_host.ocr.pixel_cache import PixelCache, PixelKey, pixel_key
from sightline_host.ocr.rec_batches import Bucketing, fill_batch, plan_batches, scaled_width

Reading = tuple[str, float]  # text and the mean probability of its kept columns
# Enough for several screens' lines (a text-dense 1080p screen has about 60); an entry is a short string and a key.
REC_CACHE_ENTRIES = 2048
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
    #: Readings remembered by crop pixels (0: none); `reuse_same_frame`: an identical frame reuses the last boxes.
    rec_cache_entries: int = REC_CACHE_ENTRIES
    reuse_same_frame: bool = True


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
    post-processing, cropping, recognition (batching, network, decoding); `crops` and `batches` counted,
    `rec_cached`: crops read from the cache, `det_reused`: the frame was the last one, its boxes reused."""

    det_input: float = 0.0
    det_model: float = 0.0
    det_post: float = 0.0
    crop: float = 0.0
    rec: float = 0.0
    crops: int = 0
    batches: int = 0
    shapes: list[str] = field(default_factory=list)
    rec_cached: int = 0
    det_reused: bool = False


class OcrPipeline:
    def __init__(self, models: OcrModels, options: OcrOptions | None = None) -> None:
        self.models = models
        self.options = options or OcrOptions()
        self.decoder = CtcDecoder.from_dictionary(models.dictionary)
        self.times = StageTimes()
        entries = self.options.rec_cache_entries
        self.rec_cache: PixelCache[Reading] | None = PixelCache(entries) if entries > 0 else None
        self._last_frame: tuple[PixelKey, list[Quad]] | None = None

    def forget(self) -> None:
        """Drop what was remembered (benchmarks measure a first look with it)."""
        if self.rec_cache is not None:
            self.rec_cache.clear()
        self._last_frame = None

    def detect(self, bgr: NDArray[np.uint8]) -> list[Quad]:
        """Text quads in the frame's coordinates, in reading order."""
        begin = time.perf_counter()
        frame = pixel_key(bgr) if self.options.reuse_same_frame else None
        hashed_ms = (time.perf_counter() - begin) * 1000
        last = self._last_frame
        if frame is not None and last is not None and last[0] == frame:
            self.times.det_reused = True
            self.times.det_input, self.times.det_model, self.times.det_post = hashed_ms, 0.0, 0.0
            return list(last[1])
        self.times.det_reused = False
        ordered = self._detect(bgr)
        self.times.det_input += hashed_ms
        if frame is not None:
            self._last_frame = (frame, list(ordered))
        return ordered

    def _detect(self, bgr: NDArray[np.uint8]) -> list[Quad]:
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

    def recognize(self, crops: list[NDArray[np.uint8]]) -> list[Reading]:
        """(text, mean probability) per crop: from the cache where these exact pixels were read before, and read
        once where the same pixels stand twice on screen (two "OK" buttons)."""
        cache = self.rec_cache
        if cache is None:
            self.times.crops, self.times.rec_cached = len(crops), 0
            return self._recognize(crops)
        keys = [pixel_key(c) for c in crops]
        known: dict[PixelKey, Reading] = {}
        unread: dict[PixelKey, int] = {}
        for index, key in enumerate(keys):
            if key in known or key in unread:
                continue
            reading = cache.get(key)
            if reading is None:
                unread[key] = index
            else:
                known[key] = reading
        fresh = self._recognize([crops[i] for i in unread.values()])
        for key, reading in zip(unread, fresh, strict=True):
            cache.put(key, reading)
            known[key] = reading
        self.times.crops, self.times.rec_cached = len(crops), len(crops) - len(unread)
        return [known[key] for key in keys]

    def _recognize(self, crops: list[NDArray[np.uint8]]) -> list[Reading]:
        widths = [scaled_width(c.shape[0], c.shape[1], self.options.squeeze) for c in crops]
        read: list[Reading] = [("", 0.0)] * len(crops)
        batches = plan_batches(widths, self.options.bucketing or self.models.bucketing)
        self.times.batches = len(batches)
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
