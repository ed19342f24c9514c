"""The planner engine's benchmark table, on a random-weight model with Llama-3-8B shapes (the catalog's
llama-3.1-8b-instruct architecture):

1. single-stream decode tokens/s in bf16 and INT4, TP=1 and (with 2 GPUs) TP=2, each beside its memory-bandwidth
   bound: bytes one decode step reads per GPU ÷ that GPU's copy bandwidth measured in the same run; transformers
   `generate` as the baseline;
2. time to first token of a 3,000-token prompt, cold and with the prefix cache holding the shared system prompt +
   element list (reused from the live cache after turn 1's answer, and from the block store after another
   conversation replaced the live cache);
3. the per-token cost of JSON-schema-constrained decoding (llguidance, the app's plan schema), against the same
   loop reading each token back without a grammar.

Correctness rides along: logits against transformers, the fused decode step against a prefill of the same tokens,
prefix-cache logits against a cold prefill, TP=2 against TP=1 on the same weights, and every finished plan parsed
and validated against the schema.

Run on the GPU machine: PYTHONPATH=inference python3 bench/planner_decode.py
Writes $OUT/planner-<device>[-xN].json (or bench/results/) and prints the table.
Needs torch, triton and transformers; llguidance, quicktok-v1 (the Llama 3 tokenizer) and jsonschema for part 3.
Knobs: PHASE=tp1,tp2 (TP=2 runs when 2 GPUs are visible; PHASE=tp2 alone merges into the TP=1 result this
machine saved), QUANTS / TP_QUANTS (bf16, int4-words, int4-planes, each optionally +pdl), ALL_REDUCE=nccl,symm.
"""

from __future__ import annotations

import json
import os
import platform
import socket
import statistics
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

import torch

from sightline_host.engine.graph_decode import Engine
from sightline_host.engine.llama import (
    LlamaDecoder,
    LlamaShape,
    build_decoder,
    bytes_per_token_bound,
    from_hf_model,
    random_weights,
    rel_error,
)
from sightline_host.engine.prefix_cache import PrefixCache
from sightline_host.engine.tensor_parallel import (
    TensorParallel,
    check_layout,
    int4_manifest,
)
from sightline_host.engine.triton_decode import apply_token_bitmask
from sightline_host.engine.triton_gemv import tuning_report

SEED = 0
PROMPT = 32
STEPS = int(os.environ.get("DECODE_STEPS", 256))
REPEATS = 3
LONG_PROMPT, SHARED_PREFIX = (
    3000,
    2900,
)  # system prompt + element list shared by both turns; 100-token instruction
ANSWER = 32  # turn 1's answer, decoded before turn 2
MAX_SEQ = 4096
PLAN_SCHEMA = (
    Path(__file__).resolve().parents[1]
    / "inference"
    / "sightline_host"
    / "protocol"
    / "plan.schema.json"
)
# bf16, and INT4 in the engine's two layouts (triton_gemv.py): "int4-words" (f16x2 dot products) and "int4-planes".
# "+pdl": the same weights with programmatic dependent launch between the GEMVs (decode only).
QUANTS = os.environ.get("QUANTS", "bf16,bf16+pdl,int4-words,int4-words+pdl").split(",")
TP_QUANTS = os.environ.get(
    "TP_QUANTS", "bf16,bf16+pdl,int4-words,int4-words+pdl"
).split(",")
# Tokens decoded under the grammar per variant (a random model writes long strings: plans take ~1,000 tokens).
CONSTRAINED = {
    "bf16": int(os.environ.get("CONSTRAINED_STEPS", 1024)),
    "int4-words": 512,
}


def log(message: str) -> None:
    print(message, flush=True)


