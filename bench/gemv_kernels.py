"""Batch-1 GEMV on the shapes of a Llama-3-8B decode step (and its TP=2 shards): achieved bandwidth of each kernel
as a fraction of the device's copy bandwidth measured in the same run (as bench/planner_decode.py measures it), with
each kernel's error against a float32 reference. Weights rotate through enough copies to exceed the L2 cache, as in
a decode step where every layer's weights arrive cold, in one CUDA graph of 60 calls; the Triton kernels are timed
both plainly and chained by programmatic dependent launch ("pdl", as the engine's decode step runs them), with the
fusions the engine uses (RMSNorm prologue, residual add, SiLU-gated output).

With STEP=1 it also times the whole INT4 decode step of a random-weight Llama-3-8B (CUDA graph, context 160, with
and without PDL) and, from a profile of the graph, each kernel's share: the time from the previous kernel's end to
its own (under PDL kernels start early and overlap, so their own durations overcount).

Run on the GPU machine: PYTHONPATH=inference python3 bench/gemv_kernels.py
Knobs: SHAPES=qkv,o,... (default: all; SHAPES=none for the step alone), PLANES=1 adds the INT4 "planes" kernel,
STEP=1.
"""

from __future__ import annotations

import functools
import json
import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from sightline_host.engine.llama import LlamaShape, build_decoder, random_weights, rel_error
from sightline_host.engine.triton_gemv import PackedInt4, gemv, pack_int4, tuning_report

from planner_decode import copy_bandwidth  # the decode bench's: both fractions are of the same measure

# name: (rows N of the weight, K, the engine's fusion)
SHAPES = {
    "qkv": (6144, 4096, "norm"),
    "o": (4096, 4096, "add"),
    "gate_up": (28672, 4096, "glu"),
    "down": (4096, 14336, "add"),
    "lm_head": (128256, 4096, "norm"),
    "qkv/2": (3072, 4096, "norm"),
    "o/2": (4096, 2048, "add"),
    "gate_up/2": (14336, 4096, "glu"),
    "down/2": (4096, 7168, "add"),
}


