"""The host's OCR engine: configured from the environment, loaded on first use, one frame at a time.

SIGHTLINE_OCR_BACKEND=auto|onnxruntime|torch   auto (default): PyTorch where it sees a CUDA GPU, else ONNX Runtime
SIGHTLINE_OCR_DEVICE=cuda:1                     the PyTorch backend's device (default: the first GPU)
SIGHTLINE_OCR_MAX_SIDE=4096                     shrink larger frames to this long side first (default 2000)
SIGHTLINE_OCR_CPU_GRAPHS=fused|bundled          ONNX Runtime's networks: fused (default, `graph_fusion`: 0.6x the
                                                OCR's CPU time, the same reads) or as the wheel ships them
SIGHTLINE_OCR_CACHE_DIR=DIR                     where the fused networks are written (default ~/.cache/sightline/ocr)
SIGHTLINE_OCR_THREADS=N                         ONNX Runtime's threads (default 0: its own choice, the cores)
"""

import importlib.util
import logging
import os
import threading
from dataclasses import replace
from pathlib import Path
from typing import Literal, cast

import numpy as np
from numpy.typing import NDArray

from sightline_host.ocr import fused_cache
from sightline_host.ocr.geometry import MAX_SIDE, MIN_SIDE, axis_aligned, pad_thin
from sightline_host.ocr.models import ModelFiles, OcrModels, backend_from_env, choose_backend
from sightline_host.ocr.pipeline import OcrLine, OcrOptions, OcrPipeline, StageTimes
from sightline_host.protocol.types import TextLine

OcrState = Literal["not_loaded", "loading", "ready", "error"]
CpuGraphs = Literal["fused", "bundled"]
CPU_GRAPHS: tuple[CpuGraphs, ...] = ("fused", "bundled")
PACKAGE = "rapidocr_onnxruntime"
DET_MODEL = "ch_PP-OCRv4_det_infer.onnx"
REC_MODEL = "ch_PP-OCRv4_rec_infer.onnx"
# The inputs the fused networks are checked on against the wheel's (sides of the detector's: multiples of 32).
DET_PROBE = (1, 3, 64, 96)
REC_PROBE = (2, 3, 48, 320)

log = logging.getLogger(__name__)


# Recognition is most of the time and costs in proportion to the columns read: crops narrowed to 0.85 read the
# synthetic screens exactly, for about 20 % less time on a CPU and 15 % on a GPU (bench/observe.py --ocr-variants).
SQUEEZE = 0.85


class ModelUnavailable(Exception):
    """A model could not be loaded; the message says which and why."""