def copy_bandwidth() -> float:
    """Bytes read plus written per second by a large device-to-device copy on the current GPU."""
    src = torch.randn(2**30, dtype=torch.bfloat16, device="cuda")  # 2 GiB
    dst = torch.empty_like(src)
    for _ in range(3):
        dst.copy_(src)
    torch.cuda.synchronize()
    times = []
    for _ in range(10):
        start, end = (
            torch.cuda.Event(enable_timing=True),
            torch.cuda.Event(enable_timing=True),
        )
        start.record()
        dst.copy_(src)
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end) / 1000)
    del src, dst
    torch.cuda.empty_cache()
    return 2 * 2**31 / statistics.median(times)


def manifest() -> Any:
    from sightline_host.models.catalog import load_catalog  # noqa: PLC0415

    return load_catalog().model("llama-3.1-8b-instruct")


def quantize_arg(quant: str) -> str:
    """ "bf16", "int4-words", "int4-planes", each optionally with "+pdl" (programmatic dependent launch)."""
    base = quant.removesuffix("+pdl")
    return "none" if base == "bf16" else base


def prompt_tokens(n: int, seed: int, vocab: int) -> list[int]:
    generator = torch.Generator().manual_seed(seed)
    return [
        int(t)
        for t in torch.randint(
            0, 128_000 if vocab > 128_000 else vocab, (n,), generator=generator
        )
    ]


# ---- decode throughput --------------------------------------------------------------------------------------------
def decode_rate(engine: Engine, prompt: list[int]) -> tuple[float, list[int]]:
    rates = []
    tokens: list[int] = []
    for _ in range(REPEATS):
        first = engine.prefill(prompt, use_prefix_cache=False).first_token
        engine.decode(first, 8)  # warm the replay path
        first = engine.prefill(prompt, use_prefix_cache=False).first_token
        torch.cuda.synchronize()
        start = time.perf_counter()
        tokens = engine.decode(first, STEPS)
        rates.append(STEPS / (time.perf_counter() - start))
        tokens = [first, *tokens]
    return statistics.median(rates), tokens


def decode_row(
    engine: Engine,
    decoder: LlamaDecoder,
    prompt: list[int],
    bandwidth: float,
    quant: str,
    tp: int,
    backend: str,
) -> tuple[dict[str, Any], list[int]]:
    rate, tokens = decode_rate(engine, prompt)
    context = PROMPT + STEPS // 2
    bound_bytes = bytes_per_token_bound(decoder, context)
    bound = bandwidth / bound_bytes
    row = {
        "metric": "decode", "engine": "sightline fused Triton step, CUDA graph", "quant": quant, "tp": tp,
        "all_reduce": backend if tp > 1 else None, "tokens_per_s": round(rate, 1),
        "bound_tokens_per_s": round(bound, 1), "fraction_of_bound": round(rate / bound, 3),
        "bytes_per_token_per_gpu": bound_bytes, "mean_context": context,
    }  # fmt: skip
    log(
        f"decode {quant} TP={tp} {backend if tp > 1 else ''}: {rate:.1f} tok/s, bound {bound:.1f} ({rate / bound:.1%})"
    )
    return row, tokens


