"""Loads a planner into the host's own engine: the checkpoint (safetensors folder or GGUF file) into the
engine's fused layout, optionally INT4, with the CUDA-graph loop on a GPU and the PyTorch loop on the CPU;
split over several GPUs (one process each, see tensor_parallel_group.py) when the profile says so."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sightline_host.planner.builtin_engine import BuiltinPlannerEngine
from sightline_host.planner.chat_types import EngineError

if TYPE_CHECKING:
    import torch

    from sightline_host.engine.llama import LlamaDecoder, LlamaShape, WeightSource
    from sightline_host.engine.tensor_parallel import TensorParallel
    from sightline_host.engine.token_loop import GraphLoop, TokenLoop

_QUANTIZE = ("none", "int4")
_DTYPES = ("bfloat16", "float16", "float32")


@dataclass(frozen=True)
class PlannerLoad:
    """What each rank needs to load its part of the planner; a follower process receives it pickled."""

    model_id: str
    path: Path
    on_gpu: bool
    dtype: str
    quantize: str
    context: int
    prefix_cache_tokens: int
    world: int = 1

    def device(self, rank: int = 0) -> torch.device:
        import torch  # noqa: PLC0415

        return torch.device("cuda", rank) if self.on_gpu else torch.device("cpu")

    def torch_dtype(self) -> torch.dtype:
        import torch  # noqa: PLC0415

        dtype: torch.dtype = getattr(torch, self.dtype)
        return dtype


def planner_load(
    model_id: str, path: Path, args: Mapping[str, Any], device: str, context: int, tensor_parallel: int = 1
) -> PlannerLoad:
    """Checks the settings before anything loads. `args` (the manifest's runtime args): `dtype` (bfloat16 /
    float16 / float32), `quantize` ("none" or "int4": group-128 weight-only, made at load time),
    `prefix_cache_tokens` (the block store's size)."""
    import torch  # noqa: PLC0415  (PyTorch is an optional dependency of the host)

    if device == "any":
        device = "gpu" if torch.cuda.is_available() else "cpu"
    on_gpu = device in ("gpu", "cuda") or device.startswith("cuda:")
    if on_gpu and not torch.cuda.is_available():
        raise EngineError(
            "model_unavailable",
            f"{model_id} runs on a GPU and PyTorch sees none here; pick a CPU profile such as `embedded`.",
            503,
        )
    if on_gpu and tensor_parallel > torch.cuda.device_count():
        raise EngineError(
            "model_unavailable",
            f"{model_id} is split over {tensor_parallel} GPUs and PyTorch sees {torch.cuda.device_count()}; "
            "set `parallel: {tensor: N}` in the profile to the GPUs this machine has.",
            503,
        )
    quantize = str(args.get("quantize", "none"))
    if quantize not in _QUANTIZE:
        raise EngineError("model_unavailable", f"{model_id}: unknown quantize {quantize!r} (known: {_QUANTIZE})", 503)
    if quantize != "none" and not on_gpu:
        raise EngineError("model_unavailable", f"{model_id}: INT4 runs on the GPU only; set quantize: none", 503)
    dtype = str(args.get("dtype", "bfloat16" if on_gpu else "float32"))
    if dtype not in _DTYPES:
        raise EngineError("model_unavailable", f"{model_id}: unknown dtype {dtype!r}", 503)
    prefix_cache_tokens = int(args.get("prefix_cache_tokens", 8192))
    return PlannerLoad(model_id, Path(path), on_gpu, dtype, quantize, context, prefix_cache_tokens, tensor_parallel)


def load_builtin_planner(
    model_id: str,
    path: Path,
    args: Mapping[str, Any],
    device: str,
    context: int,
    tensor_parallel: int = 1,
) -> BuiltinPlannerEngine:
    from sightline_host.engine.checkpoint import CheckpointError, load_checkpoint  # noqa: PLC0415

    load = planner_load(model_id, path, args, device, context, tensor_parallel)
    try:
        checkpoint = load_checkpoint(load.path, load.device(), load.torch_dtype())  # lazy: reads no weights yet
    except CheckpointError as error:
        raise EngineError("model_unavailable", f"{model_id} cannot be loaded: {error}", 503) from error
    loop: TokenLoop
    if load.world == 1:
        loop = make_loop(load, build_shard(load, checkpoint.shape, checkpoint.weights, None))
    else:
        from sightline_host.planner.tensor_parallel_group import start_tensor_parallel  # noqa: PLC0415

        _check_split(load, checkpoint.shape)  # before any process starts
        loop = start_tensor_parallel(load, checkpoint.shape, checkpoint.weights)
    return BuiltinPlannerEngine(model_id, loop, checkpoint.tokenizer, checkpoint.eos_token_ids, context)


def _check_split(load: PlannerLoad, shape: LlamaShape) -> None:
    reasons = [
        f"{name} ({size}) does not divide by TP={load.world}"
        for name, size in (
            ("attention heads", shape.num_heads),
            ("KV heads", shape.num_kv_heads),
            ("the MLP width", shape.intermediate_size),
            ("the vocabulary", shape.vocab_size),
        )
        if size % load.world
    ]
    if reasons:
        raise EngineError(
            "model_unavailable",
            f"{load.model_id} cannot be split over {load.world} GPUs: " + "; ".join(reasons) + ". "
            "Pick a tensor-parallel size that divides them, or serve it with `serve: {engine: vllm}`.",
            503,
        )


def build_shard(load: PlannerLoad, shape: LlamaShape, weights: WeightSource, tp: TensorParallel | None) -> LlamaDecoder:
    """This rank's part of the model in the engine's fused layout (all of it without `tp`)."""
    import torch  # noqa: PLC0415

    from sightline_host.engine.llama import build_decoder  # noqa: PLC0415

    try:
        with torch.no_grad():  # not inference_mode: the decode graphs update these tensors in place later
            return build_decoder(shape, weights, max_seq=load.context, quantize=load.quantize, tp=tp)
    except ValueError as error:  # a layout the quantized kernels do not take (INT4 wants K in multiples of 1024)
        raise EngineError(
            "model_unavailable", f"{load.model_id} cannot be loaded as {load.quantize}: {error}", 503
        ) from error


def make_loop(load: PlannerLoad, decoder: LlamaDecoder) -> TokenLoop:
    """The token loop over `decoder`; under tensor parallelism every rank makes it at the same time (the GPU
    loop's warm-up and graph capture run the step's collectives)."""
    if load.on_gpu:
        return _graph_loop(decoder, load.quantize, load.prefix_cache_tokens)
    import torch  # noqa: PLC0415

    from sightline_host.engine.token_loop import EagerLoop  # noqa: PLC0415
    from sightline_host.planner.cpu_threads import default_threads  # noqa: PLC0415

    torch.set_num_threads(max(1, default_threads() // load.world))
    return EagerLoop(decoder)


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
