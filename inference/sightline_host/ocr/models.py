"""The two PP-OCR networks behind one small interface, on ONNX Runtime (CPU) or PyTorch (any GPU it sees).

Both take uint8 BGR pixels and normalize them themselves, so the PyTorch path uploads a quarter of the bytes and
normalizes on the GPU. Recognition returns each column's best class and its probability, never the (batch, columns,
6625) probabilities: on a GPU the reduction runs there and a few kilobytes come back.

SIGHTLINE_OCR_BACKEND=auto|onnxruntime|torch   auto (default): PyTorch where it sees a CUDA GPU, else ONNX Runtime
SIGHTLINE_OCR_DEVICE=cuda:1                     the PyTorch backend's device (default: the first GPU)
"""

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol, cast

import numpy as np
from numpy.typing import NDArray

from sightline_host.ocr.rec_batches import CPU_BUCKETING, GPU_BUCKETING, Bucketing

OcrBackend = Literal["auto", "onnxruntime", "torch"]
BACKENDS: tuple[OcrBackend, ...] = ("auto", "onnxruntime", "torch")


@dataclass(frozen=True)
class ModelFiles:
    det: Path
    rec: Path


class OcrModels(Protocol):
    description: str
    bucketing: Bucketing
    dictionary: str

    def det(self, bgr: NDArray[np.uint8]) -> NDArray[np.float32]:
        """The (H, W) text probability map of an (H, W, 3) image whose sides are multiples of 32."""
        ...

    def rec(self, pixels: NDArray[np.uint8], content: NDArray[np.int32]) -> tuple[NDArray[np.int64], NDArray[
            np.float32]]:  # fmt: skip
        """Per row of a (B, 48, W, 3) batch with `content` columns of pixels: each column's best class and its
        probability, (B, W / 8) each."""
        ...


def choose_backend(requested: str, torch_cuda: bool) -> Literal["onnxruntime", "torch"]:
    if requested not in BACKENDS:
        raise ValueError(f"unknown OCR backend {requested!r}; choose one of {', '.join(BACKENDS)}")
    if requested == "auto":
        return "torch" if torch_cuda else "onnxruntime"
    return cast(Literal["onnxruntime", "torch"], requested)


def backend_from_env() -> tuple[str, str | None]:
    backend = os.environ.get("SIGHTLINE_OCR_BACKEND", "auto").strip() or "auto"
    device = os.environ.get("SIGHTLINE_OCR_DEVICE", "").strip() or None
    return backend, device


def _dictionary(metadata: dict[str, str], path: Path) -> str:
    dictionary = metadata.get("character")
    if not dictionary:
        raise ValueError(f"{path.name} carries no character dictionary in its metadata")
    return dictionary


class OrtModels:
    """Both networks on ONNX Runtime's CPU provider. `graphs` names what `files` are, for the description.

    `spinning=False` (default) stops the pool's idle threads from busy-waiting for the next node: the OCR shares the
    cores with the UI detector, which runs beside it, and with the desktop. On a 2-core VM busy with other work,
    spinning made the OCR cost 1.3-1.5x the CPU time and wall time (bench/results/observe-ocr-vm.json); with both
    cores free it gained nothing. `threads`: the intra-op pool's size (None: ONNX Runtime's, the physical cores;
    see `engine.cpu_threads_from_env`)."""

    def __init__(
        self, files: ModelFiles, threads: int | None = None, spinning: bool = False, graphs: str = "bundled graphs"
    ) -> None:
        from sightline_host.vision._ort import ort  # noqa: PLC0415 - ONNX Runtime takes seconds to import

        runtime = ort()
        options = runtime.SessionOptions()
        options.graph_optimization_level = runtime.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3
        if threads:
            options.intra_op_num_threads = threads
        if not spinning:
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        providers = ["CPUExecutionProvider"]
        self._det = runtime.InferenceSession(str(files.det), options, providers=providers)
        self._rec = runtime.InferenceSession(str(files.rec), options, providers=providers)
        self.dictionary = _dictionary(self._rec.get_modelmeta().custom_metadata_map, files.rec)
        self.bucketing = CPU_BUCKETING
        self.description = f"ONNX Runtime {runtime.__version__}, CPU, {graphs}" + ("" if spinning else ", no spinning")
        if threads:
            self.description += f", {threads} thread" + ("" if threads == 1 else "s")

    def det(self, bgr: NDArray[np.uint8]) -> NDArray[np.float32]:
        x = (bgr.astype(np.float32).transpose(2, 0, 1)[None] / 127.5 - 1.0).astype(np.float32)
        out: NDArray[np.float32] = self._det.run(None, {"x": x})[0][0, 0]
        return out

    def rec(self, pixels: NDArray[np.uint8], content: NDArray[np.int32]) -> tuple[NDArray[np.int64], NDArray[
            np.float32]]:  # fmt: skip
        from sightline_host.ocr.rec_batches import normalize  # noqa: PLC0415

        probs: NDArray[np.float32] = self._rec.run(None, {"x": normalize(pixels, content)})[0]
        return probs.argmax(axis=2).astype(np.int64), probs.max(axis=2)


