"""External planner engines: their command lines from the profile and the VRAM planner, and the supervision of
a real engine process (llama-cpp-python's OpenAI server running the embedded SmolLM2 GGUF)."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import sys
import time
from pathlib import Path

import pytest

from sightline_host.models.catalog import Catalog, Profile, Serve, load_catalog
from sightline_host.models.vram import gpus_like, plan_profile
from sightline_host.planner.chat_types import ChatMessage, ChatRequest, EngineError, Usage
from sightline_host.planner.external.launch import LaunchRefused, build_launch, check_launch
from sightline_host.planner.external.process import EngineProcess, EngineProcessError
from sightline_host.planner.external.proxy import ProxyChatEngine
from sightline_host.planner.registry import ChatModels


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


def _with_serve(profile: Profile, serve: Serve) -> Profile:
    planner = dataclasses.replace(profile.models["planner"], serve=serve)
    return dataclasses.replace(profile, models={**profile.models, "planner": planner})


def _flag(argv: tuple[str, ...], name: str) -> str:
    return argv[argv.index(name) + 1]


# ------------------------------------------------------------------------------------------- command lines


def test_vllm_command_follows_the_plan_the_vram_planner_approved(catalog: Catalog) -> None:
    profile = catalog.profile("workstation")
    plan = check_launch(catalog, _fitting_workstation(profile), gpus_like(4, 24))
    m = catalog.model(profile.models["planner"].model)
    spec = build_launch("vllm", m, profile.models["planner"], "/store/llama-70b", 8123, "k" * 24, plan)
    argv = spec.argv
    assert argv[:3] == ("vllm", "serve", "/store/llama-70b")
    assert plan.chosen is not None
    assert _flag(argv, "--tensor-parallel-size") == str(plan.chosen.tensor) == "2"
    assert _flag(argv, "--pipeline-parallel-size") == "1"
    assert _flag(argv, "--quantization") == "awq_marlin"
    assert _flag(argv, "--max-model-len") == "8192"
    assert _flag(argv, "--structured-outputs-config.backend") == "xgrammar"
    assert "--enable-prefix-caching" in argv
    assert (_flag(argv, "--host"), _flag(argv, "--port"), _flag(argv, "--api-key")) == ("127.0.0.1", "8123", "k" * 24)
    # vLLM would otherwise take 90% of every GPU; the plan's share leaves room for Molmo and the detector.
    fraction = float(_flag(argv, "--gpu-memory-utilization"))
    assert 0.3 < fraction < 0.95
    assert spec.env["CUDA_VISIBLE_DEVICES"] == ",".join(map(str, plan.placements["planner"]))
    assert spec.health_url == "http://127.0.0.1:8123/health"


def _fitting_workstation(profile: Profile) -> Profile:
    """The seed's workstation profile with a layout that fits 4 x 24 GiB: TP=2 (64 and 8 KV heads divide by 2)."""
    planner = profile.models["planner"]
    assert planner.parallel is not None
    return dataclasses.replace(
        profile,
        models={
            **profile.models,
            "planner": dataclasses.replace(planner, parallel=dataclasses.replace(planner.parallel, tensor=2)),
        },
    )


def test_launch_of_the_seed_plan_is_refused_with_the_planners_numbers(catalog: Catalog) -> None:
    with pytest.raises(LaunchRefused) as refused:
        check_launch(catalog, catalog.profile("workstation"), gpus_like(3, 24))
    text = str(refused.value)
    assert "TP=3" in text and "INVALID" in text
    assert "72" in text  # 3 x 24 GiB is 72 GiB, not 64


def test_llama_server_and_trtllm_commands(catalog: Catalog) -> None:
    profile = catalog.profile("single-gpu")
    plan = plan_profile(catalog, profile, gpus_like(1, 80))
    assert plan.fits
    m = catalog.model(profile.models["planner"].model)
    a = profile.models["planner"]
    server = build_launch("llama-server", m, a, Path("/m/model.gguf"), 9000, "secret-key-123456", plan).argv
    assert server[:3] == ("llama-server", "-m", "/m/model.gguf")
    assert (_flag(server, "-c"), _flag(server, "-ngl"), _flag(server, "--alias")) == ("16384", "999", m.id)
    assert "--split-mode" not in server  # one GPU
    trt = build_launch(
        "trtllm-serve", m, a, "/m/ckpt", 9001, "unused-key-123456", plan, extra_args=["--log_level", "info"]
    )
    assert trt.argv[:2] == ("trtllm-serve", "/m/ckpt")
    assert (_flag(trt.argv, "--tp_size"), _flag(trt.argv, "--pp_size"), _flag(trt.argv, "--max_seq_len")) == (
        "1",
        "1",
        "16384",
    )
    assert trt.argv[-2:] == ("--log_level", "info")
    assert trt.served_name == "/m/ckpt"


