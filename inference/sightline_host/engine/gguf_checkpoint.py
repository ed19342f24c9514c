"""GGUF checkpoints (llama.cpp's format) of the llama architecture, Mistral's included, for the engine.

Tensors stay in the memory-mapped file and are dequantized to float32 one per call, then cast: the engine
computes in 16 bits (or re-quantizes to its own INT4), so nothing of the GGUF quantization format survives.
llama.cpp's converter interleaves the rows of each Q and K head for its RoPE layout; they are put back in
transformers' order here, as transformers' own GGUF loader does.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gguf
import numpy as np
import torch
from transformers import AutoTokenizer

from sightline_host.engine.checkpoint import (
    EMBED,
    LM_HEAD,
    Checkpoint,
    CheckpointError,
    checked_tokenizer,
    eos_ids,
    tied_embeddings,
)
from sightline_host.engine.gguf_tokenizer_cache import cached_tokenizer
from sightline_host.engine.llama import LlamaShape, RopeFreqFactors, WeightSource

LAYER_NAMES = {  # GGUF blk.N.<key> -> transformers model.layers.N.<value>
    "attn_norm.weight": "input_layernorm.weight",
    "attn_q.weight": "self_attn.q_proj.weight",
    "attn_k.weight": "self_attn.k_proj.weight",
    "attn_v.weight": "self_attn.v_proj.weight",
    "attn_output.weight": "self_attn.o_proj.weight",
    "ffn_norm.weight": "post_attention_layernorm.weight",
    "ffn_gate.weight": "mlp.gate_proj.weight",
    "ffn_up.weight": "mlp.up_proj.weight",
    "ffn_down.weight": "mlp.down_proj.weight",
}
ROPE_FREQS = "rope_freqs.weight"
# Ids llama.cpp also ends a turn on (end of turn, end of message), besides end of sequence.
EOS_KEYS = ("tokenizer.ggml.eos_token_id", "tokenizer.ggml.eot_token_id", "tokenizer.ggml.eom_token_id")


def gguf_weights(
    path: Path, device: torch.device, dtype: torch.dtype
) -> tuple[gguf.GGUFReader, LlamaShape, WeightSource]:
    try:
        reader = gguf.GGUFReader(path)
    except (ValueError, OSError) as error:
        raise CheckpointError(f"{path}: not a readable GGUF file: {error}") from error
    tensors = {t.name: t for t in reader.tensors}
    shape = _shape(reader, tensors, path)
    names = _transformers_names(shape, tensors, path)
    weights = _source(path, tensors, names, shape, device, dtype)
    return reader, shape, tied_embeddings(weights) if "output.weight" not in tensors else weights


def load_gguf(path: Path, device: torch.device, dtype: torch.dtype) -> Checkpoint:
    reader, shape, weights = gguf_weights(path, device, dtype)

    def convert() -> Any:
        try:
            tokenizer = AutoTokenizer.from_pretrained(path.parent, gguf_file=path.name)
        except (ValueError, KeyError, OSError) as error:
            raise CheckpointError(f"{path}: its tokenizer does not convert: {error}") from error
        template = _field(reader, "tokenizer.chat_template")
        if template and not tokenizer.chat_template:
            tokenizer.chat_template = template
        return tokenizer

    tokenizer = cached_tokenizer(path, convert)
    checked = checked_tokenizer(tokenizer, path)
    return Checkpoint(
        shape,
        weights,
        checked,
        eos_ids(*(_field(reader, key) for key in EOS_KEYS), checked.eos_token_id),
    )


def _field(reader: gguf.GGUFReader, key: str) -> Any:
    field = reader.fields.get(key)
    return field.contents() if field is not None else None


def _shape(reader: gguf.GGUFReader, tensors: dict[str, Any], path: Path) -> LlamaShape:
    arch = _field(reader, "general.architecture")
    if arch != "llama":
        raise CheckpointError(f"{path}: GGUF architecture {arch!r} is not supported (only 'llama')")

    def number(key: str, default: float | None = None) -> Any:
        value = _field(reader, f"llama.{key}")
        if value is None and default is None:
            raise CheckpointError(f"{path}: GGUF metadata llama.{key} is missing")
        return default if value is None else value

    if number("expert_count", 0):
        raise CheckpointError(f"{path}: mixture-of-experts models (llama.expert_count) are not supported")
    scaling = _field(reader, "llama.rope.scaling.type")
    if scaling not in (None, "none"):
        raise CheckpointError(f"{path}: rope scaling {scaling!r} is not supported (only llama 3's rope_freqs)")
    for name in tensors:
        if name.endswith(".bias"):
            raise CheckpointError(f"{path}: tensor {name} is a bias; the engine's layers have none")
    if "token_embd.weight" not in tensors:
        raise CheckpointError(f"{path}: tensor token_embd.weight is missing")
    hidden, heads = int(number("embedding_length")), int(number("attention.head_count"))
    head_dim = hidden // heads
    for key in ("rope.dimension_count", "attention.key_length", "attention.value_length"):
        if int(number(key, head_dim)) != head_dim:
            raise CheckpointError(
                f"{path}: llama.{key} {number(key)} is not embedding_length / head_count ({head_dim}), which the "
                "engine assumes"
            )
    freqs = tensors.get(ROPE_FREQS)
    factors = RopeFreqFactors(tuple(float(f) for f in _dequantize(freqs))) if freqs is not None else None
    if factors is not None and len(factors.factors) != head_dim // 2:
        raise CheckpointError(f"{path}: {ROPE_FREQS} has {len(factors.factors)} factors, not {head_dim // 2}")
    return LlamaShape(
        vocab_size=int(tensors["token_embd.weight"].shape[1]),  # GGUF lists dimensions innermost first
        hidden_size=hidden,
        intermediate_size=int(number("feed_forward_length")),
        num_layers=int(number("block_count")),
        num_heads=heads,
        num_kv_heads=int(number("attention.head_count_kv", heads)),
        rope_theta=float(number("rope.freq_base", 10_000.0)),
        rms_norm_eps=float(number("attention.layer_norm_rms_epsilon")),
        rope_scaling=factors,
    )


def _transformers_names(shape: LlamaShape, tensors: dict[str, Any], path: Path) -> dict[str, str]:
    """transformers name -> GGUF name for every tensor the engine reads, each checked present in its shape."""
    names = {EMBED: "token_embd.weight", "model.norm.weight": "output_norm.weight"}
    if "output.weight" in tensors:
        names[LM_HEAD] = "output.weight"
    for n in range(shape.num_layers):
        names |= {f"model.layers.{n}.{hf}": f"blk.{n}.{key}" for key, hf in LAYER_NAMES.items()}
    expected = shape.parameter_shapes()
    for hf, name in names.items():
        if name not in tensors:
            raise CheckpointError(f"{path}: tensor {name} is missing")
        found = tuple(int(d) for d in reversed(tensors[name].shape))
        if found != expected[hf]:
            raise CheckpointError(f"{path}: tensor {name} has shape {list(found)}, expected {list(expected[hf])}")
    for name in sorted(set(tensors) - set(names.values()) - {ROPE_FREQS}):
        raise CheckpointError(f"{path}: tensor {name} has no place in the llama architecture")
    return names


def _dequantize(tensor: Any) -> np.ndarray[Any, np.dtype[np.float32]]:
    values = gguf.quants.dequantize(tensor.data, tensor.tensor_type)
    shape = tuple(int(d) for d in reversed(tensor.shape))
    # Unquantized tensors come back as read-only views of the mapped file: copy before torch owns them.
    return values.astype(np.float32, copy=not values.flags.writeable).reshape(shape)


def _unpermute(weight: torch.Tensor, heads: int) -> torch.Tensor:
    """Undoes llama.cpp's per-head row order (the two halves of each head interleaved) for Q and K."""
    rows, cols = weight.shape
    return weight.view(heads, rows // heads // 2, 2, cols).transpose(1, 2).reshape(rows, cols)


def _source(
    path: Path,
    tensors: dict[str, Any],
    names: dict[str, str],
    shape: LlamaShape,
    device: torch.device,
    dtype: torch.dtype,
) -> WeightSource:
    def weight(name: str) -> torch.Tensor:
        if name not in names:
            raise CheckpointError(f"{path}: no tensor {name}")
        values = torch.from_numpy(_dequantize(tensors[names[name]]))
        if name.endswith("q_proj.weight"):
            values = _unpermute(values, shape.num_heads)
        elif name.endswith("k_proj.weight"):
            values = _unpermute(values, shape.num_kv_heads)
        return values.to(device=device, dtype=dtype)

    return weight
