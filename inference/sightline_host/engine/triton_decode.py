# mypy: disallow-untyped-decorators=False, disallow-untyped-defs=False, disallow-incomplete-defs=False
"""The decode step's other kernels, in Triton: the embedding row, attention over the static KV cache, and the
grammar's token bitmask.

Attention for one new token (flash-decoding): the cache is cut into chunks of `CHUNK` positions and each
program takes one KV head's query group over one chunk, so a long context is read by many SMs at once. The
position comes from a device tensor, so one captured CUDA graph serves every step: programs past the position
find no work. Each program applies RoPE to its queries and to the new key itself; the program whose chunk holds
the position also adds the new token from registers and writes its key and value into the cache, so no program
reads a cache slot that is being written. The chunks' partial softmaxes are merged in the same launch by the last
program of each KV head to finish (an atomic counter): one kernel per layer, whose chunks of 64 positions spread
even a short context over several SMs.
"""

from __future__ import annotations

import math

import torch
import triton
import triton.language as tl
from triton.language.extra.cuda import gdc_launch_dependents, gdc_wait

from sightline_host.engine.triton_gemv import interpreting

CHUNK = 64  # cache positions per attention program
_NEG = -1.0e30


@triton.jit
def _embed_kernel(token_ptr, table_ptr, out_ptr, H, BLOCK: tl.constexpr):
    token = tl.load(token_ptr).to(tl.int64)
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    ok = offs < H
    tl.store(out_ptr + offs, tl.load(table_ptr + token * H + offs, mask=ok, other=0.0).to(tl.float32), mask=ok)


def embed_row(token: torch.Tensor, table: torch.Tensor, out: torch.Tensor) -> None:
    """out (float32 [H]) = table[token] for a one-element device tensor `token`."""
    h = table.shape[1]
    _embed_kernel[(triton.cdiv(h, 1024),)](token, table, out, h, BLOCK=1024)


