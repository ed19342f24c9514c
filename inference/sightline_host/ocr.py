"""Text lines on screen from the PP-OCRv4 models that ship inside the rapidocr-onnxruntime wheel (no download)."""

import os
import threading
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from sightline_host.protocol.types import TextLine

OcrState = Literal["not_loaded", "loading", "ready", "error"]


class ModelUnavailable(Exception):
    """A model could not be loaded; the message says which and why."""


def _axis_aligned(quad: Sequence[Sequence[float]]) -> tuple[float, float, float, float]:
    xs = [float(p[0]) for p in quad]
    ys = [float(p[1]) for p in quad]
    return min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)


# RapidOCR shrinks the long side to 2000 px, then its detector scales the image until the SHORT side is 736 px:
# a thin strip (a 2000x40 toolbar) would become 36800x736 and take most of a minute on two cores. Padding the short
# side to a quarter of the long one bounds that cost near a full screen's. A side that rounds to zero would fail.
_MAX_SIDE = 2000
_MIN_SIDE = 32
_MAX_ASPECT = 4


def _pad_thin(rgb: NDArray[np.uint8], max_side: int = _MAX_SIDE) -> NDArray[np.uint8]:
    height, width = rgb.shape[:2]
    shrink = max(1.0, max(height, width) / max_side)
    need = max(int(np.ceil(_MIN_SIDE * shrink)), int(np.ceil(max(height, width) / _MAX_ASPECT)))
    if height >= need and width >= need:
        return rgb
    # The edge's usual colour, so the padding reads as more background and adds no edges of its own.
    border = np.concatenate([rgb[-1, :, :], rgb[:, -1, :]])
    fill = np.median(border, axis=0).astype(np.uint8)
    padded = np.empty((max(height, need), max(width, need), 3), dtype=np.uint8)
    padded[:] = fill
    # Padding at the bottom and right leaves every box's coordinates as they were.
    padded[:height, :width] = rgb
    return padded


class OcrEngine:
    """Loads lazily, runs one image at a time (ONNX Runtime already uses every core for one). Recognition runs in
    batches of text crops (RapidOCR's `rec_batch_num`, 6). `max_side` (default: SIGHTLINE_OCR_MAX_SIDE, else 2000):
    RapidOCR shrinks a larger image to this long side before it detects and reads. 2000 halves a 4K frame, and then
    reads about 10 % of 11-pixel words and 55 % of 13-pixel ones (a 4K desktop at 100 % scaling); 4096 reads over
    90 % of both, for about 1.5 times the time (bench/observe.py --small-elements)."""

    def __init__(self, max_side: int | None = None) -> None:
        if max_side is None:
            raw = os.environ.get("SIGHTLINE_OCR_MAX_SIDE", "").strip()
            max_side = int(raw) if raw.isdigit() else _MAX_SIDE
        if max_side < _MIN_SIDE:
            raise ValueError(f"max_side must be at least {_MIN_SIDE}, got {max_side}")
        self.max_side = max_side
        self._engine: Any = None
        self._state: OcrState = "not_loaded"
        self._error: str | None = None
        self._load_lock = threading.Lock()
        self._run_lock = threading.Lock()

    @property
    def state(self) -> OcrState:
        return self._state

    def load(self) -> None:
        with self._load_lock:
            if self._engine is not None:
                return
            self._state = "loading"
            try:
                # Imported here: ONNX Runtime and OpenCV take seconds to import, and the host must answer at once.
                from rapidocr_onnxruntime import RapidOCR  # noqa: PLC0415

                self._engine = RapidOCR(max_side_len=self.max_side)
            except Exception as error:
                self._state = "error"
                self._error = f"OCR model failed to load: {error}"
                raise ModelUnavailable(self._error) from error
            self._state = "ready"

    def read(self, rgb: NDArray[np.uint8], min_confidence: float = 0.5) -> list[TextLine]:
        self.load()
        # RapidOCR expects OpenCV's BGR channel order.
        bgr = np.ascontiguousarray(_pad_thin(rgb, self.max_side)[:, :, ::-1])
        with self._run_lock:
            result, _elapsed = self._engine(bgr)
        lines: list[TextLine] = []
        for quad, text, score in result or []:
            confidence = min(1.0, max(0.0, float(score)))
            if confidence < min_confidence or not str(text).strip():
                continue
            x, y, width, height = _axis_aligned(quad)
            lines.append(
                {"text": str(text), "box": {"x": x, "y": y, "width": width, "height": height}, "confidence": confidence}
            )
        return lines