def graph_seconds(calls: list[Callable[[], Any]], iters: int) -> float:
    """Median seconds per call of `iters` calls cycling through `calls`, replayed from one CUDA graph."""
    for fn in calls:
        fn()
    torch.cuda.synchronize()
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        for i in range(iters):
            calls[i % len(calls)]()
    graph.replay()
    torch.cuda.synchronize()
    times = []
    for _ in range(5):
        start, end = (
            torch.cuda.Event(enable_timing=True),
            torch.cuda.Event(enable_timing=True),
        )
        start.record()
        graph.replay()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end) / 1000 / iters)
    return sorted(times)[len(times) // 2]


def tinygemm(
    w: torch.Tensor,
) -> tuple[Callable[[torch.Tensor], torch.Tensor], int, torch.Tensor]:
    """PyTorch's own INT4 kernel (tinygemm), group 128, for comparison: (fn, bytes, dequantized weight)."""
    n, k = w.shape
    g = w.float().reshape(n, k // 128, 128)
    lo, hi = g.amin(-1, keepdim=True), g.amax(-1, keepdim=True)
    scale = ((hi - lo) / 15).clamp(min=1e-6)
    q = ((g - lo) / scale).round().clamp(0, 15).to(torch.int32).reshape(n, k)
    zero = lo + scale * 8  # tinygemm computes (q - 8) * scale + zero
    packed = torch.ops.aten._convert_weight_to_int4pack(
        (q[:, ::2] << 4 | q[:, 1::2]).to(torch.uint8), 8
    )
    sz = (
        torch.cat([scale, zero], -1)
        .reshape(n, -1, 2)
        .transpose(0, 1)
        .contiguous()
        .to(torch.bfloat16)
    )
    deq = ((q.reshape_as(g) - 8) * scale + zero).reshape(n, k)
    nbytes = packed.numel() * packed.element_size() + sz.numel() * 2
    return (
        (lambda x: torch.ops.aten._weight_int4pack_mm(x, packed, 128, sz)),
        nbytes,
        deq,
    )


def decode_step(bandwidth: float) -> dict[str, Any]:
    """The INT4 decode step in a CUDA graph: microseconds with and without PDL, tokens/s against the bound, and
    each kernel's share (mean over the layers) from a profile of the PDL graph."""
    from torch.profiler import ProfilerActivity, profile  # noqa: PLC0415

    shape, context = LlamaShape.llama3_8b(), 160
    decoder = build_decoder(shape, random_weights(shape, 0), max_seq=4096, quantize="int4")
    decoder.k_cache.normal_(0.0, 1.0)
    decoder.v_cache.normal_(0.0, 1.0)
    decoder.token.fill_(1234)
    decoder.position.fill_(context)
    bound_bytes = decoder.weight_bytes() + decoder.kv_bytes_per_position() * context
    result: dict[str, Any] = {"context": context, "bound_bytes": bound_bytes}
    for pdl in (False, True):
        decoder.pdl = pdl
        stream = torch.cuda.Stream()
        stream.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(stream):  # compile and tune outside the graph
            decoder.step()
        torch.cuda.current_stream().wait_stream(stream)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            decoder.step()
        graph.replay()
        torch.cuda.synchronize()
        times = []
        for _ in range(5):
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            for _ in range(30):
                graph.replay()
            end.record()
            end.synchronize()
            times.append(start.elapsed_time(end) / 1000 / 30)
        seconds = sorted(times)[len(times) // 2]
        name = "pdl" if pdl else "plain"
        result[f"us_{name}"] = round(seconds * 1e6, 1)
        result[f"tokens_per_s_{name}"] = round(1 / seconds, 1)
        result[f"fraction_of_bound_{name}"] = round(bound_bytes / bandwidth / seconds, 3)
        print(f"INT4 decode step ({name}): {seconds * 1e6:.0f} us, {1 / seconds:.1f} tok/s, "
              f"{bound_bytes / bandwidth / seconds:.1%} of the bound", flush=True)  # fmt: skip
    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        for _ in range(3):
            graph.replay()
        torch.cuda.synchronize()
    kernels = sorted(
        (e for e in prof.events() if e.device_type.name == "CUDA" and "mem" not in e.name.lower()),
        key=lambda e: e.time_range.start,
    )
    per_step = 2 + 5 * shape.num_layers  # the embedding row, 5 kernels a layer, the lm_head
    if len(kernels) != 3 * per_step:
        result["profile_error"] = f"{len(kernels)} kernels in 3 steps, expected {3 * per_step}"
        return result
    names = ["qkv", "attention", "o", "gate_up", "down"]
    share: dict[str, list[float]] = {name: [] for name in [*names, "lm_head"]}
    for step in range(1, 3):
        ks = kernels[step * per_step : (step + 1) * per_step]
        for i in range(1, per_step):
            name = "lm_head" if i == per_step - 1 else names[(i - 1) % 5]
            share[name].append(ks[i].time_range.end - ks[i - 1].time_range.end)
    result["kernel_share_us_pdl"] = {name: round(sum(v) / len(v), 2) for name, v in share.items()}
    print("kernel shares (us, PDL):", result["kernel_share_us_pdl"], flush=True)
    return result


def main() -> None:
    torch.manual_seed(0)
    bandwidth = copy_bandwidth()
    rows: list[dict[str, Any]] = []
    only = os.environ.get("SHAPES")
    planes = os.environ.get("PLANES") == "1"
    for name, (n, k, fusion) in SHAPES.items():
        if only and name not in only.split(","):
            continue
        w = (torch.randn(n, k, device="cuda") * 0.02).to(torch.bfloat16)
        x = torch.randn(k, device="cuda")
        gamma = (1 + 0.1 * torch.randn(k, device="cuda")).to(torch.bfloat16)
        packed = pack_int4(w, "planes")
        n_out = n // 2 if fusion == "glu" else n
        kwargs: dict[str, Any] = {
            "epilogue": {"norm": "store", "add": "add", "glu": "glu"}[fusion]
        }
        if fusion == "norm":
            kwargs["norm_weight"] = gamma

        def reference(
            weight: torch.Tensor,
            fusion: str = fusion,
            n_out: int = n_out,
            x: torch.Tensor = x,
        ) -> torch.Tensor:
            xx = (
                x * torch.rsqrt(x.pow(2).mean() + 1e-5) * gamma.float()
                if fusion == "norm"
                else x
            )
            y = weight.float() @ xx
            if fusion == "glu":
                return F.silu(y[:n_out]) * y[n_out:]
            return y

        def ours(
            weight: torch.Tensor | PackedInt4,
            out: torch.Tensor,
            zero: bool = False,
            kwargs: dict[str, Any] = kwargs,
            pdl: bool = False,
        ) -> None:
            if zero and kwargs["epilogue"] == "add":
                out.zero_()  # a residual of 0, so that the output is W x (timed runs just keep adding)
            gemv(x, weight, out, pdl=pdl, **kwargs)

        copies = max(1, math.ceil(256 * 2**20 / (n * k * 2)))
        dense = [w] + [w.clone() for _ in range(copies - 1)]
        copies4 = max(1, math.ceil(256 * 2**20 / packed.nbytes()))
        quant = [packed] + [pack_int4(w, "planes") for _ in range(copies4 - 1)] if planes else []
        packed_w = pack_int4(w, "words")
        quant_w = [packed_w] + [pack_int4(w, "words") for _ in range(copies4 - 1)]
        tiny_fn, tiny_bytes, tiny_deq = tinygemm(w)
        outs = [torch.empty(n_out, device="cuda") for _ in range(2)]
        xb = x.to(torch.bfloat16)[None]
        kernels: dict[str, tuple[list[Callable[[], Any]], int, Callable[[], torch.Tensor], torch.Tensor]] = {
            "cublas bf16 (no fusion)": (
                [lambda w=w: F.linear(xb, w) for w in dense], w.numel() * 2,
                lambda: F.linear(x[None], w.float())[0], w.float() @ x,
            ),
            "triton bf16": (
                [functools.partial(ours, w, outs[0]) for w in dense], w.numel() * 2,
                lambda: (ours(w, outs[1], True), outs[1])[1], reference(w),
            ),
            "tinygemm int4 (no fusion)": (
                [lambda: tiny_fn(xb)], tiny_bytes, lambda: tiny_fn(xb)[0], tiny_deq.float() @ x.to(torch.bfloat16).float(),
            ),
            "triton int4 (planes)": (
                [functools.partial(ours, q, outs[0]) for q in quant], packed.nbytes(),
                lambda: (ours(packed, outs[1], True), outs[1])[1], reference(packed.dequantize_reference()),
            ),
            "triton int4 (words, f16x2)": (
                [functools.partial(ours, q, outs[0]) for q in quant_w], packed_w.nbytes(),
                lambda: (ours(packed_w, outs[1], True), outs[1])[1], reference(packed_w.dequantize_reference()),
            ),
        }  # fmt: skip
        if not planes:
            del kernels["triton int4 (planes)"]
        for kernel, (calls, nbytes, run_once, expected) in kernels.items():
            try:
                outs[1].fill_(float("nan"))
                err = rel_error(run_once().reshape(-1), expected)
                seconds = graph_seconds(calls, 60)
                pdl_seconds = None
                if kernel.startswith("triton"):  # the same calls, chained by programmatic dependent launch
                    pdl_calls = [functools.partial(call, pdl=True) for call in calls]
                    pdl_seconds = graph_seconds(pdl_calls, 60)
            except (
                Exception
            ) as error:  # one failing kernel must not hide the others' figures
                print(
                    f"{name:10} {kernel:26} FAILED {type(error).__name__}: {str(error)[:300]}",
                    flush=True,
                )
                rows.append(
                    {
                        "shape": name,
                        "kernel": kernel,
                        "error": f"{type(error).__name__}: {str(error)[:300]}",
                    }
                )
                continue
            rate = nbytes / seconds
            row: dict[str, Any] = {
                "shape": name, "n": n, "k": k, "fusion": fusion, "kernel": kernel, "bytes": nbytes,
                "us": round(seconds * 1e6, 2), "GBps": round(rate / 1e9, 1),
                "fraction_of_copy": round(rate / bandwidth, 3), "rel_err": round(err, 6),
            }  # fmt: skip
            line = f"{name:10} {kernel:26} {seconds * 1e6:8.1f} us {rate / 1e9:7.0f} GB/s {rate / bandwidth:6.1%}"
            if pdl_seconds is not None:
                row["us_pdl"] = round(pdl_seconds * 1e6, 2)
                row["fraction_of_copy_pdl"] = round(nbytes / pdl_seconds / bandwidth, 3)
                line += f" | pdl {pdl_seconds * 1e6:8.1f} us {nbytes / pdl_seconds / bandwidth:6.1%}"
            rows.append(row)
            print(f"{line} err {err:.1e}", flush=True)
        del dense, quant, quant_w
        torch.cuda.empty_cache()
    step = decode_step(bandwidth) if os.environ.get("STEP") == "1" else None
    result = {
        "benchmark": "gemv_kernels",
        "device": torch.cuda.get_device_name(),
        "copy_bandwidth_GBps": round(bandwidth / 1e9, 1),
        "torch": torch.__version__,
        "rows": rows,
        "tuning": tuning_report(),
    }
    if step is not None:
        result["int4_decode_step"] = step
    out = Path(os.environ.get("OUT", "bench/results"))
    out.mkdir(parents=True, exist_ok=True)
    slug = torch.cuda.get_device_name().replace(" ", "-")
    (out / f"gemv-kernels-{slug}.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
