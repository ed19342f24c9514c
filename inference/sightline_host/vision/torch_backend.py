"""The detector's PyTorch path: the same ONNX model run on any device PyTorch sees (`onnx_torch`), or a TorchScript
export of it (Ultralytics' `format="torchscript"`, which the build command can also write).

On CUDA the whole pass is captured once in a CUDA graph and replayed: a YOLO-World graph is a few hundred small
kernels, and launching them one by one from Python would cost more than running them. Half precision on a GPU, as
the TensorRT engine uses; float32 on the CPU.

PyTorch is imported here only, and only when this path is chosen: the host does not depend on it.
"""

import importlib
import importlib.util
import json
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from numpy.typing import NDArray

from sightline_host.vision.onnx_torch import OnnxTorchGraph, TensorSpec, UnsupportedGraph

TORCHSCRIPT_SUFFIXES = (".torchscript", ".ts")
T = TypeVar("T")


class TorchPathUnavailable(Exception):
    """The PyTorch path cannot run here; the message says why."""


def torch_installed() -> bool:
    return importlib.util.find_spec("torch") is not None


def _torch() -> Any:
    try:
        return importlib.import_module("torch")
    except ImportError as error:
        raise TorchPathUnavailable(
            "the PyTorch detector path needs PyTorch (pip install torch) and, for .onnx models, onnx"
        ) from error


def _no_gpu_device_node() -> bool:
    """True where Linux shows no NVIDIA (or AMD ROCm) device at all: then there is no GPU for PyTorch either, and
    asking it would import PyTorch (seconds, hundreds of MB) into a CPU-only host for nothing."""
    return sys.platform == "linux" and not (Path("/dev/nvidiactl").exists() or Path("/dev/kfd").exists())


def cuda_usable() -> bool:
    """A CUDA device PyTorch can use. Imports PyTorch only where it is installed and a GPU device may exist."""
    if not torch_installed() or _no_gpu_device_node():
        return False
    return bool(_torch().cuda.is_available())


@dataclass(frozen=True)
class ModelIO:
    metadata: dict[str, str]
    inputs: list[TensorSpec]
    output_shape: tuple[int | str | None, ...]


class _TorchScriptModel:
    """A TorchScript detector as Ultralytics exports it: `config.txt` inside the archive holds its metadata (class
    names, input size); the vocabulary's text embeddings are baked into the traced graph."""

    def __init__(self, path: Path, device: Any) -> None:
        torch = _torch()
        files = {"config.txt": ""}
        try:
            self.module = torch.jit.load(str(path), map_location=device, _extra_files=files)
        except Exception as error:
            raise UnsupportedGraph(f"{path} is not a loadable TorchScript model: {error}") from error
        self.module.eval()
        config: dict[str, Any] = json.loads(files["config.txt"] or "{}")
        self.metadata: dict[str, str] = {}
        names = config.get("names")
        if isinstance(names, dict):
            # JSON turned Ultralytics' {0: 'button'} into {"0": "button"}; the vocabulary reader wants the literal.
            self.metadata["names"] = repr({int(k): str(v) for k, v in names.items()})
        elif isinstance(names, list):
            self.metadata["names"] = repr([str(v) for v in names])
        imgsz = config.get("imgsz") or [640, 640]
        height, width = (int(imgsz), int(imgsz)) if isinstance(imgsz, int) else (int(imgsz[0]), int(imgsz[1]))
        self.inputs = [TensorSpec("images", (1, 3, height, width))]
        self.outputs = [TensorSpec("output0", (1, None, None))]
        self.device = device
        # Traced constants (the text embeddings) are float32 whatever the weights are: the module runs in float32.
        self.dtype = torch.float32

    def to_device(self, array: NDArray[Any]) -> Any:
        return _torch().from_numpy(np.ascontiguousarray(array)).to(self.device, self.dtype)

    def run_tensors(self, feeds: dict[str, Any]) -> list[Any]:
        out = self.module(*feeds.values())
        return list(out) if isinstance(out, list | tuple) else [out]


