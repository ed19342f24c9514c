"""Batch-1 matrix-vector products for decode, in Triton: bf16 and weight-only INT4, with the step's small
element-wise work fused in so that one decode step is a short, fixed list of kernels.

At batch 1 a linear layer is a pure memory stream: every weight byte is read once and used for one
multiply-add. These kernels give each program a few whole rows, walk K in wide chunks, and split K across
programs only where the output is a residual that is added to atomically anyway.

Fusions (`prologue`, `epilogue`):
* RMSNorm in front: the program sums x² over the chunks of x it loads anyway and multiplies the finished
  dot products by rsqrt(mean + eps); x is multiplied by the norm's weight on the fly.
* `add`: y = residual + W x (the residual stream's add), in place; with split K through atomics.
* `glu`: the weight is [gate; up] stacked ([2N, K]) and the output is silu(gate x) * (up x), N values.

INT4 (`pack_int4`): asymmetric, one scale and one minimum (float16) per group of 128 inputs,
w = q * scale + minimum, eight 4-bit codes to an int32 word. Two layouts of the codes, each made for its kernel:

* "words" (the default, ~2x faster): word j of group g holds inputs 128 g + 16 i + j (i = 0..7), so all of
  a word's codes share one scale and, for each i, the 16 words of a group meet 16 consecutive inputs (x is
  loaded in the weight tile's shape, so the compiler keeps both in compatible register layouts). A few lines
  of PTX turn a word into f16x2 halves by OR-ing the codes into the mantissa of 1024 (no int-to-float
  conversion, which is slow) and take its 8-term dot product with x in f16x2 fused multiply-adds; the scale
  and minimum are applied per word in float32. A program walks K in tiles of 8-16 groups, loading the next
  tile while it unpacks this one. In a decode step on an H100 (CUDA graph, PDL) it reaches ~42 % of the copy
  bandwidth on qkv and o, ~64 % on gate_up and ~70 % on down.
* "planes": a row's K in super-groups of 1024 inputs; nibble i of word j holds input 128 i + j. Each plane is
  turned into float32 through the mantissa of 2^23 and multiplied in float32: 4 instructions a weight, so it is
  bound by the ALUs at ~35-45 % of the bandwidth. Kept as the simpler reference.

Every kernel can start with programmatic dependent launch (`pdl`): it lets the next kernel be scheduled,
requests its first weights (into L2 for the 16-bit and planes kernels, into registers for the words kernel),
then waits for the previous kernel's output. Prefetching a program's whole weight range into L2 before the
wait was tried and cost ~7 % (the lines are then read twice through L2).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
import triton
import triton.language as tl
from triton.language.extra.cuda import gdc_launch_dependents, gdc_wait

GROUP = 128  # inputs per quantization group
PLANES = 8  # groups per super-group (nibbles per int32 word)
SUPER = GROUP * PLANES  # inputs per super-group

PRO_PLAIN, PRO_RMS = 0, 1
EPI_STORE, EPI_ADD, EPI_GLU = 0, 1, 2
_EPILOGUES = {"store": EPI_STORE, "add": EPI_ADD, "glu": EPI_GLU}


def interpreting() -> bool:
    return os.environ.get("TRITON_INTERPRET") == "1"


@dataclass
class PackedInt4:
    packed: torch.Tensor  # [N, K // 8] int32, plane layout (module docstring)
    scale: torch.Tensor  # [K // GROUP, N] float16: group-major, so a program's rows are contiguous
    minimum: torch.Tensor  # [K // GROUP, N] float16
    layout: str = "planes"  # "planes" or "words" (module docstring)

    @property
    def out_features(self) -> int:
        return int(self.packed.shape[0])

    @property
    def in_features(self) -> int:
        return int(self.packed.shape[1]) * 8

    @property
    def shape(self) -> tuple[int, int]:
        return self.out_features, self.in_features

    def nbytes(self) -> int:
        return sum(t.numel() * t.element_size() for t in (self.packed, self.scale, self.minimum))

    def codes(self) -> torch.Tensor:
        """The 4-bit codes q[n, k] in 0..15 (torch ops; for checks)."""
        n, k = self.shape
        if self.layout == "words":
            words = self.packed.reshape(n, k // GROUP, 1, 16)
            shifts = (torch.arange(8, device=self.packed.device, dtype=torch.int32) * 4).reshape(1, 1, 8, 1)
            return ((words >> shifts) & 0xF).reshape(n, k)
        words = self.packed.reshape(n, k // SUPER, 1, GROUP)
        shifts = (torch.arange(PLANES, device=self.packed.device, dtype=torch.int32) * 4).reshape(1, 1, PLANES, 1)
        return ((words >> shifts) & 0xF).reshape(n, k)

    def dequantize_reference(self) -> torch.Tensor:
        """float32 [N, K] through plain torch ops: what every kernel must agree with."""
        n, k = self.shape
        q = self.codes().float().reshape(n, k // GROUP, GROUP)
        w = q * self.scale.float().t().unsqueeze(-1) + self.minimum.float().t().unsqueeze(-1)
        return w.reshape(n, k)

    def slice_rows(self, start: int, stop: int) -> PackedInt4:
        return PackedInt4(
            self.packed[start:stop].contiguous(),
            self.scale[:, start:stop].contiguous(),
            self.minimum[:, start:stop].contiguous(),
            self.layout,
        )


def pack_int4(weight: torch.Tensor, layout: str = "words") -> PackedInt4:
    """Round-to-nearest asymmetric INT4 per group of 128 inputs (what AWQ/GPTQ checkpoints also store)."""
    if layout not in ("planes", "words"):
        raise ValueError(f"unknown INT4 layout {layout!r}")
    n, k = weight.shape
    if k % SUPER:
        raise ValueError(f"in_features {k} must be a multiple of {SUPER} for the INT4 layout")
    w = weight.float().reshape(n, k // GROUP, GROUP)
    w_min = w.amin(dim=-1)
    scale = ((w.amax(dim=-1) - w_min) / 15).clamp(min=1e-6)
    scale16, min16 = scale.to(torch.float16), w_min.to(torch.float16)
    # Quantize against the float16 values the kernel will use.
    q = ((w - min16.float().unsqueeze(-1)) / scale16.float().unsqueeze(-1)).round().clamp(0, 15).to(torch.int64)
    if layout == "words":  # word j of group g: inputs 128 g + 16 i + j, i = 0..7
        q = q.reshape(n, k // GROUP, 8, 16)
        shifts = (torch.arange(8, device=weight.device, dtype=torch.int64) * 4).reshape(1, 1, 8, 1)
        words = (q << shifts).sum(dim=2)  # [n, groups, 16]
    else:
        q = q.reshape(n, k // SUPER, PLANES, GROUP)
        shifts = (torch.arange(PLANES, device=weight.device, dtype=torch.int64) * 4).reshape(1, 1, PLANES, 1)
        words = (q << shifts).sum(dim=2)  # [n, supers, GROUP]
    words = torch.where(words >= 2**31, words - 2**32, words).to(torch.int32)  # keep the bit pattern
    packed = words.reshape(n, k // 8).contiguous()
    return PackedInt4(packed, scale16.t().contiguous(), min16.t().contiguous(), layout)


@triton.jit
def _epilogue(
    total,
    pid_n,
    res_ptr,
    out_ptr,
    N,
    EPI: tl.constexpr,
    BLOCK_N: tl.constexpr,
    ROWS: tl.constexpr,
    SPLIT_K: tl.constexpr,
):
    if EPI == 2:
        gate, up = tl.split(tl.reshape(total, (BLOCK_N, 2)))
        rows = pid_n * BLOCK_N + tl.arange(0, BLOCK_N)
        tl.store(out_ptr + rows, gate * tl.sigmoid(gate) * up, mask=rows < N)
    else:
        rows = pid_n * BLOCK_N + tl.arange(0, ROWS)
        ok = rows < N
        if EPI == 1:
            if SPLIT_K == 1:
                tl.store(out_ptr + rows, tl.load(res_ptr + rows, mask=ok, other=0.0) + total, mask=ok)
            else:
                tl.atomic_add(out_ptr + rows, total, mask=ok, sem="relaxed")
        else:
            tl.store(out_ptr + rows, total, mask=ok)


@triton.jit
def _pdl_start(row_ptrs):
    """Programmatic dependent launch: let the next kernel be scheduled now, pull this program's first weight
    lines into L2 (weights never depend on the previous kernel), then wait for the previous kernel's results."""
    gdc_launch_dependents()
    tl.inline_asm_elementwise(
        "prefetch.global.L2 [$1]; // $0", "=r,l", [row_ptrs], dtype=tl.int32, is_pure=False, pack=1
    )
    gdc_wait()


