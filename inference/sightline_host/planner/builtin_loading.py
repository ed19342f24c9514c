"""Loads a planner into the host's own engine: the checkpoint (safetensors folder or GGUF file) into the
engine's fused layout, optionally INT4, with the CUDA-graph loop on a GPU and the PyTorch loop on the CPU."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sightline_host.planner.builtin_engine import BuiltinPlannerEngine
from sightline_host.planner.chat_types import EngineError

if TYPE_CHECKING:
    from sightline_host.engine.llama import LlamaDecoder
    from sightline_host.engine.token_loop import GraphLoop, TokenLoop

_QUANTIZE = ("none", "int4")


def load_builtin_planner(
    model_id: str,
    path: Path,
    args: Mapping[str, Any],
    device: str,
    context: int,
    tensor_parallel: int = 1,
) -> BuiltinPlannerEngine:
    """`args` (the manifest's runtime args): `dtype` (bfloat16 / float16 / float32), `quantize` ("none" or
    "int4": group-128 weight-only, made at load time), `prefix_cache_tokens` (the block store's size)."""
    import torch  # noqa: PLC0415  (PyTorch is an optional dependency of the host)

    from sightline_host.engine.checkpoint import CheckpointError, load_checkpoint  # noqa: PLC0415
    from sightline_host.engine.llama import build_decoder  # noqa: PLC0415

    if tensor_parallel > 1:
        raise EngineError(
            "model_unavailable",
            f"{model_id} is assigned {tensor_parallel} GPUs; the built-in engine serves one GPU inside the host. "
            "Serve it with `serve: {engine: vllm}` in the profile, or set `parallel: {tensor: 1}`.",
            503,
        )
    if device == "any":
        device = "gpu" if torch.cuda.is_available() else "cpu"
    on_gpu = device in ("gpu", "cuda") or device.startswith("cuda:")
    if on_gpu and not torch.cuda.is_available():
        raise EngineError(
            "model_unavailable",
            f"{model_id} runs on a GPU and PyTorch sees none here; pick a CPU profile such as `embedded`.",
            503,
        )
    target = torch.device("cuda" if device == "gpu" else device) if on_gpu else torch.device("cpu")
    quantize = str(args.get("quantize", "none"))
    if quantize not in _QUANTIZE:
        raise EngineError("model_unavailable", f"{model_id}: unknown quantize {quantize!r} (known: {_QUANTIZE})", 503)
    if quantize != "none" and not on_gpu:
        raise EngineError("model_unavailable", f"{model_id}: INT4 runs on the GPU only; set quantize: none", 503)
    dtype_name = str(args.get("dtype", "bfloat16" if on_gpu else "float32"))
    dtype = {"bfloat16": torch.bfloat16, "float16": torch.float16, "float32": torch.float32}.get(dtype_name)
    if dtype is None:
        raise EngineError("model_unavailable", f"{model_id}: unknown dtype {dtype_name!r}", 503)

    try:
        checkpoint = load_checkpoint(path, target, dtype)
    except CheckpointError as error:
        raise EngineError("model_unavailable", f"{model_id} cannot be loaded: {error}", 503) from error
    try:
        with torch.no_grad():  # not inference_mode: the decode graphs update these tensors in place later
            decoder = build_decoder(checkpoint.shape, checkpoint.weights, max_seq=context, quantize=quantize)
    except ValueError as error:  # a layout the quantized kernels do not take (INT4 wants K in multiples of 1024)
        raise EngineError("model_unavailable", f"{model_id} cannot be loaded as {quantize}: {error}", 503) from error
    loop: TokenLoop
    if on_gpu:
        loop = _graph_loop(decoder, quantize, int(args.get("prefix_cache_tokens", 8192)))
    else:
        from sightline_host.engine.token_loop import EagerLoop  # noqa: PLC0415
        from sightline_host.planner.cpu_threads import default_threads  # noqa: PLC0415

        torch.set_num_threads(default_threads())
        loop = EagerLoop(decoder)
    return BuiltinPlannerEngine(model_id, loop, checkpoint.tokenizer, checkpoint.eos_token_ids, context)


def _graph_loop(decoder: LlamaDecoder, quantize: str, prefix_cache_tokens: int) -> GraphLoop:
    import torch  # noqa: PLC0415

    from sightline_host.engine.graph_decode import Engine  # noqa: PLC0415
    from sightline_host.engine.prefix_cache import PrefixCache  # noqa: PLC0415
    from sightline_host.engine.token_loop import GraphLoop  # noqa: PLC0415

    # Programmatic dependent launch pays on Hopper for the INT4 GEMVs (bench/results/planner-*.json: +3 %);
    # it is neutral for bf16 and absent before compute capability 9.
    decoder.pdl = quantize != "none" and torch.cuda.get_device_capability(decoder.embed.device)[0] >= 9
    cache = PrefixCache(decoder.k_cache, block=64, capacity_tokens=prefix_cache_tokens) if prefix_cache_tokens else None
    return GraphLoop(Engine(decoder, cache))
