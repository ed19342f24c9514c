"""Batch-1 matrix-vector products for decode, in Triton: INT4 weight-only (group-wise, asymmetric) and bf16.

At batch 1 a linear layer is a pure memory stream: every weight byte is read once and used for
one multiply-add. What matters is that every SM streams wide, coalesced loads from the first
cycle to the last; these kernels give each program a few whole rows and walk K in wide chunks,
and they split K across programs when there are too few rows to fill the GPU.

INT4 layout (`pack_int4`): q[n, k] in 0..15, eight to an int32 along K (nibble i of word j is
k = 8j + i), with per-group scale and minimum, so w = q * scale + minimum. The kernel needs no
dequantized copy: per group it forms Σ q·x and Σ x and applies scale and minimum once.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import triton
import triton.language as tl


@dataclass
class PackedInt4:
    packed: torch.Tensor  # [N, K // 8] int32
    scale: torch.Tensor  # [N, K // group] float16/bfloat16
    minimum: torch.Tensor  # [N, K // group]
    group_size: int

    @property
    def out_features(self) -> int:
        return int(self.packed.shape[0])

    @property
    def in_features(self) -> int:
        return int(self.packed.shape[1]) * 8

    def nbytes(self) -> int:
        return sum(t.numel() * t.element_size() for t in (self.packed, self.scale, self.minimum))

    def dequantize(self) -> torch.Tensor:
        shifts = torch.arange(0, 32, 4, device=self.packed.device, dtype=torch.int32)
        q = ((self.packed.unsqueeze(-1) >> shifts) & 0xF).reshape(self.out_features, -1, self.group_size)
        w = q.float() * self.scale.float().unsqueeze(-1) + self.minimum.float().unsqueeze(-1)
        return w.reshape(self.out_features, self.in_features)


def pack_int4(weight: torch.Tensor, group_size: int = 128) -> PackedInt4:
    """Round-to-nearest asymmetric INT4 per group of `group_size` inputs (what AWQ/GPTQ checkpoints also store)."""
    n, k = weight.shape
    if k % group_size or group_size % 8:
        raise ValueError(f"in_features {k} must be a multiple of group_size {group_size}, itself a multiple of 8")
    w = weight.float().reshape(n, k // group_size, group_size)
    w_min = w.amin(dim=-1, keepdim=True)
    scale = ((w.amax(dim=-1, keepdim=True) - w_min) / 15).clamp(min=1e-8)
    q = ((w - w_min) / scale).round().clamp(0, 15).to(torch.int32).reshape(n, k // 8, 8)
    shifts = torch.arange(0, 32, 4, device=weight.device, dtype=torch.int32)
    packed = (q << shifts).sum(dim=-1, dtype=torch.int64).to(torch.int64)
    # Nibble 7 sets bit 31: keep the bit pattern, not the value, when narrowing to int32.
    packed = torch.where(packed >= 2**31, packed - 2**32, packed).to(torch.int32)
    dtype = torch.float16
    return PackedInt4(packed.contiguous(), scale.squeeze(-1).to(dtype), w_min.squeeze(-1).to(dtype), group_size)


def _int4_configs() -> list[triton.Config]:
    return [
        triton.Config({"BLOCK_N": bn, "BLOCK_K": bk, "SPLIT_K": sk}, num_warps=w, num_stages=s)
        for bn in (4, 8, 16)
        for bk in (256, 512)
        for sk in (1, 2, 4)
        for w in (4,)
        for s in (2,)
    ]


@triton.autotune(configs=_int4_configs(), key=["N", "K"], reset_to_zero=["out_ptr"])
@triton.jit
def _gemv_int4_kernel(
    x_ptr,
    packed_ptr,
    scale_ptr,
    min_ptr,
    out_ptr,
    N,
    K,
    GROUP: tl.constexpr,
    BLOCK_N: tl.constexpr,
    BLOCK_K: tl.constexpr,
    SPLIT_K: tl.constexpr,
):
    pid_n = tl.program_id(0)
    pid_k = tl.program_id(1)
    rows = pid_n * BLOCK_N + tl.arange(0, BLOCK_N)
    row_ok = rows < N
    words = tl.arange(0, BLOCK_K // 8)
    shifts = tl.arange(0, 8) * 4
    groups_per_block: tl.constexpr = BLOCK_K // GROUP
    acc = tl.zeros((BLOCK_N,), dtype=tl.float32)
    k_words = K // 8
    k_groups = K // GROUP
    chunk = tl.cdiv(K, BLOCK_K * SPLIT_K) * BLOCK_K
    k_start = pid_k * chunk
    for k0 in range(k_start, tl.minimum(k_start + chunk, K), BLOCK_K):
        word = k0 // 8 + words
        p = tl.load(
            packed_ptr + rows[:, None] * k_words + word[None, :],
            mask=row_ok[:, None] & (word[None, :] < k_words),
            other=0,
            eviction_policy="evict_first",
        )
        q = ((p[:, :, None] >> shifts[None, None, :]) & 0xF).to(tl.float32)
        q = tl.reshape(q, (BLOCK_N, groups_per_block, GROUP))
        ks = k0 + tl.arange(0, BLOCK_K)
        x = tl.load(x_ptr + ks, mask=ks < K, other=0.0).to(tl.float32)
        x = tl.reshape(x, (groups_per_block, GROUP))
        qx = tl.sum(q * x[None, :, :], axis=2)  # [BLOCK_N, groups]
        xs = tl.sum(x, axis=1)  # [groups]
        g = k0 // GROUP + tl.arange(0, groups_per_block)
        g_ok = row_ok[:, None] & (g[None, :] < k_groups)
        s = tl.load(scale_ptr + rows[:, None] * k_groups + g[None, :], mask=g_ok, other=0.0).to(tl.float32)
        m = tl.load(min_ptr + rows[:, None] * k_groups + g[None, :], mask=g_ok, other=0.0).to(tl.float32)
        acc += tl.sum(qx * s + m * xs[None, :], axis=1)
    if SPLIT_K == 1:
        tl.store(out_ptr + rows, acc, mask=row_ok)
    else:
        tl.atomic_add(out_ptr + rows, acc, mask=row_ok, sem="relaxed")


def gemv_int4(x: torch.Tensor, weight: PackedInt4) -> torch.Tensor:
    """y = x Wᵀ for one row x of `in_features` values; returns float32 [out_features]."""
    if x.numel() != weight.in_features:
        raise ValueError(f"x has {x.numel()} values, the layer takes {weight.in_features}")
    out = torch.zeros(weight.out_features, device=x.device, dtype=torch.float32)
    n, k = weight.out_features, weight.in_features

    def grid(meta: dict[str, int]) -> tuple[int, int]:
        return (triton.cdiv(n, meta["BLOCK_N"]), meta["SPLIT_K"])

    _gemv_int4_kernel[grid](
        x.reshape(-1), weight.packed, weight.scale, weight.minimum, out, n, k, GROUP=weight.group_size
    )
    return out


def _bf16_configs() -> list[triton.Config]:
    return [
        triton.Config({"BLOCK_N": bn, "BLOCK_K": bk, "SPLIT_K": sk}, num_warps=w, num_stages=s)
        for bn in (2, 4, 8)
        for bk in (512, 1024)
        for sk in (1, 2, 4)
        for w in (4,)
        for s in (2,)
    ]


@triton.autotune(configs=_bf16_configs(), key=["N", "K"], reset_to_zero=["out_ptr"])
@triton.jit
def _gemv_16bit_kernel(
    x_ptr,
    w_ptr,
    out_ptr,
    N,
    K,
    BLOCK_N: tl.constexpr,
    BLOCK_K: tl.constexpr,
    SPLIT_K: tl.constexpr,
):
    pid_n = tl.program_id(0)
    pid_k = tl.program_id(1)
    rows = pid_n * BLOCK_N + tl.arange(0, BLOCK_N)
    row_ok = rows < N
    acc = tl.zeros((BLOCK_N, BLOCK_K), dtype=tl.float32)
    chunk = tl.cdiv(K, BLOCK_K * SPLIT_K) * BLOCK_K
    k_start = pid_k * chunk
    for k0 in range(k_start, tl.minimum(k_start + chunk, K), BLOCK_K):
        ks = k0 + tl.arange(0, BLOCK_K)
        k_ok = ks < K
        w = tl.load(
            w_ptr + rows[:, None] * K + ks[None, :],
            mask=row_ok[:, None] & k_ok[None, :],
            other=0.0,
            eviction_policy="evict_first",
        )
        x = tl.load(x_ptr + ks, mask=k_ok, other=0.0)
        acc += w.to(tl.float32) * x.to(tl.float32)[None, :]
    total = tl.sum(acc, axis=1)
    if SPLIT_K == 1:
        tl.store(out_ptr + rows, total, mask=row_ok)
    else:
        tl.atomic_add(out_ptr + rows, total, mask=row_ok, sem="relaxed")


def gemv_16bit(x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """y = x Wᵀ for one row x, W in bf16/fp16 [N, K] row-major; returns float32 [N]."""
    n, k = weight.shape
    if x.numel() != k:
        raise ValueError(f"x has {x.numel()} values, the layer takes {k}")
    out = torch.zeros(n, device=x.device, dtype=torch.float32)

    def grid(meta: dict[str, int]) -> tuple[int, int]:
        return (triton.cdiv(n, meta["BLOCK_N"]), meta["SPLIT_K"])

    _gemv_16bit_kernel[grid](x.reshape(-1), weight, out, n, k)
    return out