@triton.jit
def _attn_kernel(  # noqa: PLR0915 - one kernel, written out
    qkv_ptr,
    cos_ptr,
    sin_ptr,
    pos_ptr,
    k_cache_ptr,
    v_cache_ptr,
    part_m_ptr,
    part_l_ptr,
    part_acc_ptr,
    count_ptr,
    out_ptr,
    scale_log2,
    HQ: tl.constexpr,
    HKV: tl.constexpr,
    D: tl.constexpr,
    CHUNK_S: tl.constexpr,
    BLOCK_S: tl.constexpr,
    GPAD: tl.constexpr,
    GM: tl.constexpr,
    SB: tl.constexpr,
    SPLITS: tl.constexpr,
    LOWP: tl.constexpr,
    PDL: tl.constexpr,
):
    kvh = tl.program_id(0)
    split = tl.program_id(1)
    G: tl.constexpr = HQ // HKV
    if PDL:  # the next kernel (the o projection) may start streaming its weights now
        gdc_launch_dependents()
        gdc_wait()
    pos = tl.load(pos_ptr).to(tl.int32)
    active = pos // CHUNK_S + 1  # chunks holding positions 0..pos; the graph's grid covers max_seq
    if split < active:
        d = tl.arange(0, D)
        d_rot = (d + D // 2) % D
        sign = tl.where(d < D // 2, -1.0, 1.0)
        cos = tl.load(cos_ptr + pos * D + d)
        sin = tl.load(sin_ptr + pos * D + d)

        gi = tl.arange(0, GPAD)
        g_ok = gi < G
        qh = kvh * G + gi
        q = tl.load(qkv_ptr + qh[:, None] * D + d[None, :], mask=g_ok[:, None], other=0.0)
        q_rot = tl.load(qkv_ptr + qh[:, None] * D + d_rot[None, :], mask=g_ok[:, None], other=0.0) * sign[None, :]
        q = ((q * cos[None, :] + q_rot * sin[None, :]) * scale_log2).to(tl.bfloat16)
        if not LOWP:  # Triton's CPU interpreter multiplies bfloat16 matrices wrongly: tests run the dots in float32
            q = q.to(tl.float32)

        k_off = HQ * D + kvh * D
        v_off = HQ * D + HKV * D + kvh * D
        k_new = tl.load(qkv_ptr + k_off + d) * cos + tl.load(qkv_ptr + k_off + d_rot) * sign * sin
        k_new = k_new.to(tl.bfloat16)
        v_new = tl.load(qkv_ptr + v_off + d).to(tl.bfloat16)

        start = split * CHUNK_S
        end = tl.minimum(start + CHUNK_S, pos)
        m = tl.full((GPAD,), -1.0e30, dtype=tl.float32)
        l_sum = tl.zeros((GPAD,), dtype=tl.float32)
        acc = tl.zeros((GPAD, D), dtype=tl.float32)
        # Compile-time loop bounds (masked past `end`): Triton's interpreter turns assigned values into one-element
        # arrays, which recent NumPy no longer converts to range() bounds.
        for s0 in range(0, CHUNK_S, BLOCK_S):
            s = start + s0 + tl.arange(0, BLOCK_S)
            s_ok = s < end
            kv_offs = (s.to(tl.int64)[:, None] * HKV + kvh) * D + d[None, :]
            k = tl.load(k_cache_ptr + kv_offs, mask=s_ok[:, None], other=0.0)
            v = tl.load(v_cache_ptr + kv_offs, mask=s_ok[:, None], other=0.0)
            if not LOWP:
                k = k.to(tl.float32)
            scores = tl.dot(q, tl.trans(k))  # [GPAD, BLOCK_S], already in log2 units
            scores = tl.where(s_ok[None, :], scores, -1.0e30)
            m_new = tl.maximum(m, tl.max(scores, axis=1))
            alpha = tl.exp2(m - m_new)
            p = tl.where(s_ok[None, :], tl.exp2(scores - m_new[:, None]), 0.0)  # 0 in a block past `end`
            l_sum = l_sum * alpha + tl.sum(p, axis=1)
            if LOWP:
                acc = acc * alpha[:, None] + tl.dot(p.to(tl.bfloat16), v)
            else:
                acc = acc * alpha[:, None] + tl.dot(p.to(tl.bfloat16).to(tl.float32), v.to(tl.float32))
            m = m_new

        # The new token itself, from registers, in the program whose chunk holds its position.
        own = split == active - 1
        s_new = tl.sum(q.to(tl.float32) * k_new.to(tl.float32)[None, :], axis=1)
        s_new = tl.where(own, s_new, -1.0e30)
        m_new = tl.maximum(m, s_new)
        alpha = tl.exp2(m - m_new)
        p_new = tl.where(own, tl.exp2(s_new - m_new), 0.0)
        l_sum = l_sum * alpha + p_new
        acc = acc * alpha[:, None] + p_new[:, None] * v_new.to(tl.float32)[None, :]
        m = m_new

        new_offs = (pos.to(tl.int64) * HKV + kvh) * D + d
        tl.store(k_cache_ptr + new_offs, k_new, mask=own & (d < D))
        tl.store(v_cache_ptr + new_offs, v_new, mask=own & (d < D))

        part = split * HQ + qh
        tl.store(part_m_ptr + part, m, mask=g_ok)
        tl.store(part_l_ptr + part, l_sum, mask=g_ok)
        tl.store(part_acc_ptr + part[:, None] * D + d[None, :], acc, mask=g_ok[:, None])

        # The last of this KV head's chunks to finish merges them all (no second kernel, no launch gap): the
        # barrier puts every thread's partials before the release of the counter, whose acquire in the last
        # program orders its reads (through L2, .cg) after the others' writes.
        tl.debug_barrier()
        arrived = tl.atomic_add(count_ptr + kvh, 1, sem="acq_rel")
        if arrived == active - 1:
            tl.store(count_ptr + kvh, 0)  # ready for the next layer's launch
            hm = tl.arange(0, GM)
            hm_ok = hm < G
            qm = kvh * G + hm
            m_all = tl.full((GM,), -1.0e30, dtype=tl.float32)
            l_all = tl.zeros((GM,), dtype=tl.float32)
            acc_all = tl.zeros((GM, D), dtype=tl.float32)
            for b0 in range(0, SPLITS, SB):  # the loop stops at `active`
                if b0 < active:
                    sp = b0 + tl.arange(0, SB)
                    ok = (sp < active)[:, None] & hm_ok[None, :]
                    at = sp[:, None] * HQ + qm[None, :]  # [SB, GM]
                    m_b = tl.load(part_m_ptr + at, mask=ok, other=-1.0e30, cache_modifier=".cg")
                    l_b = tl.load(part_l_ptr + at, mask=ok, other=0.0, cache_modifier=".cg")
                    a_b = tl.load(
                        part_acc_ptr + at[:, :, None] * D + d[None, None, :],
                        mask=ok[:, :, None],
                        other=0.0,
                        cache_modifier=".cg",
                    )
                    m_next = tl.maximum(m_all, tl.max(m_b, axis=0))
                    w = tl.exp2(m_b - m_next[None, :])
                    alpha_all = tl.exp2(m_all - m_next)
                    l_all = l_all * alpha_all + tl.sum(w * l_b, axis=0)
                    acc_all = acc_all * alpha_all[:, None] + tl.sum(w[:, :, None] * a_b, axis=0)
                    m_all = m_next
            out = acc_all / l_all[:, None]
            tl.store(out_ptr + qm[:, None] * D + d[None, :], out, mask=hm_ok[:, None])


class DecodeAttention:
    """Buffers and launch for one layer's attention of the new token (shared by all layers)."""

    def __init__(
        self,
        num_heads: int,
        num_kv_heads: int,
        head_dim: int,
        max_seq: int,
        device: torch.device,
        chunk: int = CHUNK,
    ) -> None:
        self.hq, self.hkv, self.d = num_heads, num_kv_heads, head_dim
        self.chunk = chunk
        self.splits = triton.cdiv(max_seq, chunk)
        self.part_m = torch.empty(self.splits, num_heads, device=device, dtype=torch.float32)
        self.part_l = torch.empty_like(self.part_m)
        self.part_acc = torch.empty(self.splits, num_heads, head_dim, device=device, dtype=torch.float32)
        # Per KV head: how many of its chunks have written their partials (the last one merges and resets it).
        self.count = torch.zeros(num_kv_heads, device=device, dtype=torch.int32)
        self.scale_log2 = 1.4426950408889634 / math.sqrt(head_dim)

    def __call__(
        self,
        qkv: torch.Tensor,
        cos: torch.Tensor,
        sin: torch.Tensor,
        position: torch.Tensor,
        k_cache: torch.Tensor,
        v_cache: torch.Tensor,
        out: torch.Tensor,
        pdl: bool = False,
    ) -> None:
        """qkv: float32 [(HQ + 2 HKV) D] before RoPE; caches [max_seq, HKV, D]; out: float32 [HQ D].

        `pdl`: programmatic dependent launch, as the GEMVs around it (triton_gemv.py)."""
        group = self.hq // self.hkv
        use_pdl = pdl and not interpreting()
        extra = {"launch_pdl": True} if use_pdl else {}
        _attn_kernel[(self.hkv, self.splits)](
            qkv, cos, sin, position, k_cache, v_cache, self.part_m, self.part_l, self.part_acc, self.count, out,
            self.scale_log2, HQ=self.hq, HKV=self.hkv, D=self.d, CHUNK_S=self.chunk, BLOCK_S=64,
            GPAD=max(16, triton.next_power_of_2(group)), GM=triton.next_power_of_2(group), SB=8, SPLITS=self.splits,
            LOWP=not interpreting(), PDL=use_pdl, num_warps=4, **extra,
        )  # fmt: skip


@triton.jit
def _bitmask_kernel(logits_ptr, mask_ptr, V, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    ok = offs < V
    words = tl.load(mask_ptr + offs // 32, mask=ok, other=0)
    allowed = ((words >> (offs % 32)) & 1) != 0
    logits = tl.load(logits_ptr + offs, mask=ok, other=0.0)
    tl.store(logits_ptr + offs, tl.where(allowed, logits, float("-inf")), mask=ok)


def apply_token_bitmask(logits: torch.Tensor, mask: torch.Tensor) -> None:
    """logits[i] = -inf where bit i of the int32 bitmask (llguidance's layout) is clear; in place, on the GPU."""
    v = logits.numel()
    _bitmask_kernel[(triton.cdiv(v, 4096),)](logits, mask, v, BLOCK=4096)
