"""Which ONNX Runtime execution providers a session gets, in the order TensorRT → CUDA → CPU, as available."""

from pathlib import Path
from typing import Any

PREFERENCE = ("TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider")

ProviderSpec = tuple[str, dict[str, Any]]


def choose_providers(
    available: list[str],
    trt_cache_dir: Path | None = None,
    fp16: bool = True,
    allow: tuple[str, ...] = PREFERENCE,
) -> list[ProviderSpec]:
    """The providers to ask for, best first, each with its options. CPU is always last, so a session never fails
    for want of a GPU. TensorRT is used only with an engine cache directory: without one every start would
    rebuild the engine (a minute or more)."""
    chosen: list[ProviderSpec] = []
    for name in PREFERENCE:
        if name not in available or name not in allow:
            continue
        if name == "TensorrtExecutionProvider":
            if trt_cache_dir is None:
                continue
            chosen.append((name, tensorrt_options(trt_cache_dir, fp16)))
        else:
            chosen.append((name, {}))
    if not any(name == "CPUExecutionProvider" for name, _ in chosen):
        chosen.append(("CPUExecutionProvider", {}))
    return chosen


def tensorrt_options(cache_dir: Path, fp16: bool) -> dict[str, Any]:
    return {
        "trt_engine_cache_enable": True,
        "trt_engine_cache_path": str(cache_dir),
        # The timing cache makes a rebuild (new TensorRT, new vocabulary) take seconds instead of minutes.
        "trt_timing_cache_enable": True,
        "trt_timing_cache_path": str(cache_dir),
        "trt_fp16_enable": fp16,
        "trt_max_workspace_size": 512 * 2**20,
    }
