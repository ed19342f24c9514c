"""A Llama-architecture decoder (Llama 3, Qwen 2 without biases) laid out for fast single-stream decode.

Weights live in a few large fused matrices per layer (QKV, gate+up), bf16 or weight-only INT4
(`triton_gemv.PackedInt4`). Two paths share them and one static KV cache:

* `prefill` (a prompt, or the part of it the prefix cache did not hold): plain PyTorch, cuBLAS matrix
  products (INT4 layers are dequantized into one scratch buffer first) and flash attention.
* `step` (one new token): 5 fused Triton kernels per layer reading the position from a device tensor, so a
  CUDA graph captures the whole step once and replays it for every token.

With a `TensorParallel` the decoder holds this rank's shard (see tensor_parallel.py).
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeAlias

import torch
import torch.nn.functional as F

from sightline_host.engine.tensor_parallel import TensorParallel
from sightline_host.engine.triton_decode import DecodeAttention, embed_row
from sightline_host.engine.triton_gemv import PackedInt4, dequantize_int4, gemv, pack_int4

Weight: TypeAlias = torch.Tensor | PackedInt4
WeightSource: TypeAlias = Callable[[str], torch.Tensor]  # transformers parameter name -> the full tensor, on the GPU


@dataclass(frozen=True)
class Llama3RopeScaling:
    """Llama 3.1's RoPE scaling (transformers' rope_type "llama3"): long wavelengths are stretched by `factor`,
    short ones kept, the band between interpolated, so the model reaches past its pretraining context."""

    factor: float
    low_freq_factor: float
    high_freq_factor: float
    original_max_position_embeddings: int

    def scale(self, inv_freq: torch.Tensor) -> torch.Tensor:
        # Step for step as transformers' `_compute_llama3_parameters`, so the float32 rounding matches too.
        old_context_len = self.original_max_position_embeddings
        low_freq_wavelen = old_context_len / self.low_freq_factor
        high_freq_wavelen = old_context_len / self.high_freq_factor
        wavelen = 2 * math.pi / inv_freq
        inv_freq_llama = torch.where(wavelen > low_freq_wavelen, inv_freq / self.factor, inv_freq)
        smooth = (old_context_len / wavelen - self.low_freq_factor) / (self.high_freq_factor - self.low_freq_factor)
        smoothed = (1 - smooth) * inv_freq_llama / self.factor + smooth * inv_freq_llama
        is_medium = ~(wavelen < high_freq_wavelen) * ~(wavelen > low_freq_wavelen)
        return torch.where(is_medium, smoothed, inv_freq_llama)


@dataclass(frozen=True)
class RopeFreqFactors:
    """The same scaling as llama.cpp stores it: GGUF conversions of Llama 3.1 carry no scaling parameters, only
    each frequency's divisor (the `rope_freqs` tensor)."""

    factors: tuple[float, ...]

    def scale(self, inv_freq: torch.Tensor) -> torch.Tensor:
        return inv_freq / torch.tensor(self.factors, device=inv_freq.device, dtype=inv_freq.dtype)


RopeScaling: TypeAlias = Llama3RopeScaling | RopeFreqFactors


@dataclass(frozen=True)
class LlamaShape:
    vocab_size: int
    hidden_size: int
    intermediate_size: int
    num_layers: int
    num_heads: int
    num_kv_heads: int
    rope_theta: float = 500_000.0
    rms_norm_eps: float = 1e-5
    rope_scaling: RopeScaling | None = None

    @property
    def head_dim(self) -> int:
        return self.hidden_size // self.num_heads

    @staticmethod
    def llama3_8b() -> LlamaShape:
        return LlamaShape(128_256, 4096, 14_336, 32, 32, 8)

    @staticmethod
    def from_manifest(manifest: Any, rope_theta: float = 500_000.0) -> LlamaShape:
        a = manifest.architecture
        return LlamaShape(
            a.vocab_size, a.hidden_size, a.intermediate_size, a.layers, a.attention_heads, a.kv_heads, rope_theta
        )

    @staticmethod
    def from_hf(config: Any) -> LlamaShape:
        return LlamaShape(
            config.vocab_size,
            config.hidden_size,
            config.intermediate_size,
            config.num_hidden_layers,
            config.num_attention_heads,
            config.num_key_value_heads,
            _rope_theta(config),
            float(config.rms_norm_eps),
            _rope_scaling(config),
        )

    def parameter_shapes(self) -> dict[str, tuple[int, ...]]:
        """transformers' LlamaForCausalLM parameter names and shapes."""
        h, d, i = self.hidden_size, self.head_dim, self.intermediate_size
        shapes: dict[str, tuple[int, ...]] = {"model.embed_tokens.weight": (self.vocab_size, h)}
        for n in range(self.num_layers):
            p = f"model.layers.{n}."
            shapes |= {
                p + "input_layernorm.weight": (h,),
                p + "self_attn.q_proj.weight": (self.num_heads * d, h),
                p + "self_attn.k_proj.weight": (self.num_kv_heads * d, h),
                p + "self_attn.v_proj.weight": (self.num_kv_heads * d, h),
                p + "self_attn.o_proj.weight": (h, self.num_heads * d),
                p + "post_attention_layernorm.weight": (h,),
                p + "mlp.gate_proj.weight": (i, h),
                p + "mlp.up_proj.weight": (i, h),
                p + "mlp.down_proj.weight": (h, i),
            }
        shapes |= {"model.norm.weight": (h,), "lm_head.weight": (self.vocab_size, h)}
        return shapes


