"""The UI detector: a YOLOv8 / YOLO-World ONNX model, tiled on large screens, run by one of two backends:

* ONNX Runtime, with the execution providers TensorRT → CUDA → CPU as available (TensorRT engines cached on disk
  with their metadata, see `trt_cache`);
* PyTorch (`torch_backend`): the same ONNX graph on any device PyTorch sees, for a GPU without TensorRT or a GPU
  build of ONNX Runtime; or a TorchScript export of the model.

`backend="auto"` (the default) takes ONNX Runtime when it offers TensorRT or CUDA, else PyTorch when PyTorch is
installed and sees a CUDA GPU, else ONNX Runtime on the CPU.

On a CPU each pass's boxes are remembered by the exact pixels of its crop (`PixelCache`): a re-observed screen
reruns only the passes whose pixels changed (a tile away from a changed label, or every pass of an identical frame).
That is exact: a pass's boxes are a function of its crop, its tile's place and the fixed options. On a GPU a pass
costs less than hashing its crop, so nothing is remembered there.
"""

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from sightline_host.ocr.pixel_cache import PixelCache, pixel_key
from sightline_host.vision import trt_cache
from sightline_host.vision._ort import ort
from sightline_host.vision.letterbox import BadImage, check_rgb, letterbox
from sightline_host.vision.onnx_torch import UnsupportedGraph
from sightline_host.vision.providers import choose_providers
from sightline_host.vision.tiling import Tile, drop_cut_at_inner_edges, merge_passes, plan_tiles
from sightline_host.vision.torch_backend import TorchPathUnavailable, TorchRunner, cuda_usable
from sightline_host.vision.vocabulary import ElementKind, Vocabulary, load_vocabulary
from sightline_host.vision.yolo_decode import OutputLayoutError, RawDetections, check_layout, decode

DEFAULT_INPUT = 640
# Largest image a detect call accepts: the protocol's own cap (7680x4320); tiling a larger one would take minutes.
MAX_PIXELS = 7680 * 4320
PASS_CACHE_ENTRIES = 32


Backend = Literal["auto", "onnxruntime", "torch"]
BACKENDS: tuple[str, ...] = ("auto", "onnxruntime", "torch")


class DetectorUnavailable(Exception):
    """The detector cannot run; the message says why and how to fix it."""


@dataclass(frozen=True)
class Detection:
    """One detected element in pixels of the image passed to `detect`."""

    kind: ElementKind
    label: str
    x: float
    y: float
    width: float
    height: float
    confidence: float


@dataclass(frozen=True)
class DetectorOptions:
    score_threshold: float = 0.25
    iou_threshold: float = 0.45
    # No tile is shrunk by more than 2: a 16-pixel icon keeps 8 input pixels, one cell of the finest stride.
    min_scale: float = 0.5
    overlap: float = 0.2
    tiling: bool = True
    # Where TensorRT engines are cached; None disables the TensorRT provider (it would rebuild on every start).
    trt_cache_dir: Path | None = None
    fp16: bool = True
    providers: tuple[str, ...] | None = None
    backend: Backend = "auto"
    # The PyTorch backend's device ("cuda", "cuda:1", "cpu"); None: the first CUDA GPU, else the CPU.
    device: str | None = None
    # The PyTorch backend on CUDA: capture each pass in a CUDA graph (one launch instead of hundreds).
    cuda_graph: bool = True
    # Passes remembered by their crop's pixels; None: 32 on a CPU (a 4K frame is 9 passes), 0 (none) on a GPU.
    pass_cache_entries: int | None = None


def choose_backend(requested: str, ort_available: list[str], model_path: Path) -> Literal["onnxruntime", "torch"]:
    """The backend `requested` resolves to on this machine."""
    if requested not in BACKENDS:
        raise DetectorUnavailable(f"unknown detector backend {requested!r}; choose one of {', '.join(BACKENDS)}")
    if requested != "auto":
        return "torch" if requested == "torch" else "onnxruntime"
    if model_path.suffix in (".torchscript", ".ts"):
        return "torch"
    if "TensorrtExecutionProvider" in ort_available or "CUDAExecutionProvider" in ort_available:
        return "onnxruntime"
    # Imports PyTorch (seconds) only where it is installed.
    if cuda_usable():
        return "torch"
    return "onnxruntime"


def _static_hw(shape: list[Any]) -> tuple[int, int] | None:
    if len(shape) == 4 and isinstance(shape[2], int) and isinstance(shape[3], int) and shape[2] > 0 and shape[3] > 0:
        return int(shape[2]), int(shape[3])
    return None