class TorchRunner:
    """Runs one detector model through PyTorch; `run` takes and returns numpy, like an ONNX Runtime session."""

    def __init__(self, model_path: Path, device: str | None = None, fp16: bool = True, cuda_graph: bool = True) -> None:
        torch = _torch()
        name = device or ("cuda" if torch.cuda.is_available() else "cpu")
        try:
            self.device = torch.device(name)
        except RuntimeError as error:
            raise TorchPathUnavailable(f"PyTorch does not know the device {name!r}: {error}") from error
        if self.device.type == "cuda" and not torch.cuda.is_available():
            raise TorchPathUnavailable(f"device {name} asked for, but PyTorch sees no CUDA GPU")
        self.model: OnnxTorchGraph | _TorchScriptModel
        if model_path.suffix in TORCHSCRIPT_SUFFIXES:
            self.model = _TorchScriptModel(model_path, self.device)
        else:
            self.model = OnnxTorchGraph(model_path, str(self.device), fp16)
        self.io = ModelIO(self.model.metadata, self.model.inputs, self.model.outputs[0].shape)
        self._use_graph = cuda_graph and self.device.type == "cuda"
        self._graphs: dict[tuple[tuple[int, ...], ...], tuple[Any, dict[str, Any], list[Any]]] = {}
        self.graph_error: str | None = None
        self._pool: Any = None
        self._lock = threading.Lock()
        where = str(self.device)
        if self.device.type == "cuda":
            where += f" ({torch.cuda.get_device_name(self.device)})"
        precision = "fp16" if self.model.dtype == torch.float16 else "fp32"
        self.description = f"PyTorch {torch.__version__} on {where}, {precision}"

    @property
    def providers(self) -> list[str]:
        graph = ", CUDA graph" if self._use_graph and self.graph_error is None else ""
        return [f"{self.description}{graph}"]

    def _capture(self, feeds: dict[str, Any]) -> tuple[Any, dict[str, Any], list[Any]]:
        torch = _torch()
        static = {name: value.clone() for name, value in feeds.items()}
        side = torch.cuda.Stream(self.device)
        side.wait_stream(torch.cuda.current_stream(self.device))
        with torch.cuda.stream(side):
            # Warm-up on a side stream, as CUDA graph capture wants: cuDNN picks its kernels, the interpreter
            # computes the graph's static part.
            for _ in range(2):
                self.model.run_tensors(static)
        torch.cuda.current_stream(self.device).wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        if self._pool is None:
            self._pool = torch.cuda.graph_pool_handle()
        # One memory pool for every shape's graph (a recognizer has a dozen): a replay may overwrite what another
        # graph left in it, which is safe because replays run one at a time under the lock and each one's outputs
        # are read before the next.
        with torch.cuda.graph(graph, pool=self._pool):
            outputs = self.model.run_tensors(static)
        return graph, static, outputs

    def _run_tensors(self, feeds: dict[str, Any]) -> list[Any]:
        """Device tensors in and out; replays the captured CUDA graph where there is one. Call under the lock: a
        replay writes the same output buffers every time."""
        torch = _torch()
        if not self._use_graph:
            return self.model.run_tensors(feeds)
        key = tuple(tuple(int(d) for d in value.shape) for value in feeds.values())
        captured = self._graphs.get(key)
        if captured is None:
            try:
                captured = self._capture(feeds)
            except Exception as error:
                # Some op read a device value on the host (a data-dependent shape): run without a graph.
                self.graph_error = f"CUDA graph capture failed, running eagerly: {error}"
                self._use_graph = False
                torch.cuda.synchronize(self.device)
                return self.model.run_tensors(feeds)
            self._graphs[key] = captured
        graph, static, outputs = captured
        for name, value in feeds.items():
            static[name].copy_(value)
        graph.replay()
        return outputs

    def run_with(self, feeds: dict[str, Any], finish: Callable[[list[Any]], T]) -> T:
        """Device tensors in (already in the model's dtype); `finish` gets the outputs while they are still valid
        (a CUDA graph's replay overwrites them) and returns what to keep, say a reduction copied to the host."""
        torch = _torch()
        with self._lock, torch.no_grad():
            return finish(self._run_tensors(feeds))

    def run(self, feeds: dict[str, NDArray[Any]]) -> NDArray[np.float32]:
        """The model's first output for numpy inputs, as float32 numpy."""
        torch = _torch()
        with self._lock, torch.no_grad():
            tensors = {name: self.model.to_device(array) for name, array in feeds.items()}
            output = self._run_tensors(tensors)[0]
            return np.asarray(output.float().cpu().numpy(), dtype=np.float32)