def test_a_cpu_profile_keeps_every_layer_on_the_cpu(catalog: Catalog) -> None:
    profile = catalog.profile("embedded")
    plan = check_launch(catalog, profile, [])
    m = catalog.model(profile.models["planner"].model)
    argv = build_launch("llama-cpp-python", m, profile.models["planner"], Path("/m/s.gguf"), 9002, "x" * 16, plan).argv
    assert _flag(argv, "--n_gpu_layers") == "0"
    assert _flag(argv, "--n_ctx") == "4096"


# ---------------------------------------------------------------------------------------- a real process


PLAN_SCHEMA = {
    "type": "object",
    "properties": {
        "steps": {"type": "array", "minItems": 1, "maxItems": 2, "items": {"type": "string", "maxLength": 30}}
    },
    "required": ["steps"],
    "additionalProperties": False,
}


def _ask(models: ChatModels) -> str:
    request = ChatRequest(
        [ChatMessage("user", "List the steps to save a file.")], max_tokens=80, json_schema=PLAN_SCHEMA
    )
    return "".join(d.text for d in models.engine("planner").stream(request, Usage(), lambda: False))


@pytest.mark.timeout(240)
def test_the_host_starts_serves_restarts_and_stops_a_real_llama_cpp_server(catalog: Catalog) -> None:
    serve = Serve("llama-cpp-python", executable=(sys.executable, "-m", "llama_cpp.server"), startup_timeout_s=120)
    models = ChatModels(catalog, _with_serve(catalog.profile("embedded"), serve))
    try:
        answer = json.loads(_ask(models))
        assert isinstance(answer["steps"], list) and 1 <= len(answer["steps"]) <= 2
        engine = models.engine("planner")
        assert isinstance(engine, ProxyChatEngine)
        process = engine.process
        first_pid = process.pid
        assert first_pid is not None and process.healthy()

        os.kill(first_pid, signal.SIGKILL)  # the engine crashes between two requests
        deadline = time.monotonic() + 10
        while process.alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not process.alive()
        json.loads(_ask(models))
        assert process.restarts == 1 and process.pid != first_pid
    finally:
        models.close()
    assert not process.alive()
    assert models.loaded() == []  # unloaded with the host; a later request would start a fresh engine


def test_an_engine_that_dies_at_start_up_says_why(catalog: Catalog) -> None:
    script = "import sys; print('CUDA error: out of memory', flush=True); sys.exit(3)"
    serve = Serve("llama-cpp-python", executable=(sys.executable, "-c", script), startup_timeout_s=30)
    models = ChatModels(catalog, _with_serve(catalog.profile("embedded"), serve))
    with pytest.raises(EngineError) as failed:
        models.engine("planner")
    assert failed.value.code == "engine_unavailable"
    assert "code 3" in str(failed.value) and "CUDA error: out of memory" in str(failed.value)


def test_an_engine_that_never_gets_healthy_is_killed_after_its_timeout(catalog: Catalog) -> None:
    profile = catalog.profile("embedded")
    m = catalog.model(profile.models["planner"].model)
    spec = build_launch("llama-cpp-python", m, profile.models["planner"], Path("/nonexistent.gguf"), 1, "k" * 16)
    spec = dataclasses.replace(
        spec, argv=(sys.executable, "-c", "import time; print('loading', flush=True); time.sleep(60)")
    )
    process = EngineProcess(spec, startup_timeout_s=1.5)
    with pytest.raises(EngineProcessError, match="did not answer"):
        process.start()
    deadline = time.monotonic() + 5
    while process.alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not process.alive()
    assert "loading" in process.log_tail()
