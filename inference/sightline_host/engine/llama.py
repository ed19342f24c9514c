"""A Llama-architecture decoder (Llama 3, Qwen 2 without biases) laid out for fast single-stream decode.

Weights live in a few large fused matrices (QKV, gate+up) so one decode step is a short, fixed sequence of
kernels that a CUDA graph replays; the KV cache is static, so shapes never change between steps.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Protocol

import torch
import torch.nn.functional as F


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

    @property
    def head_dim(self) -> int:
        return self.hidden_size // self.num_heads

    @staticmethod
    def llama3_8b() -> LlamaShape:
        return LlamaShape(128_256, 4096, 14_336, 32, 32, 8)

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
        )


def _rope_theta(config: Any) -> float:
    # transformers 5 moved it into `rope_parameters`; 4.x has it on the config.
    theta = getattr(config, "rope_theta", None)
    if theta is None:
        parameters = getattr(config, "rope_parameters", None) or {}
        theta = parameters.get("rope_theta", 10_000.0)
    return float(theta)


class Linear(Protocol):
    def __call__(self, x: torch.Tensor) -> torch.Tensor: ...

    def nbytes(self) -> int: ...


class DenseLinear:
    """y = x Wᵀ with W in bf16/fp16: cuBLAS GEMV at batch 1."""

    def __init__(self, weight: torch.Tensor) -> None:
        self.weight = weight

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.weight)

    def nbytes(self) -> int:
        return self.weight.numel() * self.weight.element_size()


class Int4Linear:
    """Weight-only INT4, asymmetric, one scale and zero per `group_size` inputs, through PyTorch's tinygemm kernel."""

    def __init__(self, weight: torch.Tensor, group_size: int = 128, inner_k_tiles: int = 8) -> None:
        out_features, in_features = weight.shape
        w = weight.float().reshape(out_features, in_features // group_size, group_size)
        w_min = w.amin(dim=-1, keepdim=True)
        w_max = w.amax(dim=-1, keepdim=True)
        scale = ((w_max - w_min) / 15).clamp(min=1e-8)
        q = ((w - w_min) / scale).round().clamp(0, 15).to(torch.int32).reshape(out_features, in_features)
        # tinygemm dequantizes as (q - 8) * scale + zero, so the zero it wants is the value at q = 8.
        zero = w_min + scale * 8
        self.group_size = group_size
        packed_bytes = (q[:, ::2] << 4 | q[:, 1::2]).to(torch.uint8)
        self.packed = torch.ops.aten._convert_weight_to_int4pack(packed_bytes.contiguous(), inner_k_tiles)
        self.scales_and_zeros = (
            torch.cat([scale, zero], dim=-1).reshape(out_features, -1, 2).transpose(0, 1).contiguous()
        ).to(torch.bfloat16)
        self.dequantized_reference = ((q.reshape_as(w) - 8) * scale + zero).reshape(out_features, in_features)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        flat = x.reshape(-1, x.shape[-1])
        out = torch.ops.aten._weight_int4pack_mm(flat, self.packed, self.group_size, self.scales_and_zeros)
        return out.reshape(*x.shape[:-1], -1)

    def nbytes(self) -> int:
        return self.packed.numel() * self.packed.element_size() + self.scales_and_zeros.numel() * 2


class TritonInt4Linear:
    """INT4 through the project's Triton GEMV at batch 1; prompts (many rows) dequantize the layer once per call."""

    def __init__(self, weight: torch.Tensor, group_size: int = 128) -> None:
        from sightline_host.engine.triton_gemv import pack_int4  # noqa: PLC0415 - Triton only where CUDA is

        self.weight = pack_int4(weight, group_size)
        self.dtype = weight.dtype

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        from sightline_host.engine.triton_gemv import gemv_int4  # noqa: PLC0415

        if x.numel() == x.shape[-1]:
            return gemv_int4(x, self.weight).to(x.dtype).reshape(*x.shape[:-1], -1)
        return F.linear(x, self.weight.dequantize().to(x.dtype))

    def nbytes(self) -> int:
        return self.weight.nbytes()


class TritonDenseLinear(DenseLinear):
    """16-bit weights through the project's Triton GEMV at batch 1; cuBLAS for prompts."""

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        from sightline_host.engine.triton_gemv import gemv_16bit  # noqa: PLC0415

        if x.numel() == x.shape[-1]:
            return gemv_16bit(x, self.weight).to(x.dtype).reshape(*x.shape[:-1], -1)
        return F.linear(x, self.weight)


@dataclass
class Layer:
    attn_norm: torch.Tensor
    wqkv: Linear
    wo: Linear
    mlp_norm: torch.Tensor
    w_gate_up: Linear
    w_down: Linear


class LlamaDecoder:
    """Holds weights and a static KV cache of `max_seq` positions for one stream."""

    def __init__(
        self,
        shape: LlamaShape,
        embed: torch.Tensor,
        layers: list[Layer],
        norm: torch.Tensor,
        lm_head: Linear,
        max_seq: int,
    ) -> None:
        self.shape = shape
        self.embed = embed
        self.layers = layers
        self.norm = norm
        self.lm_head = lm_head
        self.max_seq = max_seq
        device, dtype = embed.device, embed.dtype
        kv = (shape.num_layers, max_seq, shape.num_kv_heads, shape.head_dim)
        self.k_cache = torch.zeros(kv, device=device, dtype=dtype)
        self.v_cache = torch.zeros(kv, device=device, dtype=dtype)
        inv_freq = 1.0 / (
            shape.rope_theta ** (torch.arange(0, shape.head_dim, 2, device=device).float() / shape.head_dim)
        )
        angles = torch.outer(torch.arange(max_seq, device=device).float(), inv_freq)
        self.cos = torch.cat([angles.cos(), angles.cos()], dim=-1).to(dtype)
        self.sin = torch.cat([angles.sin(), angles.sin()], dim=-1).to(dtype)
        self.positions = torch.arange(max_seq, device=device)

    def weight_bytes(self) -> int:
        total = self.embed.numel() * self.embed.element_size() // self.shape.vocab_size  # one embedding row per token
        total += self.norm.numel() * self.norm.element_size() + self.lm_head.nbytes()
        for layer in self.layers:
            total += layer.wqkv.nbytes() + layer.wo.nbytes() + layer.w_gate_up.nbytes() + layer.w_down.nbytes()
            total += (layer.attn_norm.numel() + layer.mlp_norm.numel()) * layer.attn_norm.element_size()
        return total

    def kv_bytes_per_position(self) -> int:
        s = self.shape
        return 2 * s.num_layers * s.num_kv_heads * s.head_dim * self.k_cache.element_size()

    def _rms(self, x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        xf = x.float()
        return (xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + self.shape.rms_norm_eps)).to(x.dtype) * weight

    @staticmethod
    def _rotate(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
        half = x.shape[-1] // 2
        rotated = torch.cat([-x[..., half:], x[..., :half]], dim=-1)
        return x * cos + rotated * sin

    def forward(self, tokens: torch.Tensor, start: torch.Tensor) -> torch.Tensor:
        """Runs `tokens` (shape [n]) at positions start..start+n-1 and returns logits of the last one.

        `start` is a 0-d device tensor so that a captured graph reads the position at replay time.
        """
        s = self.shape
        n = tokens.shape[0]
        pos = start + torch.arange(n, device=tokens.device)
        cos, sin = self.cos[pos].unsqueeze(1), self.sin[pos].unsqueeze(1)
        # Attention over the whole static cache, masked to what has been written: fixed shapes for the graph.
        visible = self.positions.unsqueeze(0) <= pos.unsqueeze(1)  # [n, max_seq]
        mask = visible.unsqueeze(0)  # [1, n, max_seq] broadcast over heads
        x = self.embed[tokens]
        q_size, kv_size = s.num_heads * s.head_dim, s.num_kv_heads * s.head_dim
        for index, layer in enumerate(self.layers):
            h = self._rms(x, layer.attn_norm)
            q, k, v = layer.wqkv(h).split([q_size, kv_size, kv_size], dim=-1)
            q = self._rotate(q.view(n, s.num_heads, s.head_dim), cos, sin)
            k = self._rotate(k.view(n, s.num_kv_heads, s.head_dim), cos, sin)
            self.k_cache[index].index_copy_(0, pos, k)
            self.v_cache[index].index_copy_(0, pos, v.view(n, s.num_kv_heads, s.head_dim))
            attn = F.scaled_dot_product_attention(
                q.transpose(0, 1),
                self.k_cache[index].transpose(0, 1),
                self.v_cache[index].transpose(0, 1),
                attn_mask=mask,
                enable_gqa=True,
            )
            x = x + layer.wo(attn.transpose(0, 1).reshape(n, q_size))
            h = self._rms(x, layer.mlp_norm)
            gate, up = layer.w_gate_up(h).chunk(2, dim=-1)
            x = x + layer.w_down(F.silu(gate) * up)
        return self.lm_head(self._rms(x[-1:], self.norm))[0].float()


def from_hf_model(
    model: Any, max_seq: int, quantize: str = "none", group_size: int = 128, kernels: str = "torch"
) -> LlamaDecoder:
    """Takes the weights of a transformers LlamaForCausalLM / Qwen2ForCausalLM (no biases) into the fused layout.

    `kernels`: "torch" (cuBLAS, tinygemm) or "triton" (the project's batch-1 GEMV kernels).
    """
    shape = LlamaShape.from_hf(model.config)

    def linear(weight: torch.Tensor) -> Linear:
        if quantize == "int4":
            return TritonInt4Linear(weight, group_size) if kernels == "triton" else Int4Linear(weight, group_size)
        return TritonDenseLinear(weight.contiguous()) if kernels == "triton" else DenseLinear(weight.contiguous())

    layers = []
    for block in model.model.layers:
        attn, mlp = block.self_attn, block.mlp
        layers.append(
            Layer(
                attn_norm=block.input_layernorm.weight.data,
                wqkv=linear(torch.cat([attn.q_proj.weight.data, attn.k_proj.weight.data, attn.v_proj.weight.data])),
                wo=linear(attn.o_proj.weight.data),
                mlp_norm=block.post_attention_layernorm.weight.data,
                w_gate_up=linear(torch.cat([mlp.gate_proj.weight.data, mlp.up_proj.weight.data])),
                w_down=linear(mlp.down_proj.weight.data),
            )
        )
    # The output projection stays in 16 bits, as AWQ/GPTQ checkpoints keep it.
    lm_head = (TritonDenseLinear if kernels == "triton" else DenseLinear)(model.lm_head.weight.data)
    return LlamaDecoder(
        shape, model.model.embed_tokens.weight.data, layers, model.model.norm.weight.data, lm_head, max_seq
    )


def bytes_per_token_bound(decoder: LlamaDecoder, context: int) -> int:
    """The fewest bytes one decode step must read: every weight once, plus the KV cache written so far."""
    return decoder.weight_bytes() + decoder.kv_bytes_per_position() * context


def rel_error(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a.float() - b.float()).norm() / b.float().norm().clamp(min=1e-12))


def ceil_to(value: int, multiple: int) -> int:
    return int(math.ceil(value / multiple) * multiple)
