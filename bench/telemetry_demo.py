"""GPU telemetry, end to end on a real GPU: the NVML sampler running, a random-weight model of a real
architecture (Llama-3.2-1B shapes, bf16) loaded on one GPU and registered in the model accounting, and what
NVML saw: memory before and after the CUDA context and the load, the model's registered size against the
NVML delta, and PyTorch's own allocator figures beside them.

Run on the GPU machine (PyTorch and transformers, no internet needed):

    PYTHONPATH=inference python3 bench/telemetry_demo.py [--device cuda:0] [--record stream.jsonl]

Writes bench/results/telemetry-demo-<gpu name>.json (or $OUT/...) and prints a summary. With --record it
also writes every raw NVML record the sampler took (the format `sightline_host.telemetry.record` writes,
which `SIGHTLINE_TELEMETRY_REPLAY` plays back).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import sys
import threading
import time
from pathlib import Path
from typing import Any

from sightline_host.telemetry.accounting import ACCOUNTING
from sightline_host.telemetry.nvml_source import NvmlSource, NvmlUnavailable, snapshot_from_raw

# Llama-3.2-1B's public config.json.
LLAMA_32_1B = {
    "vocab_size": 128256,
    "hidden_size": 2048,
    "intermediate_size": 8192,
    "num_hidden_layers": 16,
    "num_attention_heads": 32,
    "num_key_value_heads": 8,
    "head_dim": 64,
    "max_position_embeddings": 131072,
    "rms_norm_eps": 1e-5,
    "rope_theta": 500000.0,
    "rope_scaling": {
        "factor": 32.0,
        "low_freq_factor": 1.0,
        "high_freq_factor": 4.0,
        "original_max_position_embeddings": 8192,
        "rope_type": "llama3",
    },
    "tie_word_embeddings": True,
    "hidden_act": "silu",
}
MODEL_ID = "llama-3.2-1b-shapes-random"
MIB = 1 << 20


class Sampler:
    """Samples NVML every ``interval`` seconds on a thread, keeping each raw record."""

    def __init__(self, source: NvmlSource, interval: float) -> None:
        self.source = source
        self.interval = interval
        self.records: list[dict[str, Any]] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="nvml-sampler", daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            raw = self.source.read_raw()
            with self._lock:
                self.records.append(raw)
            self._stop.wait(self.interval)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def now(self) -> dict[str, Any]:
        """A fresh record, taken outside the loop (also kept in the stream)."""
        raw = self.source.read_raw()
        with self._lock:
            self.records.append(raw)
        return raw


def settled(sampler: Sampler, index: int, seconds: float = 1.5) -> dict[str, Any]:
    """NVML's memory figure lags allocations a little: sample until it stops moving."""
    last = None
    deadline = time.monotonic() + seconds
    raw = sampler.now()
    while time.monotonic() < deadline:
        time.sleep(0.2)
        raw = sampler.now()
        used = raw["devices"][index]["nvmlDeviceGetMemoryInfo"]["used"]
        if used == last:
            break
        last = used
    return raw


def point(name: str, raw: dict[str, Any], index: int, torch: Any) -> dict[str, Any]:
    snap = snapshot_from_raw(raw, "nvml", ACCOUNTING)
    gpu = next(g for g in snap.gpus if g["index"] == index)
    return {
        "point": name,
        "nvml_used_bytes": gpu["memory_used_bytes"],
        "nvml_total_bytes": gpu["memory_total_bytes"],
        "processes": [{"pid": p["pid"], "used_bytes": p["used_bytes"]} for p in gpu["processes"]],
        "torch_allocated_bytes": torch.cuda.memory_allocated(index) if torch.cuda.is_initialized() else 0,
        "torch_reserved_bytes": torch.cuda.memory_reserved(index) if torch.cuda.is_initialized() else 0,
        "telemetry_message": snap.to_message("demo"),
    }


def load_random_llama(torch: Any, model_class: Any, config: Any, device: str) -> tuple[Any, Any, float]:
    """Random bf16 weights placed straight on the GPU (no float32 copy on the way)."""
    torch.set_default_dtype(torch.bfloat16)
    with torch.device("meta"):
        model = model_class(config)
    started = time.perf_counter()
    model = model.to_empty(device=device)
    generator = torch.Generator(device=device).manual_seed(0)
    for name, param in model.named_parameters():
        if name.endswith("norm.weight"):
            param.data.fill_(1.0)
        else:
            param.data.normal_(0, 0.02, generator=generator)
    model.tie_weights()
    model.model.rotary_emb.__init__(config=config, device=device)  # buffers were left empty on meta
    model.eval()
    torch.cuda.synchronize()
    return model, generator, time.perf_counter() - started


def print_summary(result: dict[str, Any], index: int, out: Path) -> None:
    m, mem = result["model"], result["memory"]
    print(f"GPU {index}: {result['machine']['gpu']}; {result['sampler']['samples']} NVML samples")
    for p in result["points"]:
        print(
            f"  {p['point']:<44} NVML used {p['nvml_used_bytes'] / MIB:10.1f} MiB   torch allocated "
            f"{p['torch_allocated_bytes'] / MIB:9.1f} MiB, reserved {p['torch_reserved_bytes'] / MIB:9.1f} MiB"
        )
    print(f"  CUDA context: {mem['cuda_context_bytes'] / MIB:.1f} MiB")
    print(
        f"  model: {m['params']:,} params, registered {m['registered_bytes'] / MIB:.1f} MiB; NVML delta "
        f"{mem['nvml_delta_for_load_bytes'] / MIB:.1f} MiB ({mem['nvml_delta_minus_registered_bytes'] / MIB:+.1f} MiB)"
    )
    print(f"wrote {out}")


