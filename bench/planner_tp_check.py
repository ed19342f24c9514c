"""Tensor-parallel correctness of the planner engine without GPUs: TP=2 (two processes, gloo) against TP=1 on the
same random weights, for the prompt path (prefill) and the fused decode step, in bf16 and INT4.

The engine's Triton kernels run in Triton's CPU interpreter (TRITON_INTERPRET=1), so this checks the sharding
(column/row/vocab-parallel splits, the rank-0 residual, the all-reduce and all-gather points), not speed. A small
model with the real head layout ratios (16 heads, 4 KV heads, head_dim 128) keeps it to minutes on 2 cores.

Run: TRITON_INTERPRET=1 PYTHONPATH=inference python3 bench/planner_tp_check.py  (needs torch, triton, numpy<2.3)
Writes $OUT/planner-tp2-check-cpu.json (or bench/results/).
"""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from sightline_host.engine.llama import (
    LlamaShape,
    build_decoder,
    random_weights,
    rel_error,
)
from sightline_host.engine.tensor_parallel import TensorParallel

SHAPE = LlamaShape(
    vocab_size=512,
    hidden_size=2048,
    intermediate_size=2048,
    num_layers=1,
    num_heads=16,
    num_kv_heads=4,
)
QUANTS = ("none", "int4")


def run(rank: int, world: int, port: int, queue: Any) -> None:
    dist.init_process_group(
        "gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world
    )
    weights = random_weights(SHAPE, seed=1, device="cpu")
    prompt = torch.randint(
        0, SHAPE.vocab_size, (20,), generator=torch.Generator().manual_seed(0)
    )
    tp = TensorParallel() if world > 1 else None
    for quant in QUANTS:
        decoder = build_decoder(SHAPE, weights, max_seq=600, quantize=quant, tp=tp)
        with torch.no_grad():
            logits = decoder.prefill(prompt, 0)
            decoder.token.fill_(int(logits.argmax()))
            decoder.position.fill_(prompt.numel())
            decoder.step()
        if rank == 0:
            queue.put((quant, logits.numpy().copy(), decoder.logits.numpy().copy()))
    dist.barrier()
    dist.destroy_process_group()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    if os.environ.get("TRITON_INTERPRET") != "1":
        raise SystemExit(
            "set TRITON_INTERPRET=1: the kernels run in Triton's CPU interpreter here"
        )
    ctx = mp.get_context("spawn")
    results: dict[int, dict[str, Any]] = {}
    started = time.perf_counter()
    for world in (1, 2):
        queue = ctx.Queue()
        port = free_port()
        procs = [
            ctx.Process(target=run, args=(rank, world, port, queue))
            for rank in range(world)
        ]
        for p in procs:
            p.start()
        results[world] = {
            quant: (prefill, step)
            for quant, prefill, step in (queue.get() for _ in QUANTS)
        }
        for p in procs:
            p.join()
    checks = {}
    for quant in QUANTS:
        (p1, s1), (p2, s2) = results[1][quant], results[2][quant]
        checks["bf16" if quant == "none" else quant] = {
            "prefill_logits_rel_err_tp2_vs_tp1": round(
                rel_error(torch.tensor(p2), torch.tensor(p1)), 6
            ),
            "step_logits_rel_err_tp2_vs_tp1": round(
                rel_error(torch.tensor(s2), torch.tensor(s1)), 9
            ),
            "step_argmax_equal": int(s1.argmax()) == int(s2.argmax()),
        }
    result = {
        "benchmark": "planner_tp_check",
        "device": "CPU (Triton interpreter, gloo)",
        "model": f"random weights, {SHAPE}",
        "torch": torch.__version__,
        "seconds": round(time.perf_counter() - started, 1),
        "checks": checks,
    }
    out = Path(os.environ.get("OUT", "bench/results"))
    out.mkdir(parents=True, exist_ok=True)
    (out / "planner-tp2-check-cpu.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(checks, indent=2))


if __name__ == "__main__":
    main()
