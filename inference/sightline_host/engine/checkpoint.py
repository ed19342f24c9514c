"""Real checkpoints for the built-in engine: a Hugging Face folder (safetensors, one file or sharded) or a GGUF
file (gguf_checkpoint.py) becomes a `LlamaShape`, a lazy `WeightSource` and the model's tokenizer.

Everything the engine cannot run exactly (biases, sliding windows, other RoPE scalings, other architectures) is
refused up front with a `CheckpointError`: a checkpoint served with a silently dropped feature talks nonsense.
Tensors are read one per call, so peak memory is the built decoder plus one tensor.
"""

from __future__ import annotations

import json
import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors import safe_open
from transformers import AutoConfig, AutoTokenizer, PreTrainedTokenizerBase

from sightline_host.engine.llama import LlamaShape, WeightSource

ARCHITECTURES = ("LlamaForCausalLM", "MistralForCausalLM")
EMBED, LM_HEAD = "model.embed_tokens.weight", "lm_head.weight"
INDEX = "model.safetensors.index.json"
SINGLE = "model.safetensors"


class CheckpointError(Exception):
    """A checkpoint the engine cannot serve: the message names the path and what is unsupported or missing."""


@dataclass(frozen=True)
class Checkpoint:
    shape: LlamaShape
    weights: WeightSource  # transformers names -> tensor on the device in the dtype, read lazily, one per call
    tokenizer: PreTrainedTokenizerBase  # fast, with the model's chat template where the checkpoint has one
    eos_token_ids: tuple[int, ...]  # every id that ends a turn


def load_checkpoint(path: Path, device: str | torch.device, dtype: torch.dtype) -> Checkpoint:
    """`path`: a Hugging Face model folder or a `.gguf` file."""
    path = Path(path)
    if path.is_file() and path.suffix == ".gguf":
        from sightline_host.engine.gguf_checkpoint import load_gguf  # noqa: PLC0415 (gguf only when asked)

        return load_gguf(path, torch.device(device), dtype)
    if path.is_dir():
        return _load_folder(path, torch.device(device), dtype)
    raise CheckpointError(f"{path}: neither a model folder nor a .gguf file")


def load_weights(path: Path, device: str | torch.device, dtype: torch.dtype) -> tuple[LlamaShape, WeightSource]:
    """The shape and the weights without the tokenizer: what a tensor-parallel follower needs (the host process
    tokenizes), and the tokenizer is seconds of a GGUF's load."""
    path = Path(path)
    if path.is_file() and path.suffix == ".gguf":
        from sightline_host.engine.gguf_checkpoint import gguf_weights  # noqa: PLC0415

        _, shape, weights = gguf_weights(path, torch.device(device), dtype)
        return shape, weights
    if path.is_dir():
        _, shape, weights = _folder_weights(path, torch.device(device), dtype)
        return shape, weights
    raise CheckpointError(f"{path}: neither a model folder nor a .gguf file")


# ---- shared by both formats ---------------------------------------------------------------------------------
def tied_embeddings(source: WeightSource) -> WeightSource:
    """lm_head.weight is the embedding; while one of the two is still held, the other is the same tensor, so a
    tied model holds its largest matrix once."""
    held: list[weakref.ref[torch.Tensor]] = []

    def weight(name: str) -> torch.Tensor:
        if name not in (EMBED, LM_HEAD):
            return source(name)
        tensor = held[0]() if held else None
        if tensor is None:
            tensor = source(EMBED)
            held[:] = [weakref.ref(tensor)]
        return tensor

    return weight


def eos_ids(*candidates: Any) -> tuple[int, ...]:
    """The ids in order of first mention; each candidate is None, an id or a list of ids."""
    found: list[int] = []
    for candidate in candidates:
        values: Iterable[Any] = candidate if isinstance(candidate, list | tuple) else [candidate]
        found += [int(v) for v in values if v is not None and int(v) not in found]
    return tuple(found)


def checked_tokenizer(tokenizer: Any, path: Path) -> PreTrainedTokenizerBase:
    if not getattr(tokenizer, "is_fast", False):
        raise CheckpointError(f"{path}: the tokenizer is not a fast (tokenizers) one")
    assert isinstance(tokenizer, PreTrainedTokenizerBase)
    return tokenizer


# ---- a Hugging Face folder ----------------------------------------------------------------------------------
def _folder_weights(folder: Path, device: torch.device, dtype: torch.dtype) -> tuple[Any, LlamaShape, WeightSource]:
    if not (folder / "config.json").is_file():
        raise CheckpointError(f"{folder}: no config.json (expected a Hugging Face model folder or a .gguf file)")
    try:
        config = AutoConfig.from_pretrained(folder)
    except (ValueError, KeyError, OSError) as error:
        raise CheckpointError(f"{folder}: config.json does not load: {error}") from error
    shape = _shape(config, folder)
    tied = bool(getattr(config, "tie_word_embeddings", False))
    files = _tensor_files(folder)
    _check_tensors(folder, files, shape, tied)
    weights = _safetensors_source(folder, files, device, dtype)
    return config, shape, tied_embeddings(weights) if tied else weights