class Detector:
    """Loads one ONNX model; `detect` is safe to call from several threads (runs are serialized)."""

    def __init__(
        self,
        model_path: Path,
        vocabulary: Vocabulary | None = None,
        options: DetectorOptions | None = None,
        text_features: NDArray[np.float32] | None = None,
    ) -> None:
        self.options = options or DetectorOptions()
        self.model_path = model_path
        if not model_path.is_file():
            raise DetectorUnavailable(f"detector model {model_path} does not exist")
        runtime = ort()
        available = list(runtime.get_available_providers())
        self.backend = choose_backend(self.options.backend, available, model_path)
        self._engine_record: trt_cache.EngineMetadata | None = None
        self._torch: TorchRunner | None = None
        if self.backend == "torch":
            metadata, inputs, output_shape = self._load_torch(model_path)
        else:
            metadata, inputs, output_shape = self._probe_onnxruntime(runtime, model_path)
        self.vocabulary = vocabulary or load_vocabulary(model_path, metadata)
        self._image_input = inputs[0][0]
        hw = _static_hw(list(inputs[0][1]))
        self.input_height, self.input_width = hw or (DEFAULT_INPUT, DEFAULT_INPUT)
        self._extra_feeds = self._text_feeds(inputs[1:], text_features)
        if len(output_shape) == 3 and isinstance(output_shape[1], int):
            check_layout((1, output_shape[1], 1), len(self.vocabulary.classes))
        elif len(output_shape) != 3:
            check_layout(tuple(d if isinstance(d, int) else 1 for d in output_shape), len(self.vocabulary.classes))
        if self._torch is not None:
            self.providers: list[str] = list(self._torch.providers)
        else:
            self._session = self._onnxruntime_session(runtime, available, model_path)
            self.providers = list(self._session.get_providers())
        self._lock = threading.Lock()
        self._engine_recorded = False
        entries = self.options.pass_cache_entries
        if entries is None:
            entries = PASS_CACHE_ENTRIES if self.on_cpu else 0
        self.pass_cache: PixelCache[RawDetections] | None = PixelCache(entries) if entries > 0 else None

    @property
    def on_cpu(self) -> bool:
        if self._torch is not None:
            return bool(self._torch.device.type == "cpu")
        return self.providers[0] == "CPUExecutionProvider"

    def forget(self) -> None:
        """Drop the remembered passes: the next frame is detected as a first look."""
        if self.pass_cache is not None:
            with self._lock:
                self.pass_cache.clear()

    def _load_torch(self, model_path: Path) -> tuple[dict[str, str], list[tuple[str, list[Any]]], list[Any]]:
        try:
            self._torch = TorchRunner(model_path, self.options.device, self.options.fp16, self.options.cuda_graph)
        except (TorchPathUnavailable, UnsupportedGraph) as error:
            raise DetectorUnavailable(f"detector model {model_path} cannot run through PyTorch: {error}") from error
        io = self._torch.io  # PyTorch is imported by TorchRunner only, when this backend is chosen
        return dict(io.metadata), [(spec.name, list(spec.shape)) for spec in io.inputs], list(io.output_shape)

    @staticmethod
    def _probe_onnxruntime(
        runtime: Any, model_path: Path
    ) -> tuple[dict[str, str], list[tuple[str, list[Any]]], list[Any]]:
        session_options = runtime.SessionOptions()
        session_options.log_severity_level = 3
        # A CPU session first, to read the model's inputs and metadata; cheap next to a TensorRT build.
        try:
            probe = runtime.InferenceSession(str(model_path), session_options, providers=["CPUExecutionProvider"])
        except Exception as error:
            raise DetectorUnavailable(f"detector model {model_path} could not be loaded: {error}") from error
        metadata = dict(probe.get_modelmeta().custom_metadata_map)
        inputs = [(i.name, list(i.shape)) for i in probe.get_inputs()]
        return metadata, inputs, list(probe.get_outputs()[0].shape)

    def _onnxruntime_session(self, runtime: Any, available: list[str], model_path: Path) -> Any:
        providers = choose_providers(
            available,
            self.options.trt_cache_dir,
            self.options.fp16,
            self.options.providers or ("TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider"),
        )
        if self.options.trt_cache_dir is not None and providers[0][0] == "TensorrtExecutionProvider":
            self._engine_record = trt_cache.expected_metadata(
                model_path,
                self.vocabulary.model_id,
                self.vocabulary.revision,
                self.vocabulary.classes,
                "fp16" if self.options.fp16 else "fp32",
                (1, 3, self.input_height, self.input_width),
                str(runtime.__version__),
                trt_cache.tensorrt_version(),
            )
            # Raises EngineIncompatible before TensorRT ever reads a stale engine.
            trt_cache.check_compatible(self.options.trt_cache_dir, self._engine_record)
        session_options = runtime.SessionOptions()
        session_options.log_severity_level = 3
        try:
            return runtime.InferenceSession(
                str(model_path), session_options, providers=[(name, opts) for name, opts in providers]
            )
        except Exception as error:
            raise DetectorUnavailable(f"detector model {model_path} could not be loaded: {error}") from error

    def _text_feeds(
        self, extra_inputs: list[tuple[str, list[Any]]], text_features: NDArray[np.float32] | None
    ) -> dict[str, Any]:
        """YOLO-World exported with a dynamic vocabulary takes the classes' CLIP text embeddings as a second input;
        they are computed once at build time and stored beside the model (`<model>.txt_feats.npy`)."""
        if not extra_inputs:
            return {}
        if len(extra_inputs) > 1:
            names = [name for name, _shape in extra_inputs]
            raise DetectorUnavailable(f"detector model has unexpected extra inputs {names}")
        features = text_features
        if features is None:
            path = self.model_path.with_name(self.model_path.stem + ".txt_feats.npy")
            if not path.exists():
                raise DetectorUnavailable(
                    f"detector model takes text features ({extra_inputs[0][0]}) but {path} does not exist; "
                    "export with `python -m sightline_host.vision.export`, which writes it"
                )
            features = np.load(path).astype(np.float32)
        if features.ndim == 2:
            features = features[None]
        if features.shape[1] != len(self.vocabulary.classes):
            raise DetectorUnavailable(
                f"text features hold {features.shape[1]} classes but the vocabulary names "
                f"{len(self.vocabulary.classes)}"
            )
        return {extra_inputs[0][0]: np.ascontiguousarray(features, dtype=np.float32)}

    def _run(self, tensor: NDArray[np.float32]) -> NDArray[np.float32]:
        feeds = {self._image_input: tensor, **self._extra_feeds}
        if self._torch is not None:
            output = self._torch.run(feeds)
            check_layout(tuple(int(d) for d in output.shape), len(self.vocabulary.classes))
            return output
        with self._lock:
            outputs = self._session.run(None, feeds)
            if self._engine_record is not None and not self._engine_recorded and self.options.trt_cache_dir:
                # The provider builds the engine on the first run; record what it was built from.
                trt_cache.record(self.options.trt_cache_dir, self._engine_record)
                self._engine_recorded = True
        output = np.asarray(outputs[0], dtype=np.float32)
        check_layout(tuple(int(d) for d in output.shape), len(self.vocabulary.classes))
        return output

    def _detect_crop(self, rgb: NDArray[np.uint8], tile: Tile | None) -> RawDetections:
        crop = rgb if tile is None else rgb[tile.y : tile.y + tile.height, tile.x : tile.x + tile.width]
        if self.pass_cache is None:
            return self._detect_pixels(crop, tile)
        key = (tile, pixel_key(crop))
        with self._lock:
            found = self.pass_cache.get(key)
        if found is None:
            found = self._detect_pixels(crop, tile)
            with self._lock:
                self.pass_cache.put(key, found)
        # Copies: whoever gets the boxes may change them, the remembered ones must stay as computed.
        return RawDetections(found.boxes.copy(), found.scores.copy(), found.class_ids.copy())

    def _detect_pixels(self, crop: NDArray[np.uint8], tile: Tile | None) -> RawDetections:
        tensor, placement = letterbox(crop, self.input_width, self.input_height)
        (found,) = decode(
            self._run(tensor), len(self.vocabulary.classes), self.options.score_threshold, self.options.iou_threshold
        )
        if not len(found):
            return found
        boxes = placement.to_source(found.boxes)
        if tile is not None:
            boxes[:, [0, 2]] += tile.x
            boxes[:, [1, 3]] += tile.y
        return RawDetections(boxes, found.scores, found.class_ids)

    def plan(self, width: int, height: int) -> list[Tile]:
        if not self.options.tiling:
            return []
        return plan_tiles(
            width, height, self.input_width, self.input_height, self.options.min_scale, self.options.overlap
        )

    def detect_raw(self, rgb: NDArray[np.uint8]) -> RawDetections:
        check_rgb(rgb)
        height, width = rgb.shape[:2]
        if width * height > MAX_PIXELS:
            raise BadImage(f"image is {width}x{height}; the detector accepts at most {MAX_PIXELS} pixels")
        passes = [self._detect_crop(rgb, None)]
        for tile in self.plan(width, height):
            passes.append(drop_cut_at_inner_edges(self._detect_crop(rgb, tile), tile, width, height))
        return merge_passes(passes, self.options.iou_threshold) if len(passes) > 1 else passes[0]

    def detect(self, rgb: NDArray[np.uint8]) -> list[Detection]:
        found = self.detect_raw(rgb)
        kinds = self.vocabulary.kinds
        out: list[Detection] = []
        for (x1, y1, x2, y2), score, class_id in zip(found.boxes, found.scores, found.class_ids, strict=True):
            if x2 - x1 <= 0 or y2 - y1 <= 0:
                continue
            out.append(
                Detection(
                    kind=kinds[int(class_id)],
                    label=self.vocabulary.classes[int(class_id)],
                    x=float(x1),
                    y=float(y1),
                    width=float(x2 - x1),
                    height=float(y2 - y1),
                    confidence=float(min(1.0, max(0.0, score))),
                )
            )
        return out


__all__ = [
    "BACKENDS",
    "BadImage",
    "Detection",
    "Detector",
    "DetectorOptions",
    "DetectorUnavailable",
    "OutputLayoutError",
    "choose_backend",
]
