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

INT4 (`pack_int4`): asymmetric, one scale and one minimum (float16) per group of 128 inputs, w = q * scale +
minimum, eight 4-bit codes to an int32 word; the (scale, minimum) pairs sit row-major beside the codes
(`PackedInt4.scale_min`, [N, K / 128] int32), so that a program's rows read theirs as whole sectors. Two layouts
of the codes, each made for its kernel:

* "words" (the default): word j of group g holds inputs 128 g + 16 i + j (i = 0..7), so all of a word's codes
  share one scale. The kernel gives each warp a few rows; lane l holds 16 bytes (4 words, of one group) of every
  row, for each super-group of 1024 inputs, so that the lane's work on x (loading it, RMSNorm's sum of squares and
  weight, turning it into float16 pairs) serves all the program's rows. A few lines of PTX turn
  a word into f16x2 halves by OR-ing the codes into the mantissa of 1024 (no int-to-float conversion, which is
  slow), centre them on 0 (q - 8, exact) and take the dot product of 4 words with x in f16x2 fused multiply-adds;
  the scale and minimum are applied per lane in float32. RMSNorm's 1 / rms multiplies the finished dot products:
  the float16 pairs hold x times the norm's weight (products of at most 8 |x| and sums of 16 of them, which stay in
  float16's range for residual streams up to a few thousand). The layers that add into the residual split K
  (atomically) down to one super-group a program; gate_up gives its 4 super-groups to 4 warps of one program
  (summed through shared memory, so the GLU sees whole rows); qkv walks them one at a time. These kernels are bound
  by the bytes in flight, i.e. by registers: K is a compile-time constant so that a row's address is one base plus
  immediates (80 registers for a tile of 8 rows instead of 128), and one tile a warp at more warps an SM beat two
  tiles a warp at 255 registers. In the INT4 decode step on an H100 (CUDA graph, PDL) a layer takes ~62 us against
  ~39 us of weight bytes at the copy bandwidth: qkv ~9, attention ~10.5, o ~4, gate_up ~28, down ~10.5 (each
  kernel's end after the previous one's, bench/gemv_kernels.py STEP=1); the step as a whole ~68-69 % of its bound
  (bench/results/gemv-kernels-*.json, planner-*.json).
* "planes": a row's K in super-groups of 1024 inputs; nibble i of word j holds input 128 i + j. Each plane is
  turned into float32 through the mantissa of 2^23 and multiplied in float32: 4 instructions a weight, so it is
  bound by the ALUs at ~35-45 % of the bandwidth. Kept as the simpler reference.