def _rope_theta(config: Any) -> float:
    # transformers 5 moved it into `rope_parameters`; 4.x has it on the config.
    theta = getattr(config, "rope_theta", None)
    if theta is None:
        parameters = getattr(config, "rope_parameters", None) or {}
        theta = parameters.get("rope_theta", 10_000.0)
    return float(theta)


def _rope_scaling(config: Any) -> RopeScaling | None:
    """Raises ValueError for a scaling the engine does not implement: running it with plain RoPE would be wrong."""
    # transformers 5 keeps the scaling in `rope_parameters` (beside rope_theta); 4.x in `rope_scaling`, whose
    # older configs spell the type "type".
    parameters = getattr(config, "rope_parameters", None) or getattr(config, "rope_scaling", None) or {}
    rope_type = parameters.get("rope_type", parameters.get("type")) or "default"
    if float(parameters.get("partial_rotary_factor", 1.0)) != 1.0:
        raise ValueError(f"partial rotary embeddings (partial_rotary_factor {parameters['partial_rotary_factor']})")
    if rope_type == "default":
        return None
    if rope_type == "llama3":
        return Llama3RopeScaling(
            float(parameters["factor"]),
            float(parameters["low_freq_factor"]),
            float(parameters["high_freq_factor"]),
            int(parameters["original_max_position_embeddings"]),
        )
    raise ValueError(f"rope type {rope_type!r} (supported: 'default', 'llama3')")


def random_weights(shape: LlamaShape, seed: int = 0, device: str | torch.device = "cuda") -> WeightSource:
    """Deterministic random weights by parameter name (norms 1, the rest N(0, 0.02) in bf16), the same on any
    GPU and in any process: what lets TP ranks build their shards and compare against TP=1."""
    shapes = shape.parameter_shapes()

    def weight(name: str) -> torch.Tensor:
        if name.endswith("norm.weight"):
            return torch.ones(shapes[name], device=device, dtype=torch.bfloat16)
        generator = torch.Generator(device=device).manual_seed(seed * 1_000_003 + zlib.crc32(name.encode()))
        values = torch.empty(shapes[name], device=device, dtype=torch.float32).normal_(0.0, 0.02, generator=generator)
        return values.to(torch.bfloat16)

    return weight


def weight_nbytes(weight: Weight) -> int:
    if isinstance(weight, PackedInt4):
        return weight.nbytes()
    return weight.numel() * weight.element_size()


def weight_shape(weight: Weight) -> tuple[int, int]:
    return weight.shape if isinstance(weight, PackedInt4) else (int(weight.shape[0]), int(weight.shape[1]))


@dataclass
class Layer:
    attn_norm: torch.Tensor
    wqkv: Weight
    wo: Weight
    mlp_norm: torch.Tensor
    w_gate_up: Weight
    w_down: Weight