def bundled_models() -> ModelFiles:
    """The PP-OCRv4 models inside the rapidocr-onnxruntime wheel, found without importing it (its import pulls in
    ONNX Runtime, which the PyTorch path does not need)."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(f"the {PACKAGE} package, which holds the PP-OCRv4 models, is not installed")
    folder = Path(next(iter(spec.submodule_search_locations))) / "models"
    files = ModelFiles(folder / DET_MODEL, folder / REC_MODEL)
    for path in (files.det, files.rec):
        if not path.is_file():
            raise FileNotFoundError(f"{path} is missing from the {PACKAGE} install")
    return files


def _torch_cuda() -> bool:
    from sightline_host.vision.torch_backend import cuda_usable  # noqa: PLC0415 - may import PyTorch

    return cuda_usable()


def cpu_graphs_from_env() -> CpuGraphs:
    raw = os.environ.get("SIGHTLINE_OCR_CPU_GRAPHS", "").strip() or "fused"
    if raw not in CPU_GRAPHS:
        raise ValueError(f"SIGHTLINE_OCR_CPU_GRAPHS={raw!r}: choose one of {', '.join(CPU_GRAPHS)}")
    return cast(CpuGraphs, raw)


def cpu_threads_from_env() -> int:
    """ONNX Runtime's intra-op threads for the OCR; 0 (default): ONNX Runtime's own choice, the physical cores.

    One thread, leaving the other core of a 2-core machine to the UI detector that runs beside the OCR, costs less
    CPU (0.91x a whole observe's on the 2-core VM) but more wall time when the cores are free (1.4x: the detector
    is done long before the OCR, whose one thread then leaves a core idle); it was faster (0.85x) only while other
    work kept the cores busy. Wall time is what the user waits for, so ONNX Runtime's default stays
    (bench/results/observe-reobserve-vm.json; the reading is the same either way, tests/test_ocr_threads.py)."""
    raw = os.environ.get("SIGHTLINE_OCR_THREADS", "").strip()
    if not raw:
        return 0
    if not raw.isdigit():
        raise ValueError(f"SIGHTLINE_OCR_THREADS={raw!r}: a whole number of threads (0: ONNX Runtime's default)")
    return int(raw)


def fused_files(files: ModelFiles, cache_dir: Path | None = None) -> tuple[ModelFiles, str]:
    """The fused networks for ONNX Runtime and a label for the description; the given ones, labelled with why, if
    they cannot be made (the OCR then reads as before, only slower)."""
    try:
        fused = ModelFiles(
            fused_cache.fused_model(files.det, DET_PROBE, cache_dir),
            fused_cache.fused_model(files.rec, REC_PROBE, cache_dir),
        )
    except fused_cache.FusionFailed as error:
        log.warning("OCR: using the bundled networks, about 1.7x the CPU time: %s", error)
        return files, f"bundled graphs (fused graphs failed: {error})"
    return fused, "fused graphs"


def load_models(
    backend: str = "auto",
    device: str | None = None,
    files: ModelFiles | None = None,
    rec_fp16: bool = True,
    cpu_graphs: CpuGraphs = "fused",
    cache_dir: Path | None = None,
    cpu_threads: int | None = None,
) -> OcrModels:
    """`files` (default: the wheel's) are loaded as they are on a GPU; on the CPU, fused first unless `cpu_graphs`
    is "bundled", with `cpu_threads` intra-op threads (None: ONNX Runtime's default). The PyTorch (GPU) path keeps
    the wheel's graphs, as before."""
    files = files or bundled_models()
    chosen = choose_backend(backend, torch_cuda=backend == "auto" and _torch_cuda())
    if chosen == "torch":
        from sightline_host.ocr.models import TorchModels  # noqa: PLC0415

        return TorchModels(files, device, rec_fp16)
    from sightline_host.ocr.models import OrtModels  # noqa: PLC0415

    if cpu_graphs == "bundled":
        return OrtModels(files, threads=cpu_threads)
    files, label = fused_files(files, cache_dir)
    return OrtModels(files, threads=cpu_threads, graphs=label)


class OcrEngine:
    """Loads lazily and reads one frame at a time (either backend already uses the whole CPU or GPU for one).
    `max_side` (default: SIGHTLINE_OCR_MAX_SIDE, else 2000): a larger frame is shrunk to this long side before
    detection. 2000 halves a 4K frame, and then finds about 10 % of 11-pixel words and 55 % of 13-pixel ones (a 4K
    desktop at 100 % scaling); 4096 finds over 90 % of both, for about 1.5 times the time (bench/observe.py
    --small-elements). `backend` / `device` default to SIGHTLINE_OCR_BACKEND / SIGHTLINE_OCR_DEVICE, `cpu_graphs` /
    `cache_dir` / `cpu_threads` (ONNX Runtime only) to SIGHTLINE_OCR_CPU_GRAPHS / SIGHTLINE_OCR_CACHE_DIR /
    SIGHTLINE_OCR_THREADS."""

    def __init__(
        self,
        max_side: int | None = None,
        backend: str | None = None,
        device: str | None = None,
        options: OcrOptions | None = None,
        rec_fp16: bool = True,
        cpu_graphs: CpuGraphs | None = None,
        cache_dir: Path | None = None,
        cpu_threads: int | None = None,
    ) -> None:
        if max_side is None:
            raw = os.environ.get("SIGHTLINE_OCR_MAX_SIDE", "").strip()
            max_side = int(raw) if raw.isdigit() else MAX_SIDE
        if max_side < MIN_SIDE:
            raise ValueError(f"max_side must be at least {MIN_SIDE}, got {max_side}")
        env_backend, env_device = backend_from_env()
        self.backend = backend or env_backend
        self.device = device or env_device
        self.max_side = max_side
        self.rec_fp16 = rec_fp16
        self.cpu_graphs = cpu_graphs or cpu_graphs_from_env()
        self.cache_dir = cache_dir
        self.cpu_threads = cpu_threads_from_env() if cpu_threads is None else cpu_threads
        self._options_given = options is not None
        self.options = OcrOptions(max_side=max_side) if options is None else options
        if self.options.max_side != max_side:
            raise ValueError(f"options.max_side {self.options.max_side} differs from max_side {max_side}")
        self._pipeline: OcrPipeline | None = None
        self._state: OcrState = "not_loaded"
        self._error: str | None = None
        self._load_lock = threading.Lock()
        self._run_lock = threading.Lock()

    @property
    def state(self) -> OcrState:
        return self._state

    @property
    def description(self) -> str:
        return "not loaded" if self._pipeline is None else self._pipeline.models.description

    @property
    def last_times(self) -> StageTimes | None:
        """The last frame's stage timings (benchmarks)."""
        return None if self._pipeline is None else self._pipeline.times

    def load(self) -> OcrPipeline:
        with self._load_lock:
            if self._pipeline is not None:
                return self._pipeline
            self._state = "loading"
            try:
                models = self._load_models()
                if not self._options_given:
                    self.options = replace(self.options, squeeze=SQUEEZE)
                self._pipeline = OcrPipeline(models, self.options)
            except Exception as error:
                self._state = "error"
                self._error = f"OCR model failed to load: {error}"
                raise ModelUnavailable(self._error) from error
            self._state = "ready"
            return self._pipeline

    def _load_models(self) -> OcrModels:
        return load_models(
            self.backend,
            self.device,
            rec_fp16=self.rec_fp16,
            cpu_graphs=self.cpu_graphs,
            cache_dir=self.cache_dir,
            cpu_threads=self.cpu_threads or None,
        )

    def forget(self) -> None:
        """Drop the readings and boxes remembered from earlier frames: the next frame is read as a first look."""
        if self._pipeline is not None:
            with self._run_lock:
                self._pipeline.forget()

    def read_quads(self, rgb: NDArray[np.uint8]) -> list[OcrLine]:
        """Every line read, with its quad, before the confidence cut."""
        pipeline = self.load()
        # PP-OCR's models were trained on OpenCV's BGR channel order.
        bgr = np.ascontiguousarray(pad_thin(rgb, self.max_side)[:, :, ::-1])
        with self._run_lock:
            return pipeline.read(bgr)

    def read(self, rgb: NDArray[np.uint8], min_confidence: float = 0.5) -> list[TextLine]:
        lines: list[TextLine] = []
        for line in self.read_quads(rgb):
            confidence = min(1.0, max(0.0, line.score))
            if confidence < min_confidence:
                continue
            x, y, width, height = axis_aligned(line.quad.tolist())
            lines.append(
                {"text": line.text, "box": {"x": x, "y": y, "width": width, "height": height}, "confidence": confidence}
            )
        return lines