def _load_folder(folder: Path, device: torch.device, dtype: torch.dtype) -> Checkpoint:
    config, shape, weights = _folder_weights(folder, device, dtype)
    try:
        tokenizer = AutoTokenizer.from_pretrained(folder)
    except (ValueError, OSError, TypeError) as error:
        raise CheckpointError(f"{folder}: no tokenizer loads from the folder: {error}") from error
    generation = folder / "generation_config.json"
    generation_eos = json.loads(generation.read_text()).get("eos_token_id") if generation.is_file() else None
    checked = checked_tokenizer(tokenizer, folder)
    return Checkpoint(
        shape,
        weights,
        checked,
        eos_ids(getattr(config, "eos_token_id", None), generation_eos, checked.eos_token_id),
    )


def _shape(config: Any, folder: Path) -> LlamaShape:
    architectures = getattr(config, "architectures", None) or []
    model_type = getattr(config, "model_type", None)
    unsupported = [a for a in architectures if a not in ARCHITECTURES]
    if unsupported or (not architectures and model_type not in ("llama", "mistral")):
        named = ", ".join(unsupported) or f"model_type {model_type!r}"
        supported = ", ".join(ARCHITECTURES)
        raise CheckpointError(f"{folder}: architecture {named} is not supported (supported: {supported})")
    quantization = getattr(config, "quantization_config", None)
    if quantization:
        method = quantization.get("quant_method") if isinstance(quantization, dict) else quantization.quant_method
        raise CheckpointError(f"{folder}: pre-quantized checkpoints ({method}) are not supported, only 16/32-bit ones")
    for flag in ("attention_bias", "mlp_bias"):
        if getattr(config, flag, False):
            raise CheckpointError(f"{folder}: {flag} is set; the engine's layers have no biases")
    if getattr(config, "hidden_act", "silu") != "silu":
        raise CheckpointError(f"{folder}: hidden_act {config.hidden_act!r} is not supported (only 'silu')")
    window, context = getattr(config, "sliding_window", None), int(config.max_position_embeddings)
    if window is not None and int(window) < context:
        raise CheckpointError(
            f"{folder}: sliding-window attention ({window} of {context} positions) is not supported; "
            "the engine attends to the whole context"
        )
    head_dim = getattr(config, "head_dim", None)
    if head_dim is not None and int(head_dim) * config.num_attention_heads != config.hidden_size:
        raise CheckpointError(
            f"{folder}: head_dim {head_dim} is not hidden_size / num_attention_heads "
            f"({config.hidden_size} / {config.num_attention_heads}), which the engine assumes"
        )
    try:
        return LlamaShape.from_hf(config)
    except ValueError as error:
        raise CheckpointError(f"{folder}: {error} is not supported") from error


def _tensor_files(folder: Path) -> dict[str, Path]:
    """Tensor name -> the safetensors file holding it, as the index says (or the one file)."""
    index = folder / INDEX
    if index.is_file():
        weight_map: dict[str, str] = json.loads(index.read_text())["weight_map"]
        for shard in sorted(set(weight_map.values())):
            if not (folder / shard).is_file():
                raise CheckpointError(f"{folder}: shard {shard}, named in {INDEX}, is missing")
        return {name: folder / shard for name, shard in weight_map.items()}
    if (folder / SINGLE).is_file():
        with safe_open(folder / SINGLE, framework="pt") as f:
            return dict.fromkeys(f.keys(), folder / SINGLE)
    present = ", ".join(sorted(p.name for p in folder.iterdir() if p.suffix in (".bin", ".pt", ".pth"))) or "none"
    raise CheckpointError(f"{folder}: no {SINGLE} or {INDEX} (only safetensors are read; other weights: {present})")


def _check_tensors(folder: Path, files: dict[str, Path], shape: LlamaShape, tied: bool) -> None:
    """Every tensor the engine needs is present with its shape, and none it would ignore (a bias) is: read from
    the safetensors headers only."""
    found: dict[str, tuple[int, ...]] = {}
    for file in sorted(set(files.values())):
        with safe_open(file, framework="pt") as f:
            found |= {name: tuple(f.get_slice(name).get_shape()) for name in f.keys()}  # noqa: SIM118
    expected = shape.parameter_shapes()
    if tied:
        expected.pop(LM_HEAD)
    for name, file in files.items():
        if name not in found:
            raise CheckpointError(f"{folder}: tensor {name} is not in {file.name}, where {INDEX} puts it")
    for name in sorted(found):
        if name.endswith(".bias"):
            raise CheckpointError(f"{folder}: tensor {name} is a bias; the engine's layers have none")
        if name not in expected and not (tied and name == LM_HEAD) and not name.endswith("rotary_emb.inv_freq"):
            raise CheckpointError(f"{folder}: tensor {name} has no place in the Llama architecture")
    for name, size in expected.items():
        if name not in found:
            raise CheckpointError(f"{folder}: tensor {name} is missing")
        if found[name] != size:
            raise CheckpointError(f"{folder}: tensor {name} has shape {list(found[name])}, expected {list(size)}")


def _safetensors_source(folder: Path, files: dict[str, Path], device: torch.device, dtype: torch.dtype) -> WeightSource:
    if device.type == "cuda" and device.index is None:
        device = torch.device("cuda", torch.cuda.current_device())
    where = str(device)

    def weight(name: str) -> torch.Tensor:
        if name not in files:
            raise CheckpointError(f"{folder}: no tensor {name}")
        # Opened per tensor: only the header is parsed, and nothing stays mapped once the model is built.
        with safe_open(files[name], framework="pt", device=where) as f:
            return f.get_tensor(name).to(dtype)

    return weight