# ---- time to first token --------------------------------------------------------------------------------------------
def ttft_rows(
    engine: Engine, quant: str, tp: int, vocab: int
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Turn 1 (system prompt + element list + instruction), its answer, then turn 2 with a new instruction: cold,
    from the live cache, and (after another conversation replaced the live cache) from the block store. Each
    repeat uses fresh instructions, so only the shared prefix can be reused."""
    assert engine.prefix_cache is not None
    shared = prompt_tokens(SHARED_PREFIX, 11, vocab)
    turn1 = shared + prompt_tokens(LONG_PROMPT - SHARED_PREFIX, 12, vocab)
    other = prompt_tokens(LONG_PROMPT, 14, vocab)

    def timed(tokens: list[int], use_cache: bool) -> tuple[float, Any]:
        torch.cuda.synchronize()
        start = time.perf_counter()
        result = engine.prefill(
            tokens, use_prefix_cache=use_cache
        )  # ends with the first token on the host
        return time.perf_counter() - start, result

    timed(other, False)  # warm-up (cuBLAS and flash-attention set-up)
    cold, live, store = [], [], []
    checks: dict[str, Any] = {}
    for r in range(REPEATS):
        turn2 = shared + prompt_tokens(LONG_PROMPT - SHARED_PREFIX, 100 + r, vocab)
        turn3 = shared + prompt_tokens(LONG_PROMPT - SHARED_PREFIX, 200 + r, vocab)
        seconds, cold_result = timed(turn2, False)
        cold.append(seconds)
        if r == REPEATS - 1:  # the shared prefix's KV as a cold prefill writes it
            d = engine.decoder
            snapshot = (
                d.k_cache[:, :SHARED_PREFIX].clone(),
                d.v_cache[:, :SHARED_PREFIX].clone(),
            )
        engine.prefix_cache.clear()
        first = engine.prefill(turn1).first_token
        engine.decode(first, ANSWER)
        seconds, live_result = timed(turn2, True)
        live.append(seconds)
        engine.prefill(other)  # another conversation takes the live cache
        seconds, store_result = timed(turn3, True)
        store.append(seconds)
        if r == REPEATS - 1:
            n = store_result.reused
            restored_equal = bool(
                torch.equal(d.k_cache[:, :n], snapshot[0][:, :n])
                and torch.equal(d.v_cache[:, :n], snapshot[1][:, :n])
            )
            cold3 = engine.prefill(turn3, use_prefix_cache=False)
            checks = {
                "live_reused_tokens": live_result.reused,
                "store_reused_tokens": store_result.reused,
                "store_hit_from_block_store": store_result.from_store,
                "store_restored_kv_bit_equal_to_cold_prefill": restored_equal,
                "live_logits_rel_err_vs_cold": round(
                    rel_error(live_result.logits, cold_result.logits), 5
                ),
                "store_logits_rel_err_vs_cold": round(
                    rel_error(store_result.logits, cold3.logits), 5
                ),
                "first_token_same": live_result.first_token == cold_result.first_token
                and store_result.first_token == cold3.first_token,
            }
    rows = []
    for mode, times, reused in (
        ("no prefix cache", cold, 0),
        ("prefix cache, live KV of turn 1", live, checks["live_reused_tokens"]),
        ("prefix cache, block store", store, checks["store_reused_tokens"]),
    ):
        rows.append({
            "metric": "ttft", "quant": quant, "tp": tp, "prompt_tokens": LONG_PROMPT, "mode": mode,
            "reused_tokens": reused, "ms": round(statistics.median(times) * 1000, 1),
        })  # fmt: skip
    log(
        f"ttft {quant} TP={tp}: "
        + ", ".join(
            f"{r['mode']}: {r['ms']} ms (reused {r['reused_tokens']})" for r in rows
        )
    )
    return rows, checks


# ---- constrained decoding -------------------------------------------------------------------------------------------
def llama3_tokenizer() -> tuple[Any, Any]:
    """llguidance's tokenizer for the Llama 3 vocabulary (128,000 BPE tokens + 256 specials, from quicktok-v1)."""
    import llguidance  # noqa: PLC0415
    import quicktok  # noqa: PLC0415
    from quicktok._import_core import LLAMA3_PAT  # noqa: PLC0415

    enc = quicktok.get_encoding("llama3")
    encoder: dict[bytes, int] = {}
    specials: dict[str, int] = {}
    for i in range(enc.n_vocab):
        piece = enc.decode_single_token_bytes(i)
        if enc.is_special_token(i):
            specials[piece.decode()] = i
        else:
            encoder[piece] = i
    tokenizer = llguidance.LLTokenizer.from_tiktoken(
        encoder=encoder,
        special_tokens=specials,
        pattern=LLAMA3_PAT,
        eos_token=specials["<|eot_id|>"],
        n_vocab=enc.n_vocab,
    )
    return tokenizer, enc


def plan_schema(element_ids: list[int]) -> dict[str, Any]:
    """The plan schema the app sends, with element ids limited to those on screen (as the app's tests build it)."""
    schema = json.loads(PLAN_SCHEMA.read_text())
    text = json.dumps(schema).replace(
        '"elementId": {"type": "integer", "minimum": 1, "maximum": 9999}',
        json.dumps({"elementId": {"type": "integer", "enum": element_ids}})[1:-1],
    )
    return dict(json.loads(text))


def constrained_rows(
    engine: Engine, quant: str, vocab: int, tokenizer: Any, enc: Any, steps: int
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    import llguidance  # noqa: PLC0415
    import llguidance.torch as llg_torch  # noqa: PLC0415

    schema = plan_schema(list(range(1, 41)))
    grammar = llguidance.LLMatcher.grammar_from_json_schema(
        json.dumps(schema), defaults={"whitespace_flexible": False}
    )
    prompt = prompt_tokens(PROMPT, 21, vocab)

    first = engine.prefill(prompt, use_prefix_cache=False).first_token
    engine.decode_streaming(first, 8)
    first = engine.prefill(prompt, use_prefix_cache=False).first_token
    plain = engine.decode_streaming(first, steps)

    def constrained(steps: int) -> Any:
        matcher = llguidance.LLMatcher(tokenizer, grammar, log_level=0)
        result = engine.prefill(prompt, use_prefix_cache=False)
        mask = llg_torch.allocate_token_bitmask(1, vocab)
        llg_torch.fill_next_token_bitmask(matcher, mask)
        logits = result.logits.clone()
        apply_token_bitmask(logits, mask[0].cuda())
        first = int(logits.argmax())
        assert matcher.consume_token(first)
        engine.decoder.token.fill_(first)
        return first, engine.decode_constrained(first, steps, matcher)

    constrained(64)  # warm-up
    first, run = constrained(steps)

    # Every finished plan must parse and fit the schema.
    plans, valid = 0, 0
    text = b""
    for token in [first, *run.tokens]:
        if not enc.is_special_token(token):  # the end-of-turn token between plans
            text += enc.decode_single_token_bytes(token)
    documents = []
    decoder = json.JSONDecoder()
    rest = text.decode("utf-8", errors="replace")
    while rest.strip():
        try:
            document, end = decoder.raw_decode(rest)
        except json.JSONDecodeError:
            break  # the unfinished plan at the end of the run
        documents.append(document)
        rest = rest[end:]
    try:
        import jsonschema  # noqa: PLC0415

        for document in documents:
            plans += 1
            try:
                jsonschema.validate(document, schema)
                valid += 1
            except jsonschema.ValidationError:
                pass
    except ImportError:
        plans = len(documents)
        valid = -1

    plain_ms = statistics.median(plain.step_seconds) * 1000
    cons_ms = statistics.median(run.step_seconds) * 1000
    mask_ms = statistics.median(run.mask_seconds) * 1000
    row = {
        "metric": "constrained decoding overhead", "quant": quant, "tp": 1, "schema": "plan.schema.json (40 elements)",
        "ms_per_token_unconstrained": round(plain_ms, 3), "ms_per_token_constrained": round(cons_ms, 3),
        "overhead_ms_per_token": round(cons_ms - plain_ms, 3),
        "overhead_fraction": round((cons_ms - plain_ms) / plain_ms, 3),
        "mask_compute_ms_median": round(mask_ms, 3),
        "mask_compute_ms_p90": round(sorted(run.mask_seconds)[int(0.9 * len(run.mask_seconds))] * 1000, 3),
        "tokens": steps,
    }  # fmt: skip
    checks = {
        "plans_completed": run.completions,
        "plans_parsed": plans,
        "plans_valid": valid,
    }
    log(
        f"constrained {quant}: {plain_ms:.3f} -> {cons_ms:.3f} ms/token (mask {mask_ms:.3f} ms); {checks}"
    )
    return [row], checks


# ---- TP=1 in this process ------------------------------------------------------------------------------------------
def int4_layer_check(decoder: LlamaDecoder) -> float:
    """Layer 0's down projection through the INT4 kernel against float32 math on its dequantized weight."""
    from sightline_host.engine.triton_gemv import PackedInt4, gemv  # noqa: PLC0415

    weight = decoder.layers[0].w_down
    assert isinstance(weight, PackedInt4)
    x = torch.randn(weight.in_features, device="cuda")
    out = torch.zeros(weight.out_features, device="cuda")
    gemv(x, weight, out, epilogue="add")
    return rel_error(out, weight.dequantize_reference() @ x)


def quant_checks(
    engine: Engine,
    decoder: LlamaDecoder,
    prompt: list[int],
    hf_logits: torch.Tensor,
    quant: str,
) -> tuple[dict[str, Any], Any]:
    check: dict[str, Any] = {}
    pre = engine.prefill(prompt, use_prefix_cache=False)
    # Against transformers: only meaningful for bf16 (INT4 rounding decorrelates a random model's logits).
    check["prefill_logits_rel_err_vs_transformers"] = round(
        rel_error(pre.logits, hf_logits), 4
    )
    check["prefill_argmax_matches_transformers"] = pre.first_token == int(
        hf_logits.argmax()
    )
    if not quant.startswith("bf16"):
        check["int4_gemv_rel_err_vs_dequantized_fp32"] = round(
            int4_layer_check(decoder), 6
        )
    # The fused step (graph replay) against the eager step and against a prefill of the same tokens.
    engine.run("forward")
    graph_logits = decoder.logits.clone()
    decoder.position.fill_(PROMPT)
    decoder.token.fill_(pre.first_token)
    decoder.step()
    # Not bit-equal: split-K layers add their partial sums atomically, in whatever order they finish.
    check["graph_step_rel_err_vs_eager_step"] = round(
        rel_error(graph_logits, decoder.logits), 6
    )
    full = decoder.prefill(torch.tensor([*prompt, pre.first_token], device="cuda"), 0)
    check["step_logits_rel_err_vs_prefill"] = round(rel_error(graph_logits, full), 5)
    check["step_argmax_matches_prefill"] = int(graph_logits.argmax()) == int(
        full.argmax()
    )
    return check, pre


def single_gpu(
    shape: LlamaShape, result: dict[str, Any], reference_path: Path, save: Any
) -> None:
    from transformers import LlamaConfig, LlamaForCausalLM  # noqa: PLC0415

    bandwidth = copy_bandwidth()
    result["copy_bandwidth_GBps"] = [round(bandwidth / 1e9, 1)]
    log(f"{torch.cuda.get_device_name()}: copy bandwidth {bandwidth / 1e9:.0f} GB/s")
    config = LlamaConfig(
        vocab_size=shape.vocab_size, hidden_size=shape.hidden_size, intermediate_size=shape.intermediate_size,
        num_hidden_layers=shape.num_layers, num_attention_heads=shape.num_heads, num_key_value_heads=shape.num_kv_heads,
        max_position_embeddings=8192, rope_theta=shape.rope_theta, rms_norm_eps=shape.rms_norm_eps,
    )  # fmt: skip
    weights = random_weights(shape, SEED)
    with torch.device("meta"):
        hf = LlamaForCausalLM(config)
    hf = hf.to_empty(device="cuda").to(torch.bfloat16)
    with torch.no_grad():
        for name, param in hf.named_parameters():
            param.copy_(weights(name))
    hf.model.rotary_emb.__init__(
        config=config, device="cuda"
    )  # buffers were left empty on meta
    hf.eval()
    prompt = prompt_tokens(PROMPT, 1, shape.vocab_size)
    prompt_t = torch.tensor(prompt, device="cuda")
    rows, checks = result["rows"], result["checks"]
    reference: dict[str, Any] = {}
    tokenizer = enc = None
    try:
        tokenizer, enc = llama3_tokenizer()
    except Exception as error:  # the constrained part is skipped, and says why
        result["skipped"].append(
            f"constrained decoding: {type(error).__name__}: {error}"
        )

    with torch.no_grad():
        hf.generate(prompt_t[None], max_new_tokens=4, min_new_tokens=4, do_sample=False)
        torch.cuda.synchronize()
        start = time.perf_counter()
        hf_steps = 64
        hf.generate(
            prompt_t[None],
            max_new_tokens=hf_steps,
            min_new_tokens=hf_steps,
            do_sample=False,
        )
        torch.cuda.synchronize()
        hf_rate = hf_steps / (time.perf_counter() - start)
        hf_logits = hf(prompt_t[None]).logits[0, -1].float()

        for quant in QUANTS:
            try:
                decoder = from_hf_model(hf, MAX_SEQ, quantize_arg(quant))
                decoder.pdl = quant.endswith("+pdl")
                engine = Engine(
                    decoder,
                    PrefixCache(decoder.k_cache, block=64, capacity_tokens=8192),
                )
                check, pre = quant_checks(engine, decoder, prompt, hf_logits, quant)
                row, tokens = decode_row(
                    engine, decoder, prompt, bandwidth, quant, 1, ""
                )
                if quant == "bf16":
                    rows.append({
                        "metric": "decode", "engine": "transformers generate (baseline)", "quant": "bf16", "tp": 1,
                        "tokens_per_s": round(hf_rate, 1), "bound_tokens_per_s": row["bound_tokens_per_s"],
                        "fraction_of_bound": round(hf_rate / row["bound_tokens_per_s"], 3),
                        "bytes_per_token_per_gpu": row["bytes_per_token_per_gpu"],
                    })  # fmt: skip
                rows.append(row)
                reference[quant] = {"logits": pre.logits.cpu(), "tokens": tokens[:32]}
                if not decoder.pdl:  # prompts do not use it: the same figures again
                    ttft, ttft_check = ttft_rows(engine, quant, 1, shape.vocab_size)
                    rows.extend(ttft)
                    check["prefix_cache"] = ttft_check
                steps = CONSTRAINED.get(quant, 0)
                if tokenizer is not None and steps:
                    cons, cons_check = constrained_rows(
                        engine, quant, shape.vocab_size, tokenizer, enc, steps
                    )
                    rows.extend(cons)
                    check["constrained"] = cons_check
                checks[f"{quant} TP=1"] = check
                log(f"checks {quant} TP=1: {check}")
                del engine, decoder
            except (
                Exception
            ) as error:  # one failing variant must not lose the others' figures
                traceback.print_exc()
                result["skipped"].append(
                    f"{quant} TP=1: {type(error).__name__}: {str(error)[:400]}"
                )
            torch.cuda.empty_cache()
            save()
    torch.save(reference, reference_path)
    del hf
    torch.cuda.empty_cache()


# ---- TP=2: one process per GPU ----------------------------------------------------------------------------------------
def tp_worker(
    rank: int,
    world: int,
    port: int,
    shape: LlamaShape,
    reference_path: str,
    partial_path: str,
) -> None:
    import torch.distributed as dist  # noqa: PLC0415

    os.environ.setdefault(
        "NCCL_NVLS_ENABLE", "0"
    )  # NVLink multicast stays off on shared hosts
    os.environ.setdefault("TORCH_SYMM_MEM_DISABLE_MULTICAST", "1")
    torch.cuda.set_device(rank)
    dist.init_process_group(
        "nccl",
        init_method=f"tcp://127.0.0.1:{port}",
        rank=rank,
        world_size=world,
        device_id=torch.device("cuda", rank),
    )
    bandwidth = copy_bandwidth()
    bandwidths = [0.0] * world
    dist.all_gather_object(bandwidths, bandwidth)
    reference = torch.load(reference_path) if os.path.exists(reference_path) else {}
    prompt = prompt_tokens(PROMPT, 1, shape.vocab_size)
    weights = random_weights(shape, SEED)
    part: dict[str, Any] = {
        "rows": [],
        "checks": {},
        "skipped": [],
        "copy_bandwidth_GBps": [round(b / 1e9, 1) for b in bandwidths],
    }
    tp = TensorParallel(reduce_backend="nccl")
    decoders: dict[str, LlamaDecoder] = {}
    for quant in TP_QUANTS:  # "+pdl" variants share their weights
        base = quant.removesuffix("+pdl")
        if base not in decoders:
            decoders[base] = build_decoder(
                shape, weights, MAX_SEQ, quantize_arg(base), tp
            )
    variants = [(quant, decoders[quant.removesuffix("+pdl")]) for quant in TP_QUANTS]
    torch.cuda.empty_cache()
    # NCCL first for every variant, the symmetric-memory all-reduce after: a failure there loses nothing else.
    for backend in os.environ.get("ALL_REDUCE", "nccl,symm").split(","):
        for quant, decoder in variants:
            try:
                decoder.pdl = quant.endswith("+pdl")
                tp.reduce_backend = backend
                decoder.partial = tp.reduce_buffer(decoder.x)
                engine = Engine(
                    decoder,
                    PrefixCache(decoder.k_cache, block=64, capacity_tokens=8192),
                )
                pre = engine.prefill(prompt, use_prefix_cache=False)
                row, tokens = decode_row(
                    engine, decoder, prompt, bandwidth, quant, world, backend
                )
                row["bound_tokens_per_s_slowest_gpu"] = round(
                    min(bandwidths) / row["bytes_per_token_per_gpu"], 1
                )
                part["rows"].append(row)
                check: dict[str, Any] = {}
                ref = reference.get(quant) or reference.get(quant.removesuffix("+pdl"))
                if ref is not None:
                    check["prefill_logits_rel_err_vs_tp1"] = round(
                        rel_error(pre.logits.cpu(), ref["logits"]), 5
                    )
                    check["prefill_argmax_matches_tp1"] = pre.first_token == int(
                        ref["logits"].argmax()
                    )
                    check["greedy_tokens_equal_to_tp1_of_32"] = sum(
                        a == b for a, b in zip(tokens[:32], ref["tokens"], strict=False)
                    )
                if backend == "nccl" and not decoder.pdl:
                    ttft, ttft_check = ttft_rows(engine, quant, world, shape.vocab_size)
                    part["rows"].extend(ttft)
                    check["prefix_cache"] = ttft_check
                part["checks"][f"{quant} TP={world} {backend}"] = check
                if rank == 0:
                    log(f"checks {quant} TP={world} {backend}: {check}")
                del engine
            except Exception as error:
                if rank == 0:
                    traceback.print_exc()
                part["skipped"].append(
                    f"{quant} TP={world} all-reduce {backend}: {type(error).__name__}: {str(error)[:300]}"
                )
            torch.cuda.synchronize()
            if rank == 0:
                part["tuning"] = tuning_report()
                Path(partial_path).write_text(json.dumps(part))
    dist.barrier()
    dist.destroy_process_group()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    """PHASE=tp1 (this process, one GPU), PHASE=tp2 (two processes; merges into tp1's saved result if the same
    machine ran it), or both (the default)."""
    torch.manual_seed(SEED)
    import triton  # noqa: PLC0415

    m = manifest()
    shape = LlamaShape.from_manifest(m)
    gpus = torch.cuda.device_count()
    phases = os.environ.get("PHASE", "tp1,tp2").split(",")
    saved = Path(tempfile.gettempdir()) / "planner-result.json"
    out = Path(os.environ.get("OUT", "bench/results"))
    out.mkdir(parents=True, exist_ok=True)
    slug = torch.cuda.get_device_name().replace(" ", "-") + (
        f"-x{gpus}" if gpus > 1 else ""
    )
    path = out / f"planner-{slug}.json"
    if "tp1" not in phases and saved.exists():
        result = json.loads(saved.read_text())
    else:
        result = {
            "benchmark": "planner", "model": f"random weights, {m.id} architecture (Llama-3-8B shapes)",
            "device": torch.cuda.get_device_name(), "gpu_count": gpus, "torch": torch.__version__,
            "triton": triton.__version__, "python": platform.python_version(),
            "decode": {"prompt_tokens": PROMPT, "decode_steps": STEPS, "repeats": REPEATS, "max_seq": MAX_SEQ},
            "ttft": {"prompt_tokens": LONG_PROMPT, "shared_prefix_tokens": SHARED_PREFIX, "answer_tokens": ANSWER,
                     "prefix_block": 64, "repeats": REPEATS},
            "layout_checks": {}, "rows": [], "checks": {}, "skipped": [],
        }  # fmt: skip
        for tp in (1, 2):
            for quant, mm in (("bf16", m), ("int4", int4_manifest(m))):
                try:
                    check_layout(mm, tp)
                    result["layout_checks"][f"{quant} TP={tp}"] = "valid"
                except ValueError as error:
                    result["layout_checks"][f"{quant} TP={tp}"] = str(error)

    def save() -> None:
        text = json.dumps(result, indent=2) + "\n"
        path.write_text(text)
        saved.write_text(text)

    reference = Path(tempfile.gettempdir()) / "planner-tp1-reference.pt"
    if "tp1" in phases:
        single_gpu(shape, result, reference, save)
        result["tuning_tp1"] = tuning_report()
        save()
    if "tp2" in phases and gpus >= 2:
        import torch.multiprocessing as mp  # noqa: PLC0415

        partial = Path(tempfile.gettempdir()) / "planner-tp2-part.json"
        partial.unlink(missing_ok=True)
        try:
            mp.spawn(
                tp_worker,
                args=(2, free_port(), shape, str(reference), str(partial)),
                nprocs=2,
                join=True,
            )
        except Exception as error:
            traceback.print_exc()
            result["skipped"].append(
                f"TP=2: {type(error).__name__}: {str(error)[:400]}"
            )
        if partial.exists():
            part = json.loads(partial.read_text())
            result["rows"].extend(part["rows"])
            result["checks"].update(part["checks"])
            result["skipped"].extend(part["skipped"])
            result["copy_bandwidth_GBps_tp2"] = part["copy_bandwidth_GBps"]
            result["tuning_tp2"] = part.get("tuning")
        save()
    print_table(result)


def print_table(result: dict[str, Any]) -> None:
    log(f"\n{result['device']} x{result['gpu_count']}")
    for r in result["rows"]:
        if r["metric"] == "decode":
            extra = f" ({r['all_reduce']})" if r.get("all_reduce") else ""
            log(f"decode {r['engine'][:34]:34} {r['quant']:5} TP={r['tp']}{extra:7} {r['tokens_per_s']:8.1f} tok/s  "
                f"bound {r['bound_tokens_per_s']:8.1f}  {r['fraction_of_bound']:6.1%}")  # fmt: skip
        elif r["metric"] == "ttft":
            log(
                f"ttft   {r['mode']:34} {r['quant']:5} TP={r['tp']}        {r['ms']:8.1f} ms  reused {r['reused_tokens']}"
            )
        else:
            log(f"constrained {r['quant']:5}: {r['ms_per_token_unconstrained']} -> {r['ms_per_token_constrained']} ms/token "
                f"(+{r['overhead_ms_per_token']} ms, mask {r['mask_compute_ms_median']} ms)")  # fmt: skip
    for s in result["skipped"]:
        log(f"skipped: {s}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