Every kernel can start with programmatic dependent launch (`pdl`): it lets the next kernel be scheduled,
requests its first weights (into L2 for the 16-bit and planes kernels, all of them into registers for the words
kernel), then waits for the previous kernel's output. Prefetching a program's whole weight range into L2 before the
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
    packed: torch.Tensor  # [N, K // 8] int32 codes, in the layout `layout` names (module docstring)
    scale_min: torch.Tensor  # [N, K // GROUP] int32: per row and group, float16 scale (low half) and minimum (high)
    layout: str = "words"  # "planes" or "words" (module docstring)

    @property
    def out_features(self) -> int:
        return int(self.packed.shape[0])

    @property
    def in_features(self) -> int:
        return int(self.packed.shape[1]) * 8

    @property
    def shape(self) -> tuple[int, int]:
        return self.out_features, self.in_features

    @property
    def scale(self) -> torch.Tensor:
        """[N, K // GROUP] float16 (a view)."""
        return self.scale_min.view(torch.float16)[:, 0::2]

    @property
    def minimum(self) -> torch.Tensor:
        """[N, K // GROUP] float16 (a view)."""
        return self.scale_min.view(torch.float16)[:, 1::2]

    def nbytes(self) -> int:
        return sum(t.numel() * t.element_size() for t in (self.packed, self.scale_min))

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
        w = q * self.scale.float().unsqueeze(-1) + self.minimum.float().unsqueeze(-1)
        return w.reshape(n, k)

    def slice_rows(self, start: int, stop: int) -> PackedInt4:
        return PackedInt4(self.packed[start:stop].contiguous(), self.scale_min[start:stop].contiguous(), self.layout)


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
    scale_min = torch.stack([scale16, min16], dim=-1).view(torch.int32).reshape(n, k // GROUP).contiguous()
    return PackedInt4(packed, scale_min, layout)


@triton.jit
def _scale_min(sm, ASM: tl.constexpr = False):
    """int32 (scale, minimum) float16 pairs -> two float32 tensors."""
    if ASM:
        scale, minimum = tl.inline_asm_elementwise(
            "{ .reg .f16 lo, hi; mov.b32 {lo, hi}, $2; cvt.f32.f16 $0, lo; cvt.f32.f16 $1, hi; }",
            "=f,=f,r",
            [sm],
            dtype=(tl.float32, tl.float32),
            is_pure=True,
            pack=1,
        )
    else:
        scale = (sm & 0xFFFF).to(tl.int16).to(tl.float16, bitcast=True).to(tl.float32)
        minimum = (sm >> 16).to(tl.int16).to(tl.float16, bitcast=True).to(tl.float32)
    return scale, minimum


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
    sm_ptr,
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
                scale, minimum = _scale_min(tl.load(sm_ptr + rows * (K // 128) + group, mask=row_ok, other=0))
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


def _dot_asm(words: int) -> str:
    """PTX: `words` int32 words of 8 codes each (nibble i of a word = input 16 i of its column) times their inputs,
    given per word as four float16 pairs (x_i, x_i+4), i = 0..3; returns the float32 sum of the 8 `words` products
    of (code - 8) and x. A code becomes a half by OR-ing it into the mantissa of 1024 (no int-to-float conversion,
    which is slow): 1024 + q, or 1024 + 16 q for the nibbles at bits 4-7, which one fused multiply-add by 1/16
    brings back; subtracting 1032 (or 72) centres it on 0 (exact), which halves the rounding of the float16
    products and sums against codes of 0..15. Each half of the f16x2 accumulator sums 4 `words` products."""
    k1032, k16, km72 = (f"${1 + 5 * words + i}" for i in range(3))  # constants, as operands: loaded once
    lines = ["{", ".reg .b32 ta, tb, tc, td, tq, tacc;", ".reg .f16 h0, h1;", ".reg .f32 f0, f1;"]
    for w in range(words):
        word, pairs = f"${1 + w}", [f"${1 + words + 4 * w + i}" for i in range(4)]
        lines += [
            f"lop3.b32 ta, {word}, 0x000f000f, 0x64006400, 0xea;",
            f"lop3.b32 tb, {word}, 0x00f000f0, 0x64006400, 0xea;",
            f"shr.u32 tq, {word}, 8;",
            "lop3.b32 tc, tq, 0x000f000f, 0x64006400, 0xea;",
            "lop3.b32 td, tq, 0x00f000f0, 0x64006400, 0xea;",
            f"sub.f16x2 ta, ta, {k1032};",
            f"fma.rn.f16x2 tb, tb, {k16}, {km72};",
            f"sub.f16x2 tc, tc, {k1032};",
            f"fma.rn.f16x2 td, td, {k16}, {km72};",
            f"mul.f16x2 tacc, ta, {pairs[0]};" if w == 0 else f"fma.rn.f16x2 tacc, ta, {pairs[0]}, tacc;",
            f"fma.rn.f16x2 tacc, tb, {pairs[1]}, tacc;",
            f"fma.rn.f16x2 tacc, tc, {pairs[2]}, tacc;",
            f"fma.rn.f16x2 tacc, td, {pairs[3]}, tacc;",
        ]
    lines += ["mov.b32 {h0, h1}, tacc;", "cvt.f32.f16 f0, h0;", "cvt.f32.f16 f1, h1;", "add.f32 $0, f0, f1;", "}"]
    return "\n".join(lines)


_DOT4_ASM = tl.constexpr(_dot_asm(4))
_DOT4_CONSTRAINTS = tl.constexpr("=f," + ",".join(["r"] * 23))
# float16 pairs: 1032 = 1024 + 8, 1/16, -72 = -64 - 8 (int32 bit patterns)
_K1032, _K16, _KM72 = tl.constexpr(0x64086408), tl.constexpr(0x2C002C00), tl.constexpr(0xD480D480 - 2**32)


@triton.jit
def _f16_pair(lo, hi):
    """Two float32 tensors -> int32 holding (half(lo), half(hi)) as f16x2 (lo in the low half)."""
    return tl.inline_asm_elementwise(
        "cvt.rn.f16x2.f32 $0, $1, $2;", "=r,f,f", [hi, lo], dtype=tl.int32, is_pure=True, pack=1
    )


@triton.jit
def _split4(t):
    """[A, B, C, 4] (the 4 held by one thread) -> four [A, B, C] tensors, no data movement."""
    even, odd = tl.split(tl.reshape(t, (t.shape[0], t.shape[1], t.shape[2], 2, 2)))
    v0, v2 = tl.split(even)
    v1, v3 = tl.split(odd)
    return v0, v1, v2, v3


@triton.jit
def _code(p, i: tl.constexpr):
    """Nibble i of each word, centred: code - 8, as float32 (the interpreter's path)."""
    return ((p >> (4 * i)) & 0xF).to(tl.float32) - 8.0


@triton.jit
def _int4w_dot(p, x0, x1, x2, x3, x4, x5, x6, x7, ASM: tl.constexpr):
    """sum over a thread's 4 words of (code - 8) x: p [WK, ROWS, 32, 4] words, x_i [WK, 1, 32, 4] the inputs of
    nibble i."""
    if ASM:
        a0, b0, c0, d0 = _split4(_f16_pair(x0, x4))
        a1, b1, c1, d1 = _split4(_f16_pair(x1, x5))
        a2, b2, c2, d2 = _split4(_f16_pair(x2, x6))
        a3, b3, c3, d3 = _split4(_f16_pair(x3, x7))
        p0, p1, p2, p3 = _split4(p)
        k1032, k16, km72 = (
            tl.full(p0.shape, _K1032, tl.int32),
            tl.full(p0.shape, _K16, tl.int32),
            tl.full(p0.shape, _KM72, tl.int32),
        )
        dot = tl.inline_asm_elementwise(
            _DOT4_ASM,
            _DOT4_CONSTRAINTS,
            [p0, p1, p2, p3, a0, a1, a2, a3, b0, b1, b2, b3, c0, c1, c2, c3, d0, d1, d2, d3, k1032, k16, km72],
            dtype=tl.float32,
            is_pure=True,
            pack=1,
        )
    else:  # the CPU interpreter runs no PTX: the same sum in float32
        dot = tl.sum(_code(p, 0) * x0 + _code(p, 1) * x1 + _code(p, 2) * x2 + _code(p, 3) * x3
                     + _code(p, 4) * x4 + _code(p, 5) * x5 + _code(p, 6) * x6 + _code(p, 7) * x7, axis=3)  # fmt: skip
    return dot


@triton.jit
def _int4w_tile(p_ptr, sm_ptr, row_base, sm_rows, rok, w, c, ASM: tl.constexpr, MASK_ROWS: tl.constexpr):
    """Super-groups c .. c + WK - 1 of a program's rows (warp v: super-group c + v): the words [WK, ROWS, 32, 4]
    (lane l: words 4 l .. 4 l + 3) and the (scale, minimum) pairs [WK, ROWS, 32] of each lane's group (sm_rows:
    their offsets in super-group 0). Rows past N are masked only where N needs it (a masked load first zeroes its
    registers: an instruction per register)."""
    mask = rok if MASK_ROWS else None
    p = tl.load(p_ptr + row_base + c * 128 + w, mask=mask, eviction_policy="evict_first")
    p = tl.reshape(p, (p.shape[0], p.shape[1], 32, 4))
    sm_ptrs = sm_ptr + sm_rows + c * 8
    if ASM:  # a tl.load here would get a layout of its own (its lanes share addresses) and a shuffle through shared
        # memory to the words' layout; the PTX load takes the layout of its users
        if MASK_ROWS:
            sm = tl.inline_asm_elementwise(
                "{ .reg .pred p; setp.ne.b32 p, $2, 0; @p ld.global.L1::evict_first.b32 $0, [$1]; }",
                "=r,l,r",
                [sm_ptrs, rok.to(tl.int32)],
                dtype=tl.int32,
                is_pure=True,
                pack=1,
            )
        else:
            sm = tl.inline_asm_elementwise(
                "ld.global.L1::evict_first.b32 $0, [$1];", "=r,l", [sm_ptrs], dtype=tl.int32, is_pure=True, pack=1
            )
    else:
        sm = tl.load(sm_ptrs, mask=rok if MASK_ROWS else None)
    return p, sm


@triton.jit
def _load_x4(x_ptr, k):
    """The inputs [WK, 1, 32, 4] of nibble 0 of a tile's words (lane layout of `_int4w_tile`), from k."""
    return tl.reshape(tl.load(x_ptr + k), (k.shape[0], 1, 32, 4)).to(tl.float32)


@triton.jit
def _int4w_step(acc, ssq, p, sm, x_ptr, gamma_ptr, k, PRO: tl.constexpr, ASM: tl.constexpr):
    """acc [WK, ROWS, 32] += one tile's products, ssq += its inputs squared (RMSNorm); k: the inputs of the
    lanes' words' nibble 0 (nibble i's input is 16 i further)."""
    x0 = _load_x4(x_ptr, k)
    x1 = _load_x4(x_ptr, k + 16)
    x2 = _load_x4(x_ptr, k + 32)
    x3 = _load_x4(x_ptr, k + 48)
    x4 = _load_x4(x_ptr, k + 64)
    x5 = _load_x4(x_ptr, k + 80)
    x6 = _load_x4(x_ptr, k + 96)
    x7 = _load_x4(x_ptr, k + 112)
    if PRO == 1:
        ssq += x0 * x0 + x1 * x1 + x2 * x2 + x3 * x3 + x4 * x4 + x5 * x5 + x6 * x6 + x7 * x7
        x0 = x0 * _load_x4(gamma_ptr, k)
        x1 = x1 * _load_x4(gamma_ptr, k + 16)
        x2 = x2 * _load_x4(gamma_ptr, k + 32)
        x3 = x3 * _load_x4(gamma_ptr, k + 48)
        x4 = x4 * _load_x4(gamma_ptr, k + 64)
        x5 = x5 * _load_x4(gamma_ptr, k + 80)
        x6 = x6 * _load_x4(gamma_ptr, k + 96)
        x7 = x7 * _load_x4(gamma_ptr, k + 112)
    xsum = tl.sum(x0 + x1 + x2 + x3 + x4 + x5 + x6 + x7, axis=3)  # [WK, 1, 32], float32
    dot = _int4w_dot(p, x0, x1, x2, x3, x4, x5, x6, x7, ASM)
    scale, minimum = _scale_min(sm, ASM)
    # sum (q s + m) x = s (sum (q - 8) x + 8 sum x) + m sum x
    return acc + scale * (dot + 8.0 * xsum) + minimum * xsum, ssq


@triton.jit
def _gemv_int4w_kernel(
    x_ptr,
    p_ptr,
    sm_ptr,
    gamma_ptr,
    res_ptr,
    out_ptr,
    N,
    eps,
    K: tl.constexpr,
    PRO: tl.constexpr,
    EPI: tl.constexpr,
    ROWS: tl.constexpr,
    BLOCK_N: tl.constexpr,
    SPLIT_K: tl.constexpr,
    TILES: tl.constexpr,
    WK: tl.constexpr,
    ASM: tl.constexpr,
    PDL: tl.constexpr,
    MASK_ROWS: tl.constexpr,
):
    """INT4 "words" layout, WK warps a program. A super-group (1024 inputs, 128 words a row) is a warp's tile: lane
    l holds words 4 l .. 4 l + 3 (16 bytes, of group l // 4) of every row of the program, so that the work on x
    (loading it, RMSNorm's sum of squares and weight, turning it into float16 pairs) is done once per lane and
    serves all ROWS rows. The WK warps take WK consecutive super-groups of the same rows (a split of K inside the
    program, summed through shared memory at the end, so RMSNorm and the GLU still see whole rows).

    A program requests TILES (1 or 2) tiles a warp at once and then computes them: a split of K of at most
    TILES * WK super-groups costs one memory round trip, requested before the PDL wait (weights never depend on
    the previous kernel). A longer split goes on in chunks. Chunks past a split's last tile load its last tile
    again (a cache hit) and skip it, so that no load is masked (a masked load first zeroes its registers).

    K is a compile-time constant: the rows' addresses are then one base plus immediate offsets (runtime K kept
    a 64-bit address a row and tile live: 128 registers a lane instead of 80 for one tile of 8 rows)."""
    pid_n = tl.program_id(0)
    pid_k = tl.program_id(1)
    rows, row_ok = _weight_rows(pid_n, N, EPI, BLOCK_N, ROWS)
    # Tiles are [WK, ROWS, ...]: with the warps' dimension first, Triton's layouts put the warps on it (on ROWS,
    # each warp would need every warp's x, through shared memory).
    v = tl.arange(0, WK)[:, None]  # the warp: super-group c + v of a tile at c
    w = tl.arange(0, 128)[None, :]  # word within the super-group; lane l holds w = 4 l .. 4 l + 3
    words = (v * 128 + w)[:, None, :]  # [WK, 1, 128]
    x_off = (v * 1024 + (w // 16) * 128 + w % 16)[:, None, :]  # the input of the word's nibble 0 (nibble i: 16 i on)
    KW: tl.constexpr = K // 8  # words a row
    KG: tl.constexpr = K // 128  # groups a row
    row_base = rows.to(tl.int64)[None, :, None] * KW
    # The (scale, minimum) of each lane's group: [WK, ROWS, 32] offsets from the start (a [1, ROWS, 1] tensor would
    # get a layout of its own, and a shuffle through shared memory)
    sm_rows = rows[None, :, None] * KG + (v * 8 + tl.arange(0, 32)[None, :] // 4)[:, None, :]
    rok = row_ok[None, :, None]
    supers: tl.constexpr = K // 1024
    per: tl.constexpr = (supers + SPLIT_K - 1) // SPLIT_K
    if SPLIT_K == 1:  # known bounds: a split of WK * TILES super-groups compiles to no loop at all
        c_begin: tl.constexpr = 0
        c_last: tl.constexpr = supers - WK
    else:
        c_begin = pid_k * per
        c_last = tl.minimum(c_begin + per, supers) - WK  # the last tile's first super-group; `gemv` leaves no split
    # empty and makes WK divide every split
    p0, s0 = _int4w_tile(p_ptr, sm_ptr, row_base, sm_rows, rok, words, c_begin, ASM, MASK_ROWS)
    if TILES >= 2:
        p1, s1 = _int4w_tile(p_ptr, sm_ptr, row_base, sm_rows, rok, words, tl.minimum(c_begin + WK, c_last), ASM,
                             MASK_ROWS)  # fmt: skip
    if PDL:
        gdc_launch_dependents()
        gdc_wait()
    acc = tl.zeros((WK, ROWS, 32), dtype=tl.float32)
    ssq = tl.zeros((WK, 1, 32, 4), dtype=tl.float32)
    # Compile-time loop bounds (the last split may end early): Triton's interpreter turns assigned values into
    # one-element arrays, which recent NumPy no longer converts to range() bounds.
    for t in range(0, per, TILES * WK):
        c = c_begin + t
        if c <= c_last:
            acc, ssq = _int4w_step(acc, ssq, p0, s0, x_ptr, gamma_ptr, c * 1024 + x_off, PRO, ASM)
            if TILES >= 2:  # noqa: SIM102 - a constexpr test around a run-time one
                if c + WK <= c_last:
                    acc, ssq = _int4w_step(acc, ssq, p1, s1, x_ptr, gamma_ptr, (c + WK) * 1024 + x_off, PRO, ASM)
            if c + TILES * WK <= c_last:  # the next chunk
                n = c + TILES * WK
                p0, s0 = _int4w_tile(p_ptr, sm_ptr, row_base, sm_rows, rok, words, n, ASM, MASK_ROWS)
                if TILES >= 2:
                    p1, s1 = _int4w_tile(p_ptr, sm_ptr, row_base, sm_rows, rok, words, tl.minimum(n + WK, c_last),
                                         ASM, MASK_ROWS)  # fmt: skip
    total = tl.sum(tl.sum(acc, axis=2), axis=0)
    if PRO == 1:  # a prologue split of K never gets: x is whole
        total = total * tl.rsqrt(tl.sum(tl.sum(tl.sum(tl.sum(ssq, axis=3), axis=2), axis=1), axis=0) / K + eps)
    _epilogue(total, pid_n, res_ptr, out_ptr, N, EPI, BLOCK_N, ROWS, SPLIT_K)


@triton.jit
def _dequant_int4_kernel(p_ptr, sm_ptr, out_ptr, N, K, BLOCK_N: tl.constexpr):
    pid_n = tl.program_id(0)
    sg = tl.program_id(1)
    rows = pid_n * BLOCK_N + tl.arange(0, BLOCK_N)
    ok = rows < N
    words = tl.arange(0, 128)
    p = tl.load(p_ptr + rows.to(tl.int64)[:, None] * (K // 8) + (sg * 128 + words)[None, :], mask=ok[:, None], other=0)
    for i in tl.static_range(8):
        q = ((p >> (4 * i)) & 0xF).to(tl.float32)
        scale, minimum = _scale_min(tl.load(sm_ptr + rows * (K // 128) + sg * 8 + i, mask=ok, other=0))
        w = q * scale[:, None] + minimum[:, None]
        ks = sg * 1024 + i * 128 + words
        tl.store(
            out_ptr + rows.to(tl.int64)[:, None] * K + ks[None, :], w.to(out_ptr.dtype.element_ty), mask=ok[:, None]
        )


@triton.jit
def _dequant_int4w_kernel(p_ptr, sm_ptr, out_ptr, N, K, BLOCK_N: tl.constexpr):
    pid_n = tl.program_id(0)
    c = tl.program_id(1)
    rows = pid_n * BLOCK_N + tl.arange(0, BLOCK_N)
    ok = rows < N
    words = tl.arange(0, 128)
    p = tl.load(p_ptr + rows.to(tl.int64)[:, None] * (K // 8) + (c * 128 + words)[None, :], mask=ok[:, None], other=0)
    g = c * 8 + words // 16
    scale, minimum = _scale_min(tl.load(sm_ptr + rows[:, None] * (K // 128) + g[None, :], mask=ok[:, None], other=0))
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
    kernel[(triton.cdiv(n, block), k // SUPER)](weight.packed, weight.scale_min, out, n, k, BLOCK_N=block)
    return out


# ---- launch configuration: measured once per (kernel, shape, fusion) on the first call -------------------------

# BLOCK_N (outputs a program; INT4 words: weight rows a program, gate and up rows both counted for "glu"), then
# BLOCK_K (16-bit), PREFETCH (INT4 planes) or TILES (INT4 words), SPLIT_K, num_warps, num_stages
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

# The "words" layout: (ROWS, TILES, SPLIT_K, warps WK along K, 1 stage); SPLIT_K 0: one split per TILES * WK
# super-groups. One configuration for layers that may split K (o, down: one super-group a program, the partial sums
# added atomically), one for the GLU (gate_up: 8 rows, its 4 super-groups on 4 warps) and one for the rest (qkv:
# 4 rows, one super-group at a time). Chosen on an H100 by the time of the whole INT4 decode step (Llama-3-8B
# shapes, CUDA graph, PDL; each layer's configuration varied alone, the best combined: 2.25 ms a step against
# 2.47 ms for the previous (8, 2, 1, 1, 1) rows configuration with K passed at run time): the per-shape chains of
# bench/gemv_kernels.py rank configurations differently from the step (gate_up at (4, 4, 1) was 7 % faster alone
# but the step 4 % slower), and timing single launches after an L2 flush (`_choose`) picked worse ones still:
# launch latency and the flush's write-backs are most of these kernels' microseconds. Within ~1 % of the best
# step (run-to-run noise): qkv at (8, 1, 1, 4, 1), (8, 1, 1, 1, 1); 2-4 % slower: 16 rows on 2 or 4 warps, 2
# tiles of 8 rows (255 registers: 8 warps an SM), o or down on 2 or 4 warps or with 16 rows, qkv and gate_up
# on 4 warps of 4 rows (+13 %). Lost before: a register cap (maxnreg: spills), the double-buffered loop over
# super-groups that TILES replaced, and an RMSNorm pass over x before the products (4 % slower over the chained
# layers than scaling the sums after).
INT4W_CONFIGS: dict[str, Config] = {"split": (8, 1, 0, 1, 1), "rows": (4, 1, 1, 1, 1), "glu": (8, 1, 1, 4, 1)}

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
        chosen = max(candidates, key=lambda c: (c[0], -c[2]))
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


def _warps_along_k(supers: int, split: int, warps: int) -> int:
    """The words kernel's warps along K, fewest halvings of `warps` that divide every split's super-groups."""
    per = triton.cdiv(supers, split)
    while per % warps or (supers - (split - 1) * per) % warps:
        warps //= 2
    return warps


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

    supers = k // SUPER
    words = isinstance(weight, PackedInt4) and weight.layout == "words"

    def splits(cfg: Config) -> int:
        """SPLIT_K of a configuration; for the words kernel 0 means one split per chunk of TILES super-groups a
        warp (TILES * warps super-groups)."""
        return triton.cdiv(supers, cfg[1] * cfg[3]) if words and cfg[2] == 0 else cfg[2]

    def launch(cfg: Config) -> None:
        block_n, block_k, _, warps, stages = cfg
        split = splits(cfg)
        if words:  # the first field counts weight rows
            rows, block_n = block_n, block_n // 2 if epi == EPI_GLU else block_n
        else:
            rows = 2 * block_n if epi == EPI_GLU else block_n
        grid = (triton.cdiv(n, block_n), split)
        use_pdl = pdl and not interpreting()
        common = {"PRO": pro, "EPI": epi, "ROWS": rows, "BLOCK_N": block_n, "SPLIT_K": split, "PDL": use_pdl}
        if use_pdl:
            common["launch_pdl"] = True
        if isinstance(weight, PackedInt4) and words:  # (both tests, for mypy)
            if (split - 1) * triton.cdiv(supers, split) >= supers or block_k not in (1, 2):
                raise ValueError(f"{split} splits of {supers} super-groups leave one empty, or TILES is not 1 or 2")
            warps = _warps_along_k(supers, split, warps)
            _gemv_int4w_kernel[grid](
                x, weight.packed, weight.scale_min, gamma, res, out, n, eps, K=k, **common, TILES=block_k, WK=warps,
                ASM=not interpreting(), MASK_ROWS=n % block_n != 0, num_warps=warps, num_stages=stages,
            )  # fmt: skip
        elif isinstance(weight, PackedInt4):
            _gemv_int4_kernel[grid](
                x, weight.packed, weight.scale_min, gamma, res, out, n, k, eps,
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
        if words:
            candidates = [INT4W_CONFIGS["split" if can_split else "glu" if epi == EPI_GLU else "rows"]]
        else:
            table = INT4_CONFIGS if family == "int4-planes" else BF16_CONFIGS
            candidates = [c for c in table if c[2] == 1 or can_split]
        key = (family, n, k, pro, epi, can_split)
        config = _choose(key, candidates, launch, [out] if epi == EPI_ADD else [])
    launch(config)
    return out
