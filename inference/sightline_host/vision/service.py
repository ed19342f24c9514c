"""The host's detector: configured from the environment, loaded on first use, and never fatal.

SIGHTLINE_DETECTOR_ONNX=/path/yolo-world-ui.onnx   the model (its vocabulary JSON beside it); unset: OCR only
                                                    (a .torchscript export is accepted too: PyTorch runs it)
SIGHTLINE_DETECTOR_BACKEND=auto|onnxruntime|torch   auto (default): ONNX Runtime with TensorRT or CUDA, else
                                                    PyTorch where it sees a CUDA GPU, else ONNX Runtime on the CPU
SIGHTLINE_DETECTOR_DEVICE=cuda:1                    the PyTorch backend's device (default: the first GPU)
SIGHTLINE_DETECTOR_TRT_CACHE=/path/engines          TensorRT engine cache (default: trt-engines/ beside the model)
SIGHTLINE_DETECTOR_TILING=0                         one whole-screen pass only (faster, misses small controls)
"""

import os
import threading
from functools import cache
from pathlib import Path
from typing import Literal, cast

import numpy as np
from numpy.typing import NDArray

from sightline_host.ocr import ModelUnavailable
from sightline_host.vision.detector import Backend, Detection, Detector, DetectorOptions, DetectorUnavailable
from sightline_host.vision.trt_cache import EngineIncompatible
from sightline_host.vision.vocabulary import VocabularyMissing

DetectorState = Literal["not_configured", "not_loaded", "loading", "ready", "error"]
ENV_MODEL = "SIGHTLINE_DETECTOR_ONNX"
HOW_TO_GET = (
    "to get one, export YOLO-World with the UI vocabulary on a machine with internet access: "
    "`inference/.venv/bin/pip install -e 'inference[export]' && inference/.venv/bin/python -m "
    "sightline_host.vision.export build --out DIR` (it downloads yolov8s-worldv2.pt and the CLIP text encoder "
    "once, and warms the TensorRT engine where there is TensorRT), then set "
    f"{ENV_MODEL}=DIR/yolo-world-ui.onnx; or unset {ENV_MODEL} to observe with OCR only"
)


class DetectorService:
    def __init__(self, model_path: Path | None, options: DetectorOptions | None = None) -> None:
        self.model_path = model_path
        self._options = options or DetectorOptions()
        self._detector: Detector | None = None
        self._state: DetectorState = "not_configured" if model_path is None else "not_loaded"
        self._lock = threading.Lock()

    @staticmethod
    def from_env() -> "DetectorService":
        raw = os.environ.get(ENV_MODEL, "").strip()
        if not raw:
            return DetectorService(None)
        model = Path(raw).expanduser()
        cache_raw = os.environ.get("SIGHTLINE_DETECTOR_TRT_CACHE", "").strip()
        backend = os.environ.get("SIGHTLINE_DETECTOR_BACKEND", "auto").strip() or "auto"
        options = DetectorOptions(
            trt_cache_dir=Path(cache_raw).expanduser() if cache_raw else model.parent / "trt-engines",
            tiling=os.environ.get("SIGHTLINE_DETECTOR_TILING", "1").strip() not in ("0", "false", "no"),
            # An unknown name is refused with the list of names when the detector loads.
            backend=cast(Backend, backend),
            device=os.environ.get("SIGHTLINE_DETECTOR_DEVICE", "").strip() or None,
        )
        return DetectorService(model, options)

    @property
    def configured(self) -> bool:
        return self.model_path is not None

    @property
    def state(self) -> DetectorState:
        return self._state

    def load(self) -> Detector | None:
        if self.model_path is None:
            return None
        with self._lock:
            if self._detector is not None:
                return self._detector
            self._state = "loading"
            if not self.model_path.is_file():
                self._state = "error"
                raise ModelUnavailable(
                    f"detector model {self.model_path} (from {ENV_MODEL}) does not exist; {HOW_TO_GET}"
                )
            try:
                self._detector = Detector(self.model_path, options=self._options)
            except (DetectorUnavailable, VocabularyMissing, EngineIncompatible, ValueError) as error:
                self._state = "error"
                raise ModelUnavailable(f"detector unavailable: {error}") from error
            self._state = "ready"
            return self._detector

    def detect(self, rgb: NDArray[np.uint8]) -> list[Detection]:
        """The detections, or [] when no detector is configured; raises ModelUnavailable with how to fix it."""
        detector = self.load()
        return [] if detector is None else detector.detect(rgb)


@cache
def shared_detector() -> DetectorService:
    """One detector per host process, shared by every connection (a model in memory once)."""
    return DetectorService.from_env()