class TorchModels:
    """Both networks through `onnx_torch` on a GPU, each shape captured once as a CUDA graph. Both run in half
    precision (`rec_fp16=False`: the recognizer in float32, about 20 % slower on an H100 and no more accurate on
    the synthetic screens, bench/observe.py --ocr-variants)."""

    def __init__(self, files: ModelFiles, device: str | None = None, rec_fp16: bool = True) -> None:
        from sightline_host.vision.torch_backend import TorchRunner, _torch  # noqa: PLC0415 - optional, heavy

        self._torch = _torch()
        self._det = TorchRunner(files.det, device, fp16=True)
        self._rec = TorchRunner(files.rec, device, fp16=rec_fp16)
        self.device = self._det.device
        self.dictionary = _dictionary(self._rec.model.metadata, files.rec)
        self.bucketing = GPU_BUCKETING if self.device.type == "cuda" else CPU_BUCKETING
        rec = "fp16" if self._rec.model.dtype == self._torch.float16 else "fp32"
        self.description = f"{self._det.description} (recognizer {rec})" + (
            ", CUDA graphs" if self.device.type == "cuda" else ""
        )

    def _upload(self, pixels: NDArray[np.uint8], dtype: Any) -> Any:
        """(B, H, W, 3) uint8 → (B, 3, H, W) in [-1, 1] on the device."""
        torch = self._torch
        raw = torch.from_numpy(np.ascontiguousarray(pixels))
        if self.device.type == "cuda":
            raw = raw.pin_memory().to(self.device, non_blocking=True)
        return raw.permute(0, 3, 1, 2).to(dtype).mul_(1 / 127.5).sub_(1.0).contiguous()

    def det(self, bgr: NDArray[np.uint8]) -> NDArray[np.float32]:
        x = self._upload(bgr[None], self._det.model.dtype)
        out: NDArray[np.float32] = self._det.run_with({"x": x}, lambda outs: outs[0][0, 0].float().cpu().numpy())
        return out

    def rec(self, pixels: NDArray[np.uint8], content: NDArray[np.int32]) -> tuple[NDArray[np.int64], NDArray[
            np.float32]]:  # fmt: skip
        torch = self._torch
        x = self._upload(pixels, self._rec.model.dtype)
        columns = torch.arange(pixels.shape[2], device=self.device)
        inside = columns[None, :] < torch.from_numpy(content).to(self.device)[:, None]
        x.mul_(inside[:, None, None, :].to(x.dtype))

        def best(outs: list[Any]) -> tuple[NDArray[np.int64], NDArray[np.float32]]:
            prob, index = outs[0].max(dim=2)
            return index.cpu().numpy().astype(np.int64), prob.float().cpu().numpy()

        return self._rec.run_with({"x": x}, best)
