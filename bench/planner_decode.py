"""Planner decode on one GPU: single-stream tokens/s of a random-weight Llama-3-8B-shaped model, bf16 and INT4,
beside the memory-bandwidth bound (bytes read per token ÷ copy bandwidth measured in the same run), and plain
transformers `generate` as the baseline. Writes JSON to $OUT (or bench/results) and prints a table.

Run on the GPU machine: PYTHONPATH=inference python3 bench/planner_decode.py
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import torch
from transformers import LlamaConfig, LlamaForCausalLM

from sightline_host.engine.graph_decode import GraphDecoder
from sightline_host.engine.llama import Int4Linear, bytes_per_token_bound, from_hf_model, rel_error

PROMPT = 32
STEPS = int(os.environ.get("DECODE_STEPS", 256))
MAX_SEQ = PROMPT + STEPS + 32
# quantization:compiled|eager:kernels — "torch" is cuBLAS / tinygemm, "triton" the project's GEMV kernels.
DEFAULT_VARIANTS = "bf16:compiled:torch,bf16:eager:triton,bf16:compiled:triton,int4:compiled:torch,int4:eager:triton,int4:compiled:triton"


def copy_bandwidth() -> float:
    """Bytes read plus written per second by a large device-to-device copy (the practical ceiling)."""
    src = torch.randn(2**30, dtype=torch.bfloat16, device="cuda")  # 2 GiB
    dst = torch.empty_like(src)
    for _ in range(3):
        dst.copy_(src)
    torch.cuda.synchronize()
    times = []
    for _ in range(10):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        dst.copy_(src)
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end) / 1000)
    del src, dst
    return 2 * 2**31 / statistics.median(times)


def random_llama(config: LlamaConfig) -> LlamaForCausalLM:
    with torch.device("meta"):
        model = LlamaForCausalLM(config)
    model = model.to_empty(device="cuda").to(torch.bfloat16)
    generator = torch.Generator(device="cuda").manual_seed(0)
    for name, param in model.named_parameters():
        if name.endswith("norm.weight"):
            param.data.fill_(1.0)
        else:
            param.data.normal_(0, 0.02, generator=generator)
    model.model.rotary_emb.__init__(config=config, device="cuda")  # buffers were left empty on meta
    return model.eval()


def timed_decode(engine: GraphDecoder, prompt: torch.Tensor) -> tuple[float, list[int]]:
    first = engine.prefill(prompt)
    engine.generate(first, PROMPT, 8)  # warm the replay path
    torch.cuda.synchronize()
    start = time.perf_counter()
    tokens = engine.generate(first, PROMPT, STEPS)
    torch.cuda.synchronize()
    return STEPS / (time.perf_counter() - start), [first, *tokens]


def main() -> None:
    torch.manual_seed(0)
    device_name = torch.cuda.get_device_name()
    bandwidth = copy_bandwidth()
    config = LlamaConfig(
        vocab_size=128_256, hidden_size=4096, intermediate_size=14_336, num_hidden_layers=32,
        num_attention_heads=32, num_key_value_heads=8, max_position_embeddings=8192, rope_theta=500_000.0,
        rms_norm_eps=1e-5, torch_dtype=torch.bfloat16,
    )
    hf = random_llama(config)
    prompt = torch.randint(0, config.vocab_size, (PROMPT,), device="cuda")
    rows = []

    with torch.no_grad():
        # Baseline: transformers generate, greedy, default cache.
        hf.generate(prompt[None], max_new_tokens=4, do_sample=False, min_new_tokens=4)
        torch.cuda.synchronize()
        start = time.perf_counter()
        hf_steps = 64
        hf.generate(prompt[None], max_new_tokens=hf_steps, min_new_tokens=hf_steps, do_sample=False)
        torch.cuda.synchronize()
        hf_tps = hf_steps / (time.perf_counter() - start)
        hf_logits = hf(prompt[None]).logits[0, -1].float()

        variants = [v.split(":") for v in os.environ.get("VARIANTS", DEFAULT_VARIANTS).split(",")]
        for quant, compiled_flag, kernels in variants:
            compiled = compiled_flag == "compiled"
            decoder = from_hf_model(hf, MAX_SEQ, quantize="int4" if quant == "int4" else "none", kernels=kernels)
            logits = decoder.forward(prompt, torch.zeros((), dtype=torch.long, device="cuda"))
            logit_err = rel_error(logits, hf_logits)
            layer_err = None
            if quant == "int4":
                lin = decoder.layers[0].w_down
                reference = lin.dequantized_reference if isinstance(lin, Int4Linear) else lin.weight.dequantize()
                x = torch.randn(1, reference.shape[1], device="cuda", dtype=torch.bfloat16)
                layer_err = rel_error(lin(x), x.float() @ reference.T)
            try:
                engine = GraphDecoder(decoder, compile_step=compiled)
                tps, tokens = timed_decode(engine, prompt)
            except Exception as error:  # one failed variant must not lose the others' figures
                print(f"{quant} compiled={compiled} failed: {type(error).__name__}: {str(error)[:400]}", flush=True)
                del decoder
                torch._dynamo.reset()
                torch.cuda.empty_cache()
                continue
            # Graph replay must produce what the eager step produces.
            eager_first = int(decoder.forward(prompt, torch.zeros((), dtype=torch.long, device="cuda")).argmax())
            context = PROMPT + STEPS // 2
            bound_bytes = bytes_per_token_bound(decoder, context)
            bound = bandwidth / bound_bytes
            rows.append({
                "engine": f"sightline graph decode ({quant}, {kernels}{', compiled' if compiled else ''})", "gpus": 1, "tokens_per_s": round(tps, 1),
                "bound_tokens_per_s": round(bound, 1), "fraction_of_bound": round(tps / bound, 3),
                "bytes_per_token": bound_bytes, "logits_rel_err_vs_hf": round(logit_err, 4),
                "int4_layer_rel_err_vs_dequantized": None if layer_err is None else round(layer_err, 5),
                "first_token_matches_eager": tokens[0] == eager_first,
            })
            del engine, decoder
            torch._dynamo.reset()
            torch.cuda.empty_cache()

    bf16_bytes = rows[0]["bytes_per_token"]
    rows.insert(0, {
        "engine": "transformers generate (bf16)", "gpus": 1, "tokens_per_s": round(hf_tps, 1),
        "bound_tokens_per_s": round(bandwidth / bf16_bytes, 1),
        "fraction_of_bound": round(hf_tps / (bandwidth / bf16_bytes), 3), "bytes_per_token": bf16_bytes,
    })
    result = {
        "benchmark": "planner_decode", "model": "random-weight Llama-3-8B shapes", "device": device_name,
        "gpu_count": torch.cuda.device_count(), "torch": torch.__version__, "python": platform.python_version(),
        "copy_bandwidth_GBps": round(bandwidth / 1e9, 1), "prompt_tokens": PROMPT, "decode_steps": STEPS, "rows": rows,
    }
    out = Path(os.environ.get("OUT", "bench/results"))
    out.mkdir(parents=True, exist_ok=True)
    slug = device_name.replace(" ", "-")
    (out / f"planner-decode-{slug}.json").write_text(json.dumps(result, indent=2) + "\n")
    print(f"\n{device_name}: copy bandwidth {bandwidth / 1e9:.0f} GB/s (read + write)")
    print(f"{'engine':36} {'tok/s':>8} {'bound':>8} {'of bound':>9}  checks")
    for r in rows:
        checks = {k: r[k] for k in ("logits_rel_err_vs_hf", "int4_layer_rel_err_vs_dequantized", "first_token_matches_eager") if k in r}
        print(f"{r['engine']:36} {r['tokens_per_s']:8.1f} {r['bound_tokens_per_s']:8.1f} {r['fraction_of_bound']:9.1%}  {checks}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