def main() -> int:  # noqa: PLR0915 - one straight sequence of measurements
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", default="cuda:0")
    parser.add_argument("--interval-ms", type=int, default=200, help="sampler interval (default 200)")
    parser.add_argument("--record", type=Path, help="also write the raw NVML stream here (JSON lines)")
    parser.add_argument("--out", type=Path, help="result file (default bench/results/telemetry-demo-<gpu>.json)")
    args = parser.parse_args()
    match = re.fullmatch(r"cuda:(\d+)", args.device)
    if not match:
        parser.error("--device must be cuda:N")
    index = int(match.group(1))

    try:
        source = NvmlSource()
    except NvmlUnavailable as exc:
        print(f"telemetry_demo: {exc}; this demo needs an NVIDIA GPU", file=sys.stderr)
        return 2
    sampler = Sampler(source, args.interval_ms / 1000)
    sampler.start()
    t0 = time.time()
    import torch  # noqa: PLC0415 - after the baseline: importing torch does not touch the GPU, but keep it clean
    from transformers import LlamaConfig, LlamaForCausalLM  # noqa: PLC0415

    points = [point("baseline (no CUDA context in this process)", settled(sampler, index), index, torch)]

    torch.cuda.set_device(index)
    torch.zeros(1, device=args.device)
    torch.cuda.synchronize()
    points.append(point("CUDA context created", settled(sampler, index), index, torch))

    config = LlamaConfig(**LLAMA_32_1B)
    model, generator, load_seconds = load_random_llama(torch, LlamaForCausalLM, config, args.device)
    tensors = {t.data_ptr(): t.numel() * t.element_size() for t in [*model.parameters(), *model.buffers()]}
    registered = sum(tensors.values())
    params = sum(p.numel() for p in {p.data_ptr(): p for p in model.parameters()}.values())
    ACCOUNTING.register("planner", MODEL_ID, args.device, registered)
    points.append(point("model loaded and registered", settled(sampler, index), index, torch))

    with torch.inference_mode():
        tokens = torch.randint(0, config.vocab_size, (1, 512), device=args.device, generator=generator)
        model(tokens)
    torch.cuda.synchronize()
    points.append(point("after one 512-token forward pass", settled(sampler, index), index, torch))

    del model
    torch.cuda.empty_cache()
    ACCOUNTING.unregister("planner", MODEL_ID)
    points.append(point("model freed and unregistered", settled(sampler, index), index, torch))
    sampler.stop()
    source.close()

    by = {p["point"]: p for p in points}
    ctx, loaded = by["CUDA context created"], by["model loaded and registered"]
    nvml_delta = loaded["nvml_used_bytes"] - ctx["nvml_used_bytes"]
    first = points[0]["telemetry_message"]["gpus"]
    gpu_name = next(g["name"] for g in first if g["index"] == index)
    raw0 = sampler.records[0]
    result = {
        "benchmark": "telemetry_demo",
        "machine": {
            "gpu": gpu_name,
            "gpus": [g["name"] for g in first],
            "driver": raw0.get("nvmlSystemGetDriverVersion"),
            "nvml": raw0.get("nvmlSystemGetNVMLVersion"),
            "torch": torch.__version__,
            "python": platform.python_version(),
            "host": platform.node(),
        },
        "model": {
            "id": MODEL_ID,
            "architecture": "LlamaForCausalLM, Llama-3.2-1B shapes (public config.json), random weights",
            "dtype": "bfloat16",
            "device": args.device,
            "params": params,
            "registered_bytes": registered,
            "load_seconds": round(load_seconds, 3),
        },
        "memory": {
            "cuda_context_bytes": ctx["nvml_used_bytes"] - points[0]["nvml_used_bytes"],
            "nvml_delta_for_load_bytes": nvml_delta,
            "registered_bytes": registered,
            "nvml_delta_minus_registered_bytes": nvml_delta - registered,
            "torch_allocated_after_load_bytes": loaded["torch_allocated_bytes"],
            "torch_reserved_after_load_bytes": loaded["torch_reserved_bytes"],
            "explanation": (
                "NVML counts what the driver handed out: the caching allocator's reserved segments (rounded up to "
                "2 MiB blocks) plus anything outside PyTorch; the registered size counts the model's tensors."
            ),
        },
        "points": points,
        "sampler": {
            "interval_ms": args.interval_ms,
            "samples": len(sampler.records),
            "seconds": round(time.time() - t0, 2),
            "our_pid": os.getpid(),
        },
    }
    slug = re.sub(r"[^A-Za-z0-9.]+", "-", gpu_name).strip("-")
    default_dir = Path(os.environ.get("OUT") or Path(__file__).resolve().parent / "results")
    out = args.out or default_dir / f"telemetry-demo-{slug}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    if args.record:
        args.record.parent.mkdir(parents=True, exist_ok=True)
        args.record.write_text("".join(json.dumps(r) + "\n" for r in sampler.records))

    print_summary(result, index, out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