@triton.jit
def _weight_rows(pid_n, N, EPI: tl.constexpr, BLOCK_N: tl.constexpr, ROWS: tl.constexpr):
    j = tl.arange(0, ROWS)
    if EPI == 2:  # gate row b and up row b side by side: j = 2 b + (0 gate | 1 up)
        out_row = pid_n * BLOCK_N + j // 2
        rows = out_row + (j % 2) * N
        ok = out_row < N
    else:
        rows = pid_n * BLOCK_N + j
        ok = rows < N
    return rows, ok


@triton.jit
def _gemv_16bit_kernel(
    x_ptr,
    w_ptr,
    gamma_ptr,
    res_ptr,
    out_ptr,
    N,
    K,
    eps,
    PRO: tl.constexpr,
    EPI: tl.constexpr,
    ROWS: tl.constexpr,
    BLOCK_N: tl.constexpr,
    BLOCK_K: tl.constexpr,
    SPLIT_K: tl.constexpr,
    PDL: tl.constexpr,
):
    pid_n = tl.program_id(0)
    pid_k = tl.program_id(1)
    rows, row_ok = _weight_rows(pid_n, N, EPI, BLOCK_N, ROWS)
    row_base = rows.to(tl.int64)[:, None] * K
    acc = tl.zeros((ROWS, BLOCK_K), dtype=tl.float32)
    ssq = tl.zeros((BLOCK_K,), dtype=tl.float32)
    chunk = tl.cdiv(tl.cdiv(K, SPLIT_K), BLOCK_K) * BLOCK_K
    k_start = pid_k * chunk
    k_end = tl.minimum(k_start + chunk, K)
    if PDL:  # one 128-byte line per 64 values of the first chunk
        _pdl_start(w_ptr + row_base + k_start + tl.arange(0, BLOCK_K // 64)[None, :] * 64)
    for k0 in range(k_start, k_end, BLOCK_K):
        ks = k0 + tl.arange(0, BLOCK_K)
        k_ok = ks < k_end
        x = tl.load(x_ptr + ks, mask=k_ok, other=0.0).to(tl.float32)
        if PRO == 1:
            ssq += x * x
            x = x * tl.load(gamma_ptr + ks, mask=k_ok, other=0.0).to(tl.float32)
        w = tl.load(
            w_ptr + row_base + ks[None, :],
            mask=row_ok[:, None] & k_ok[None, :],
            other=0.0,
            eviction_policy="evict_first",
        )
        acc += w.to(tl.float32) * x[None, :]
    total = tl.sum(acc, axis=1)
    if PRO == 1:
        total = total * tl.rsqrt(tl.sum(ssq, axis=0) / K + eps)
    _epilogue(total, pid_n, res_ptr, out_ptr, N, EPI, BLOCK_N, ROWS, SPLIT_K)


@triton.jit
def _gemv_int4_kernel(
    x_ptr,
    p_ptr,
    s_ptr,
    m_ptr,
    gamma_ptr,
    res_ptr,
    out_ptr,
    N,
    K,
    eps,
    PRO: tl.constexpr,
    EPI: tl.constexpr,
    ROWS: tl.constexpr,
    BLOCK_N: tl.constexpr,
    SPLIT_K: tl.constexpr,
    PREFETCH: tl.constexpr,
    PDL: tl.constexpr,
):
    pid_n = tl.program_id(0)
    pid_k = tl.program_id(1)
    rows, row_ok = _weight_rows(pid_n, N, EPI, BLOCK_N, ROWS)
    if EPI == 2:  # noqa: SIM108 - a constexpr branch, resolved when the kernel is compiled
        n_weight_rows = 2 * N
    else:
        n_weight_rows = N
    words = tl.arange(0, 128)
    row_base = rows.to(tl.int64)[:, None] * (K // 8)
    acc = tl.zeros((ROWS, 128), dtype=tl.float32)
    ssq = tl.zeros((128,), dtype=tl.float32)
    supers = K // 1024
    per = tl.cdiv(supers, SPLIT_K)
    s_begin = pid_k * per
    s_end = tl.minimum(s_begin + per, supers)
    if PDL:
        _pdl_start(p_ptr + row_base + s_begin * 128 + tl.arange(0, 4)[None, :] * 32)
    if PREFETCH:  # the next super-group's words are in flight while this one is unpacked
        p = tl.load(
            p_ptr + row_base + (s_begin * 128 + words)[None, :],
            mask=row_ok[:, None] & (s_begin < s_end),
            other=0,
            eviction_policy="evict_first",
        )
    for sg in range(s_begin, s_end):
        if PREFETCH:
            p_next = tl.load(
                p_ptr + row_base + ((sg + 1) * 128 + words)[None, :],
                mask=row_ok[:, None] & (sg + 1 < s_end),
                other=0,
                eviction_policy="evict_first",
            )
        else:
            p = tl.load(
                p_ptr + row_base + (sg * 128 + words)[None, :],
                mask=row_ok[:, None],
                other=0,
                eviction_policy="evict_first",
            )
        for half in range(2):  # planes 0-3 from the word, 4-7 from the word shifted by 16: 4 unrolled at a time
            src = p >> (16 * half)
            for j in tl.static_range(4):
                ks = sg * 1024 + (half * 4 + j) * 128 + words
                x = tl.load(x_ptr + ks).to(tl.float32)
                if PRO == 1:
                    ssq += x * x
                    x = x * tl.load(gamma_ptr + ks).to(tl.float32)
                group = sg * 8 + half * 4 + j
                scale = tl.load(s_ptr + group * n_weight_rows + rows, mask=row_ok, other=0.0).to(tl.float32)
                minimum = tl.load(m_ptr + group * n_weight_rows + rows, mask=row_ok, other=0.0).to(tl.float32)
                bits = (src & (0xF << (4 * j))) | 0x4B000000
                q = bits.to(tl.float32, bitcast=True) - 8388608.0  # = code * 16^j, exactly
                scale = scale * (1.0 / (1 << (4 * j)))
                acc += (q * scale[:, None] + minimum[:, None]) * x[None, :]
        if PREFETCH:
            p = p_next
    total = tl.sum(acc, axis=1)
    if PRO == 1:
        total = total * tl.rsqrt(tl.sum(ssq, axis=0) / K + eps)
    _epilogue(total, pid_n, res_ptr, out_ptr, N, EPI, BLOCK_N, ROWS, SPLIT_K)


# One int32 word of 8 codes (nibble i = input i) times 8 inputs given as float16 pairs (x_i, x_i+4), in f16x2
# arithmetic: the codes become halves by OR-ing them into the mantissa of 1024 (nibbles at bits 4-7 come out
# times 16 and are scaled back in the same fused multiply-add). Returns the float32 sum of the 8 products.
_DOT8_ASM = tl.constexpr("""{
.reg .b32 tq, ta, tb, tc, td, tacc, k1024, k16, km64;
.reg .f16 h0, h1;
.reg .f32 f0, f1;
mov.b32 k1024, 0x64006400;
mov.b32 k16, 0x2C002C00;
mov.b32 km64, 0xD400D400;
lop3.b32 ta, $1, 0x000f000f, 0x64006400, 0xea;
lop3.b32 tb, $1, 0x00f000f0, 0x64006400, 0xea;
shr.u32 tq, $1, 8;
lop3.b32 tc, tq, 0x000f000f, 0x64006400, 0xea;
lop3.b32 td, tq, 0x00f000f0, 0x64006400, 0xea;
sub.f16x2 ta, ta, k1024;
fma.rn.f16x2 tb, tb, k16, km64;
sub.f16x2 tc, tc, k1024;
fma.rn.f16x2 td, td, k16, km64;
mul.f16x2 tacc, ta, $2;
fma.rn.f16x2 tacc, tb, $3, tacc;
fma.rn.f16x2 tacc, tc, $4, tacc;
fma.rn.f16x2 tacc, td, $5, tacc;
mov.b32 {h0, h1}, tacc;
cvt.f32.f16 f0, h0;
cvt.f32.f16 f1, h1;
add.f32 $0, f0, f1;
}""")


@triton.jit
def _f16_pair(lo, hi):
    """Two float32 tensors -> int32 holding (half(lo), half(hi)) as f16x2 (lo in the low half)."""
    return tl.inline_asm_elementwise(
        "cvt.rn.f16x2.f32 $0, $1, $2;", "=r,f,f", [hi, lo], dtype=tl.int32, is_pure=True, pack=1
    )


@triton.jit
def _int4w_tile(p_ptr, s_ptr, m_ptr, row_base, rows3, rok, word, g3, c, c_end, KG, n_weight_rows, GPI: tl.constexpr):
    """Tile c of a program's rows: the packed words [ROWS, GPI, 16] and the scales and minima [ROWS, GPI, 1]
    of GPI groups (all-masked past c_end, so a prefetch of the tile after the last costs no memory traffic)."""
    gg = c * GPI + g3  # [1, GPI, 1] group index along K
    ok = rok & (gg < KG) & (c < c_end)
    p = tl.load(p_ptr + row_base + c * (GPI * 16) + word, mask=ok, other=0, eviction_policy="evict_first")
    sm_offs = gg * n_weight_rows + rows3
    scale = tl.load(s_ptr + sm_offs, mask=ok, other=0.0, eviction_policy="evict_first")
    minimum = tl.load(m_ptr + sm_offs, mask=ok, other=0.0, eviction_policy="evict_first")
    return p, scale, minimum


@triton.jit
def _gemv_int4w_kernel(  # noqa: PLR0915 - one kernel, written out
    x_ptr,
    p_ptr,
    s_ptr,
    m_ptr,
    gamma_ptr,
    res_ptr,
    out_ptr,
    N,
    K,
    KW,
    eps,
    PRO: tl.constexpr,
    EPI: tl.constexpr,
    ROWS: tl.constexpr,
    BLOCK_N: tl.constexpr,
    SPLIT_K: tl.constexpr,
    GPI: tl.constexpr,
    ASM: tl.constexpr,
    PDL: tl.constexpr,
):
    """INT4 "words" layout: tiles of [rows, GPI groups, 16 words] = 128 GPI inputs per row per iteration.

    The next tile's words are loaded while this one is unpacked, and the first tile is requested before the
    PDL wait (weights never depend on the previous kernel): a short-K layer (qkv, o: 4096 inputs = one tile of
    32 groups) then streams its weights while the previous kernel drains, and a long one keeps two tiles in flight.
    """
    pid_n = tl.program_id(0)
    pid_k = tl.program_id(1)
    rows, row_ok = _weight_rows(pid_n, N, EPI, BLOCK_N, ROWS)
    if EPI == 2:  # noqa: SIM108 - a constexpr branch
        n_weight_rows = 2 * N
    else:
        n_weight_rows = N
    g = tl.arange(0, GPI)
    w = tl.arange(0, 16)
    word = (g[:, None] * 16 + w[None, :])[None, :, :]  # [1, GPI, 16] word of the tile
    x_off = (g[:, None] * 128 + w[None, :])[None, :, :]  # its nibble 0's input within the tile
    g3 = g[None, :, None]
    rows3 = rows[:, None, None]
    row_base = rows.to(tl.int64)[:, None, None] * KW
    rok = row_ok[:, None, None]
    acc = tl.zeros((ROWS, GPI, 16), dtype=tl.float32)
    ssq = tl.zeros((1, GPI, 16), dtype=tl.float32)
    KG = K // 128
    tiles = tl.cdiv(KG, GPI)
    per = tl.cdiv(tiles, SPLIT_K)
    c_begin = pid_k * per
    c_end = tl.minimum(c_begin + per, tiles)
    p, scale, minimum = _int4w_tile(p_ptr, s_ptr, m_ptr, row_base, rows3, rok, word, g3, c_begin, c_end, KG,
                                    n_weight_rows, GPI)  # fmt: skip
    if PDL:
        gdc_launch_dependents()
        gdc_wait()
    for c in range(c_begin, c_end):
        p_next, scale_next, minimum_next = _int4w_tile(
            p_ptr, s_ptr, m_ptr, row_base, rows3, rok, word, g3, c + 1, c_end, KG, n_weight_rows, GPI
        )
        kx = c * (GPI * 128) + x_off  # input of nibble 0; nibble i is 16 i further
        x_ok = (c * GPI + g3) < KG
        x0 = tl.load(x_ptr + kx, mask=x_ok, other=0.0).to(tl.float32)
        x1 = tl.load(x_ptr + kx + 16, mask=x_ok, other=0.0).to(tl.float32)
        x2 = tl.load(x_ptr + kx + 32, mask=x_ok, other=0.0).to(tl.float32)
        x3 = tl.load(x_ptr + kx + 48, mask=x_ok, other=0.0).to(tl.float32)
        x4 = tl.load(x_ptr + kx + 64, mask=x_ok, other=0.0).to(tl.float32)
        x5 = tl.load(x_ptr + kx + 80, mask=x_ok, other=0.0).to(tl.float32)
        x6 = tl.load(x_ptr + kx + 96, mask=x_ok, other=0.0).to(tl.float32)
        x7 = tl.load(x_ptr + kx + 112, mask=x_ok, other=0.0).to(tl.float32)
        if PRO == 1:
            ssq += x0 * x0 + x1 * x1 + x2 * x2 + x3 * x3 + x4 * x4 + x5 * x5 + x6 * x6 + x7 * x7
            x0 = x0 * tl.load(gamma_ptr + kx, mask=x_ok, other=0.0).to(tl.float32)
            x1 = x1 * tl.load(gamma_ptr + kx + 16, mask=x_ok, other=0.0).to(tl.float32)
            x2 = x2 * tl.load(gamma_ptr + kx + 32, mask=x_ok, other=0.0).to(tl.float32)
            x3 = x3 * tl.load(gamma_ptr + kx + 48, mask=x_ok, other=0.0).to(tl.float32)
            x4 = x4 * tl.load(gamma_ptr + kx + 64, mask=x_ok, other=0.0).to(tl.float32)
            x5 = x5 * tl.load(gamma_ptr + kx + 80, mask=x_ok, other=0.0).to(tl.float32)
            x6 = x6 * tl.load(gamma_ptr + kx + 96, mask=x_ok, other=0.0).to(tl.float32)
            x7 = x7 * tl.load(gamma_ptr + kx + 112, mask=x_ok, other=0.0).to(tl.float32)
        xsum = x0 + x1 + x2 + x3 + x4 + x5 + x6 + x7
        if ASM:
            dot = tl.inline_asm_elementwise(
                _DOT8_ASM,
                "=f,r,r,r,r,r",
                [p, _f16_pair(x0, x4), _f16_pair(x1, x5), _f16_pair(x2, x6), _f16_pair(x3, x7)],
                dtype=tl.float32,
                is_pure=True,
                pack=1,
            )
        else:  # the CPU interpreter runs no PTX: the same sum in float32
            dot = ((p & 0xF).to(tl.float32) * x0 + ((p >> 4) & 0xF).to(tl.float32) * x1
                   + ((p >> 8) & 0xF).to(tl.float32) * x2 + ((p >> 12) & 0xF).to(tl.float32) * x3
                   + ((p >> 16) & 0xF).to(tl.float32) * x4 + ((p >> 20) & 0xF).to(tl.float32) * x5
                   + ((p >> 24) & 0xF).to(tl.float32) * x6 + ((p >> 28) & 0xF).to(tl.float32) * x7)  # fmt: skip
        acc += dot * scale.to(tl.float32) + minimum.to(tl.float32) * xsum
        p, scale, minimum = p_next, scale_next, minimum_next
    total = tl.sum(tl.sum(acc, axis=2), axis=1)
    if PRO == 1:
        total = total * tl.rsqrt(tl.sum(tl.sum(tl.sum(ssq, axis=2), axis=1), axis=0) / K + eps)
    _epilogue(total, pid_n, res_ptr, out_ptr, N, EPI, BLOCK_N, ROWS, SPLIT_K)


@triton.jit
def _dequant_int4_kernel(p_ptr, s_ptr, m_ptr, out_ptr, N, K, BLOCK_N: tl.constexpr):
    pid_n = tl.program_id(0)
    sg = tl.program_id(1)
    rows = pid_n * BLOCK_N + tl.arange(0, BLOCK_N)
    ok = rows < N
    words = tl.arange(0, 128)
    p = tl.load(p_ptr + rows.to(tl.int64)[:, None] * (K // 8) + (sg * 128 + words)[None, :], mask=ok[:, None], other=0)
    for i in tl.static_range(8):
        q = ((p >> (4 * i)) & 0xF).to(tl.float32)
        scale = tl.load(s_ptr + (sg * 8 + i) * N + rows, mask=ok, other=0.0).to(tl.float32)
        minimum = tl.load(m_ptr + (sg * 8 + i) * N + rows, mask=ok, other=0.0).to(tl.float32)
        w = q * scale[:, None] + minimum[:, None]
        ks = sg * 1024 + i * 128 + words
        tl.store(
            out_ptr + rows.to(tl.int64)[:, None] * K + ks[None, :], w.to(out_ptr.dtype.element_ty), mask=ok[:, None]
        )


@triton.jit
def _dequant_int4w_kernel(p_ptr, s_ptr, m_ptr, out_ptr, N, K, BLOCK_N: tl.constexpr):
    pid_n = tl.program_id(0)
    c = tl.program_id(1)
    rows = pid_n * BLOCK_N + tl.arange(0, BLOCK_N)
    ok = rows < N
    words = tl.arange(0, 128)
    p = tl.load(p_ptr + rows.to(tl.int64)[:, None] * (K // 8) + (c * 128 + words)[None, :], mask=ok[:, None], other=0)
    g = c * 8 + words // 16
    scale = tl.load(s_ptr + g[None, :] * N + rows[:, None], mask=ok[:, None], other=0.0).to(tl.float32)
    minimum = tl.load(m_ptr + g[None, :] * N + rows[:, None], mask=ok[:, None], other=0.0).to(tl.float32)
    for i in tl.static_range(8):
        q = ((p >> (4 * i)) & 0xF).to(tl.float32)
        ks = c * 1024 + (words // 16) * 128 + i * 16 + words % 16
        out = (q * scale + minimum).to(out_ptr.dtype.element_ty)
        tl.store(out_ptr + rows.to(tl.int64)[:, None] * K + ks[None, :], out, mask=ok[:, None])


def dequantize_int4(
    weight: PackedInt4, out: torch.Tensor | None = None, dtype: torch.dtype = torch.bfloat16
) -> torch.Tensor:
    """The layer's weight in 16 bits (for prompts, which run through cuBLAS); `out` may be a reused buffer."""
    n, k = weight.shape
    if out is None:
        out = torch.empty(n, k, device=weight.packed.device, dtype=dtype)
    out = out.view(-1)[: n * k].view(n, k)
    block = 16
    kernel = _dequant_int4w_kernel if weight.layout == "words" else _dequant_int4_kernel
    kernel[(triton.cdiv(n, block), k // SUPER)](weight.packed, weight.scale, weight.minimum, out, n, k, BLOCK_N=block)
    return out


# ---- launch configuration: measured once per (kernel, shape, fusion) on the first call -------------------------

# BLOCK_N, then BLOCK_K (16-bit), PREFETCH (INT4 planes) or groups per tile (INT4 words), SPLIT_K, num_warps, num_stages
Config = tuple[int, int, int, int, int]

BF16_CONFIGS: list[Config] = [
    (2, 1024, 1, 4, 1),
    (4, 512, 1, 4, 1),
    (4, 1024, 1, 8, 1),
    (8, 512, 1, 8, 1),
    (4, 512, 1, 4, 3),
    (8, 256, 1, 4, 3),
    (4, 512, 2, 4, 1),
    (4, 512, 4, 4, 1),
    (2, 1024, 4, 4, 1),
]
# Kept to at most 8 rows per 4 warps: more rows (the unrolled planes hold their own x, scales and minima) cost
# registers and so programs in flight per SM (checked with cuobjdump -res-usage on sm_90 builds).
INT4_CONFIGS: list[Config] = [  # the second field is PREFETCH (0/1) here
    (2, 1, 1, 4, 1),
    (4, 1, 1, 4, 1),
    (4, 0, 1, 4, 1),
    (8, 0, 1, 4, 1),
    (8, 1, 1, 8, 1),
    (16, 0, 1, 8, 1),
    (4, 1, 2, 4, 1),
    (8, 0, 2, 4, 1),
    (4, 1, 4, 4, 1),
    (8, 0, 4, 4, 1),
]

# The "words" layout: the second field is the groups of 128 inputs per tile (GPI). Measured on an H100 in a
# CUDA graph of 32 layers chained by PDL: qkv and gate_up best at (8, 8, 1, 4, 2) / (8, 16, 1, 4, 1), o at
# (8, 8, 2, 4, 1), down at (8, 16, 1, 4, 1); 8 warps on these tiles ran 2-3x slower, so none is offered.
INT4W_CONFIGS: list[Config] = [
    (8, 8, 1, 4, 2),
    (8, 16, 1, 4, 1),
    (4, 16, 1, 4, 1),
    (4, 8, 1, 4, 1),
    (8, 8, 1, 4, 1),
    (8, 8, 2, 4, 1),
    (4, 8, 2, 4, 1),
    (8, 16, 2, 4, 1),
    (8, 16, 2, 4, 2),
    (8, 8, 4, 4, 1),
]

_chosen: dict[tuple[Any, ...], Config] = {}
_timings: dict[tuple[Any, ...], list[tuple[Config, float]]] = {}
_flush: list[torch.Tensor] = []


def tuning_report() -> list[dict[str, Any]]:
    """Which configuration each (kernel, N, K, fusion) got, with the measured microseconds of every candidate."""
    return [
        {
            "key": list(map(str, key)),
            "chosen": list(_chosen[key]),
            "candidates_us": [[list(c), round(t, 2)] for c, t in times],
        }
        for key, times in _timings.items()
    ]


def _time_config(launch: Callable[[Config], None], config: Config, restore: Sequence[torch.Tensor]) -> float:
    saved = [t.clone() for t in restore]
    if not _flush:
        _flush.append(torch.empty(64 * 2**20, dtype=torch.int32, device=saved[0].device if saved else "cuda"))
    launch(config)  # compile
    times = []
    for _ in range(12):
        _flush[0].zero_()  # evict the weights from L2: in a decode step every layer's weights arrive cold
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        launch(config)
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end) * 1000)
    for original, copy in zip(restore, saved, strict=True):
        original.copy_(copy)
    return sorted(times)[len(times) // 2]


def _choose(
    key: tuple[Any, ...], candidates: list[Config], launch: Callable[[Config], None], restore: Sequence[torch.Tensor]
) -> Config:
    chosen = _chosen.get(key)
    if chosen is not None:
        return chosen
    if interpreting():  # the CPU interpreter: fewest programs and widest tiles, fastest to run
        chosen = max(candidates, key=lambda c: (c[0], c[1], -c[2]))
    elif len(candidates) == 1:
        chosen = candidates[0]
    else:
        measured = []
        for config in candidates:
            try:
                measured.append((config, _time_config(launch, config, restore)))
            except Exception as error:  # a configuration the compiler cannot fit (shared memory, registers)
                if "OutOfResources" not in type(error).__name__:
                    raise
        _timings[key] = measured
        chosen = min(measured, key=lambda item: item[1])[0]
    _chosen[key] = chosen
    return chosen


def gemv(
    x: torch.Tensor,
    weight: torch.Tensor | PackedInt4,
    out: torch.Tensor,
    *,
    epilogue: str = "store",
    norm_weight: torch.Tensor | None = None,
    eps: float = 1e-5,
    residual: torch.Tensor | None = None,
    config: Config | None = None,
    pdl: bool = False,
) -> torch.Tensor:
    """out = epilogue(W · prologue(x)) for one input row x, writing float32 `out` (a buffer the caller owns).

    `norm_weight`: RMSNorm x first (over all of x). `epilogue`: "store"; "add" (out = residual + W x, residual
    defaulting to out itself); "glu" (W is [gate; up], out = silu(gate x) * up x). `config` pins a launch
    configuration instead of the measured choice. `pdl`: programmatic dependent launch (Hopper): the kernel
    starts while the previous one finishes and prefetches its first weights before waiting for its input.
    """
    epi = _EPILOGUES[epilogue]
    n_rows, k = weight.shape
    n = n_rows // 2 if epi == EPI_GLU else n_rows
    if x.numel() != k:
        raise ValueError(f"x has {x.numel()} values, the layer takes {k}")
    if out.numel() != n or out.dtype != torch.float32 or not out.is_contiguous():
        raise ValueError(f"out must be a contiguous float32 buffer of {n} values")
    res = out if residual is None else residual
    in_place = res.data_ptr() == out.data_ptr()
    pro = PRO_RMS if norm_weight is not None else PRO_PLAIN
    gamma = norm_weight if norm_weight is not None else x
    x = x.reshape(-1)

    def launch(cfg: Config) -> None:
        block_n, block_k, split, warps, stages = cfg
        rows = 2 * block_n if epi == EPI_GLU else block_n
        grid = (triton.cdiv(n, block_n), split)
        use_pdl = pdl and not interpreting()
        common = {"PRO": pro, "EPI": epi, "ROWS": rows, "BLOCK_N": block_n, "SPLIT_K": split, "PDL": use_pdl}
        if use_pdl:
            common["launch_pdl"] = True
        if isinstance(weight, PackedInt4) and weight.layout == "words":
            _gemv_int4w_kernel[grid](
                x, weight.packed, weight.scale, weight.minimum, gamma, res, out, n, k, k // 8, eps,
                **common, GPI=block_k or 8, ASM=not interpreting(), num_warps=warps, num_stages=stages,
            )  # fmt: skip
        elif isinstance(weight, PackedInt4):
            _gemv_int4_kernel[grid](
                x, weight.packed, weight.scale, weight.minimum, gamma, res, out, n, k, eps,
                **common, PREFETCH=block_k, num_warps=warps, num_stages=stages,
            )  # fmt: skip
        else:
            _gemv_16bit_kernel[grid](
                x, weight, gamma, res, out, n, k, eps, **common, BLOCK_K=block_k, num_warps=warps, num_stages=stages
            )

    if config is None:
        # Split K only where the result is added into the output anyway (atomics) and the prologue needs no full row.
        can_split = epi == EPI_ADD and in_place and pro == PRO_PLAIN
        family = f"int4-{weight.layout}" if isinstance(weight, PackedInt4) else "16bit"
        table = {"int4-planes": INT4_CONFIGS, "int4-words": INT4W_CONFIGS, "16bit": BF16_CONFIGS}[family]
        candidates = [c for c in table if c[2] == 1 or can_split]
        key = (family, n, k, pro, epi, can_split)
        config = _choose(key, candidates, launch, [out] if epi == EPI_ADD else [])
    launch(config)
    return out
