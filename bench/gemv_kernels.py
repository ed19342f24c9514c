"""Batch-1 GEMV on the shapes of a Llama-3-8B decode step: achieved bandwidth of each kernel as a fraction of the
device's copy bandwidth, measured in the same run, with each kernel's error against an fp32 reference.

Run on the GPU machine: PYTHONPATH=inference python3 bench/gemv_kernels.py
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import torch
import torch.nn.functional as F

from sightline_host.engine.llama import Int4Linear, rel_error
from sightline_host.engine.triton_gemv import gemv_16bit, gemv_int4, pack_int4

SHAPES = {"qkv": (6144, 4096), "o": (4096, 4096), "gate_up": (28672, 4096), "down": (4096, 14336), "lm_head": (128256, 4096)}


def copy_bandwidth() -> float:
    src = torch.randn(2**30, dtype=torch.bfloat16, device="cuda")
    dst = torch.empty_like(src)
    return 2 * src.numel() * 2 / median_seconds(lambda: dst.copy_(src), 20)


def median_seconds(fn, iters: int = 200) -> float:  # type: ignore[no-untyped-def]
    for _ in range(5):
        fn()
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        for _ in range(iters):
            fn()
    graph.replay()
    torch.cuda.synchronize()
    times = []
    for _ in range(5):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        graph.replay()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end) / 1000 / iters)
    return sorted(times)[len(times) // 2]


def main() -> None:
    torch.manual_seed(0)
    bandwidth = copy_bandwidth()
    rows = []
    for name, (n, k) in SHAPES.items():
        w = (torch.randn(n, k, device="cuda") * 0.02).to(torch.bfloat16)
        x = torch.randn(1, k, device="cuda", dtype=torch.bfloat16)
        reference = (x.float() @ w.float().T)[0]
        packed = pack_int4(w)
        int4_reference = (x.float() @ packed.dequantize().T)[0]
        tiny = Int4Linear(w)
        kernels = {
            "cublas bf16": (lambda: F.linear(x, w), w.numel() * 2, reference),
            "triton bf16": (lambda: gemv_16bit(x, w), w.numel() * 2, reference),
            "tinygemm int4": (lambda: tiny(x), tiny.nbytes(), (x.float() @ tiny.dequantized_reference.T)[0]),
            "triton int4": (lambda: gemv_int4(x, packed), packed.nbytes(), int4_reference),
        }
        for kernel, (fn, nbytes, ref) in kernels.items():
            err = rel_error(fn().reshape(-1), ref)
            seconds = median_seconds(fn)
            rows.append({
                "shape": name, "n": n, "k": k, "kernel": kernel, "us": round(seconds * 1e6, 1),
                "GBps": round(nbytes / seconds / 1e9, 1), "fraction_of_copy": round(nbytes / seconds / bandwidth, 3),
                "rel_err": round(err, 5),
            })
            print(f"{name:8} {kernel:14} {seconds * 1e6:8.1f} us {nbytes / seconds / 1e9:7.0f} GB/s "
                  f"{nbytes / seconds / bandwidth:6.1%} err {err:.2e}", flush=True)
    result = {"benchmark": "gemv_kernels", "device": torch.cuda.get_device_name(),
              "copy_bandwidth_GBps": round(bandwidth / 1e9, 1), "torch": torch.__version__, "rows": rows}
    out = Path(os.environ.get("OUT", "bench/results"))
    out.mkdir(parents=True, exist_ok=True)
    (out / f"gemv-kernels-{torch.cuda.get_device_name().replace(' ', '-')}.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