class LlamaDecoder:
    """Weights, a static KV cache of `max_seq` positions for one stream, and the decode step's buffers."""

    def __init__(
        self,
        shape: LlamaShape,
        embed: torch.Tensor,
        layers: list[Layer],
        norm: torch.Tensor,
        lm_head: torch.Tensor,
        max_seq: int,
        tp: TensorParallel | None = None,
    ) -> None:
        self.shape = shape
        self.embed, self.layers, self.norm, self.lm_head = embed, layers, norm, lm_head
        self.max_seq = max_seq
        self.tp = tp
        world = tp.world if tp else 1
        self.num_heads, self.num_kv_heads = shape.num_heads // world, shape.num_kv_heads // world
        d = shape.head_dim
        device, dtype = embed.device, embed.dtype
        kv = (shape.num_layers, max_seq, self.num_kv_heads, d)
        self.k_cache = torch.zeros(kv, device=device, dtype=dtype)
        self.v_cache = torch.zeros(kv, device=device, dtype=dtype)
        inv_freq = 1.0 / (shape.rope_theta ** (torch.arange(0, d, 2, device=device).float() / d))
        if shape.rope_scaling is not None:
            inv_freq = shape.rope_scaling.scale(inv_freq)
        angles = torch.outer(torch.arange(max_seq, device=device).float(), inv_freq)
        self.cos = torch.cat([angles.cos(), angles.cos()], dim=-1).contiguous()
        self.sin = torch.cat([angles.sin(), angles.sin()], dim=-1).contiguous()

        # Decode-step state: everything a captured graph reads or writes lives in these fixed buffers.
        self.token = torch.zeros(1, dtype=torch.long, device=device)
        self.position = torch.zeros((), dtype=torch.long, device=device)
        self.next_token = torch.zeros(1, dtype=torch.long, device=device)

        def f32(size: int) -> torch.Tensor:
            return torch.zeros(size, device=device, dtype=torch.float32)

        self.x = f32(shape.hidden_size)
        self.qkv = f32((self.num_heads + 2 * self.num_kv_heads) * d)
        self.attn_out = f32(self.num_heads * d)
        self.mlp = f32(weight_shape(layers[0].w_gate_up)[0] // 2)
        self.logits_local = f32(lm_head.shape[0])
        self.logits = f32(shape.vocab_size) if tp else self.logits_local
        self.partial = tp.reduce_buffer(self.x) if tp else self.x
        self.attention = DecodeAttention(self.num_heads, self.num_kv_heads, d, max_seq, device)
        self._scratch: torch.Tensor | None = None
        # Programmatic dependent launch for the GEMVs (Hopper): each starts while the previous kernel drains.
        self.pdl = False

    # ---- accounting ---------------------------------------------------------------------------------------
    def weight_bytes(self) -> int:
        """Bytes of weights one decode step reads on this rank (one embedding row)."""
        total = self.embed.shape[1] * self.embed.element_size()
        total += weight_nbytes(self.lm_head) + self.norm.numel() * self.norm.element_size()
        for layer in self.layers:
            total += sum(weight_nbytes(w) for w in (layer.wqkv, layer.wo, layer.w_gate_up, layer.w_down))
            total += (layer.attn_norm.numel() + layer.mlp_norm.numel()) * layer.attn_norm.element_size()
        return total

    def kv_bytes_per_position(self) -> int:
        s = self.shape
        return 2 * s.num_layers * self.num_kv_heads * s.head_dim * self.k_cache.element_size()

    # ---- one token: fused kernels, capturable ----------------------------------------------------------------
    def step(self) -> None:
        """Runs `token` at `position` and leaves the logits in `logits` (no sampling: see `advance_greedy`)."""
        eps = self.shape.rms_norm_eps
        embed_row(self.token, self.embed, self.x)
        for index, layer in enumerate(self.layers):
            gemv(self.x, layer.wqkv, self.qkv, norm_weight=layer.attn_norm, eps=eps, pdl=self.pdl)
            self.attention(
                self.qkv,
                self.cos,
                self.sin,
                self.position,
                self.k_cache[index],
                self.v_cache[index],
                self.attn_out,
                pdl=self.pdl,
            )
            self._row_parallel(layer.wo, self.attn_out)
            gemv(self.x, layer.w_gate_up, self.mlp, epilogue="glu", norm_weight=layer.mlp_norm, eps=eps, pdl=self.pdl)
            self._row_parallel(layer.w_down, self.mlp)
        gemv(self.x, self.lm_head, self.logits_local, norm_weight=self.norm, eps=eps, pdl=self.pdl)
        if self.tp:
            self.tp.all_gather(self.logits, self.logits_local)

    def _row_parallel(self, weight: Weight, inputs: torch.Tensor) -> None:
        """x += W · inputs; under TP each rank adds its partial sum and an all-reduce joins them."""
        if self.tp is None:
            gemv(inputs, weight, self.x, epilogue="add", pdl=self.pdl)
            return
        if self.tp.rank == 0:  # the residual enters the sum once
            gemv(inputs, weight, self.partial, epilogue="add", residual=self.x, pdl=self.pdl)
        else:
            gemv(inputs, weight, self.partial, epilogue="store", pdl=self.pdl)
        self.tp.all_reduce_into(self.partial, self.x)

    def advance_greedy(self) -> None:
        """next_token = argmax(logits); it becomes the input of the next step, one position on."""
        self.next_token.copy_(torch.argmax(self.logits).view(1))
        self.token.copy_(self.next_token)
        self.position.add_(1)

    # ---- a prompt: cuBLAS + flash attention ----------------------------------------------------------------
    def _linear(self, x: torch.Tensor, weight: Weight) -> torch.Tensor:
        if isinstance(weight, PackedInt4):
            n, k = weight.shape
            if self._scratch is None or self._scratch.numel() < n * k:
                self._scratch = torch.empty(n * k, device=x.device, dtype=x.dtype)
            return F.linear(x, dequantize_int4(weight, self._scratch, x.dtype))
        return F.linear(x, weight)

    def _rms(self, x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        rstd = torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.shape.rms_norm_eps)
        return (x * rstd * weight.float()).to(self.embed.dtype)

    @staticmethod
    def _rotate(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
        half = x.shape[-1] // 2
        return x * cos + torch.cat([-x[..., half:], x[..., :half]], dim=-1) * sin

    def prefill(self, tokens: torch.Tensor, start: int) -> torch.Tensor:
        """Runs `tokens` ([n]) at positions start..start+n-1 over the cache's first `start` positions, writes
        their keys and values into the cache and returns the float32 logits of the last one."""
        s, d = self.shape, self.shape.head_dim
        n = tokens.shape[0]
        end = start + n
        if end > self.max_seq:
            raise ValueError(f"{end} positions do not fit the cache of {self.max_seq}")
        cos, sin = self.cos[start:end].unsqueeze(1), self.sin[start:end].unsqueeze(1)
        x = self.embed[tokens].float()
        hq, hkv = self.num_heads, self.num_kv_heads
        for index, layer in enumerate(self.layers):
            qkv = self._linear(self._rms(x, layer.attn_norm), layer.wqkv).float()
            q, k, v = qkv.split([hq * d, hkv * d, hkv * d], dim=-1)
            q = self._rotate(q.view(n, hq, d), cos, sin).to(self.embed.dtype)
            self.k_cache[index, start:end] = self._rotate(k.view(n, hkv, d), cos, sin).to(self.embed.dtype)
            self.v_cache[index, start:end] = v.view(n, hkv, d).to(self.embed.dtype)
            attn = self._attend(q, index, start, end)
            x = x + self._reduce(self._linear(attn.transpose(0, 1).reshape(n, hq * d), layer.wo).float())
            gate, up = self._linear(self._rms(x, layer.mlp_norm), layer.w_gate_up).chunk(2, dim=-1)
            x = x + self._reduce(self._linear(F.silu(gate) * up, layer.w_down).float())
        logits = self._linear(self._rms(x[-1:], self.norm), self.lm_head).float()[0]
        if self.tp is None:
            return logits
        full = torch.empty(s.vocab_size, device=logits.device, dtype=torch.float32)
        self.tp.all_gather(full, logits.contiguous())
        return full

    def _attend(self, q: torch.Tensor, index: int, start: int, end: int) -> torch.Tensor:
        """Causal attention of the new positions start..end-1 (q: [n, heads, dim]) over cache positions 0..end-1.

        4-D inputs, so that PyTorch picks its flash / memory-efficient kernels (3-D ones run the slow math
        path); KV heads are repeated for the query heads they serve.
        """
        from torch.nn.attention.bias import causal_lower_right  # noqa: PLC0415

        if q.device.type == "cpu":
            return self._attend_grouped(q, index, start, end)
        n, group = q.shape[0], self.num_heads // self.num_kv_heads
        keys = self.k_cache[index, :end].transpose(0, 1).repeat_interleave(group, dim=0)[None]
        values = self.v_cache[index, :end].transpose(0, 1).repeat_interleave(group, dim=0)[None]
        query = q.transpose(0, 1)[None]
        if start == 0:
            attn = F.scaled_dot_product_attention(query, keys, values, is_causal=True)
        else:  # the prompt's new part sits at the end of the keys: causal aligned to the lower right
            attn = F.scaled_dot_product_attention(query, keys, values, attn_mask=causal_lower_right(n, end))
        return attn[0]

    def _attend_grouped(self, q: torch.Tensor, index: int, start: int, end: int) -> torch.Tensor:
        """`_attend` on the CPU: each KV head serves its group of query heads in place. Repeating the cache per
        query head, as the GPU path does for its fused kernels, cost the CPU more than the rest of a token."""
        n, d, kv_heads = q.shape[0], q.shape[-1], self.num_kv_heads
        keys, values = self.k_cache[index, :end].float(), self.v_cache[index, :end].float()  # [end, kv_heads, d]
        grouped = q.float().view(n, kv_heads, self.num_heads // kv_heads, d)
        scores = torch.einsum("nhgd,ehd->hgne", grouped, keys) / math.sqrt(d)
        if n > 1:  # query i sits at position start + i and sees keys up to it
            later = torch.arange(end)[None, :] > (start + torch.arange(n))[:, None]
            scores.masked_fill_(later, float("-inf"))
        out = torch.einsum("hgne,ehd->nhgd", torch.softmax(scores, dim=-1), values)
        return out.reshape(n, self.num_heads, d).transpose(0, 1).to(q.dtype)

    def _reduce(self, partial: torch.Tensor) -> torch.Tensor:
        if self.tp is not None:
            self.tp.all_reduce_(partial)
        return partial


def build_decoder(
    shape: LlamaShape, weights: WeightSource, max_seq: int, quantize: str = "none", tp: TensorParallel | None = None
) -> LlamaDecoder:
    """Fuses (and with `tp`, shards) the transformers-named weights into the engine's layout.

    `quantize`: "none" (the checkpoint's 16 bits) or "int4" (group-128 asymmetric RTN for every linear layer of
    the blocks; the embedding and the output projection stay in 16 bits, as AWQ/GPTQ checkpoints keep them),
    stored in the "words" layout; "int4-planes" / "int4-words" name the layout (triton_gemv.py).
    """
    layouts = {"int4": "words", "int4-words": "words", "int4-planes": "planes"}
    if quantize != "none" and quantize not in layouts:
        raise ValueError(f"unknown quantization {quantize!r}")
    d = shape.head_dim

    def rows(name: str, size: int) -> torch.Tensor:
        w = weights(name)
        if tp is None:
            return w
        a, b = tp.shard(size)
        return w[a:b].clone()  # not a view: the full tensor is freed

    def cols(name: str, size: int) -> torch.Tensor:
        w = weights(name)
        if tp is None:
            return w.contiguous()
        a, b = tp.shard(size)
        return w[:, a:b].contiguous()

    def linear(weight: torch.Tensor) -> Weight:
        return pack_int4(weight, layouts[quantize]) if quantize != "none" else weight.contiguous()

    layers = []
    for n in range(shape.num_layers):
        p = f"model.layers.{n}."
        qkv = torch.cat(
            [
                rows(p + "self_attn.q_proj.weight", shape.num_heads * d),
                rows(p + "self_attn.k_proj.weight", shape.num_kv_heads * d),
                rows(p + "self_attn.v_proj.weight", shape.num_kv_heads * d),
            ]
        )
        gate_up = torch.cat(
            [
                rows(p + "mlp.gate_proj.weight", shape.intermediate_size),
                rows(p + "mlp.up_proj.weight", shape.intermediate_size),
            ]
        )
        layers.append(
            Layer(
                attn_norm=weights(p + "input_layernorm.weight"),
                wqkv=linear(qkv),
                wo=linear(cols(p + "self_attn.o_proj.weight", shape.num_heads * d)),
                mlp_norm=weights(p + "post_attention_layernorm.weight"),
                w_gate_up=linear(gate_up),
                w_down=linear(cols(p + "mlp.down_proj.weight", shape.intermediate_size)),
            )
        )
        del qkv, gate_up
    lm_head = rows("lm_head.weight", shape.vocab_size).contiguous()
    embed = weights("model.embed_tokens.weight")
    return LlamaDecoder(shape, embed, layers, weights("model.norm.weight"), lm_head, max_seq, tp)


def from_hf_model(model: Any, max_seq: int, quantize: str = "none", tp: TensorParallel | None = None) -> LlamaDecoder:
    """The engine's layout of a transformers LlamaForCausalLM / Qwen2ForCausalLM (no biases) already on the GPU."""
    params = dict(model.named_parameters())
    return build_decoder(LlamaShape.from_hf(model.config), lambda name: params[name].data, max_seq, quantize, tp)


def bytes_per_token_bound(decoder: LlamaDecoder, context: int) -> int:
    """The fewest bytes one decode step must read on this rank: every weight once, plus the KV cache so far."""
    return decoder.weight_bytes() + decoder.kv_bytes_per_position() * context


def rel_error(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a.float() - b.float()).norm() / b.float().norm().clamp(min=1e-12))


def ceil_to(value: int, multiple: int) -> int:
    return int(math.ceil(value / multiple) * multiple)
