"""`plan_vram`: the VRAM planner's verdict over the WebSocket, on the GPUs the host's telemetry sees.

The figures are vram.py's own (test_vram_planner.py checks them by hand); these tests check that the request
carries them unchanged, on which GPUs it plans (the stream's latest sample, or a fresh one), and its errors.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.sync.client import ClientConnection

from sightline_host.models.catalog import load_catalog
from sightline_host.models.vram import GIB, plan_profile
from sightline_host.protocol import client_problem, host_problem
from sightline_host.telemetry import ModelAccounting, ReplaySource, SystemSource
from sightline_host.telemetry.nvml_source import RawRecordError, snapshot_from_raw
from sightline_host.vram_request import UnknownProfile, gpus_from_snapshot, plan_vram
from tests.conftest import RunningHost, start_host, stop_host
from tests.messaging import exchange

FIXTURES = Path(__file__).parent / "fixtures"
RECORDING = FIXTURES / "nvml-2gpu-h200.jsonl"
WITH_MODELS = FIXTURES / "nvml-2gpu-h200-models.jsonl"
RECORDS = [json.loads(line) for line in RECORDING.read_text().splitlines()]
CATALOG = load_catalog()


def busy_snapshot() -> Any:
    """Record 12: GPU 1 runs another process's 7.1 GiB of matrix products, GPU 0 is idle."""
    return snapshot_from_raw(RECORDS[12], "replay", ModelAccounting())


# ----------------------------------------------------------------------------------- in process


def test_gpus_come_from_the_snapshot_with_what_nvml_sees_in_use_taken_off() -> None:
    snap = busy_snapshot()
    gpus = gpus_from_snapshot(snap)
    assert [(g.index, g.name) for g in gpus] == [(0, "NVIDIA H200"), (1, "NVIDIA H200")]
    raw1 = RECORDS[12]["devices"][1]["nvmlDeviceGetMemoryInfo"]
    assert gpus[1].total_bytes == raw1["total"] == 150754820096
    assert gpus[1].free == raw1["total"] - raw1["used"]
    assert (
        gpus[0].free - gpus[1].free
        == raw1["used"] - RECORDS[12]["devices"][0]["nvmlDeviceGetMemoryInfo"]["used"]
        > 6 * GIB
    )


def test_the_message_carries_the_planners_own_figures_and_words() -> None:
    snap = busy_snapshot()
    message = plan_vram("p", CATALOG, "workstation", snap)
    assert host_problem(message) is None, host_problem(message)
    direct = plan_profile(CATALOG, CATALOG.profile("workstation"), gpus_from_snapshot(snap))
    assert message["verdict"] == direct.verdict and message["lines"] == list(direct.lines)
    # The seed plan asks TP=3: invalid for 64 heads, and there are two GPUs; TP=2 fits two H200s.
    assert message["outcome"] == "fits_with_changes"
    assert message["requested"] is not None and message["requested"]["tensor"] == 3
    assert any("64 attention heads do not divide by TP=3" in p for p in message["requested_problems"])
    assert message["chosen"] is not None
    assert (message["chosen"]["tensor"], message["chosen"]["pipeline"]) == (2, 1)
    assert message["chosen"]["gpus"] == [0, 1]
    assert message["changes"] == ["TP=3 × PP=1 → TP=2 × PP=1"]
    assert message["gpus_from"] == "replay" and "no_gpu_reason" not in message
    by_gpu = {g["index"]: g for g in message["gpus"]}
    assert set(by_gpu) == {0, 1}
    for usage in direct.gpus:
        sent = by_gpu[usage.gpu.index]
        assert sent["used_bytes"] == usage.used and sent["headroom_bytes"] == usage.headroom and sent["fits"]
        assert sent["free_bytes"] == usage.gpu.free
        assert [s["total_bytes"] for s in sent["shares"]] == [s.total for s in usage.shares]
        assert sent["used_bytes"] == (
            sum(s["total_bytes"] for s in sent["shares"])
            + sent["cuda_context_bytes"]
            + sent["comm_bytes"]
            + sent["fragmentation_bytes"]
        )
    planner = next(s for s in by_gpu[1]["shares"] if s["role"] == "planner")
    assert planner["model_id"] == "llama-3.1-70b-instruct-awq-int4" and "TP rank 1" in planner["detail"]
    assert planner["total_bytes"] == (
        planner["weights_bytes"] + planner["kv_cache_bytes"] + planner["activations_bytes"] + planner["workspace_bytes"]
    )
    placements = {p["role"]: p["gpus"] for p in message["placements"]}
    assert placements["planner"] == [0, 1] and placements["ocr"] == []
    assert [s["model_id"] for s in message["cpu"]] == ["rapidocr-ppocrv4"]


def test_a_profile_that_fits_as_asked() -> None:
    message = plan_vram("p", CATALOG, "single-gpu", busy_snapshot())
    assert host_problem(message) is None, host_problem(message)
    assert message["outcome"] == "fits" and message["changes"] == [] and message["requested_problems"] == []
    assert message["verdict"].startswith("Fits as requested")


def test_without_a_gpu_a_gpu_profile_does_not_fit_and_says_why() -> None:
    snap = SystemSource("no NVIDIA GPU driver: the NVML library (libnvidia-ml) was not found").sample()
    message = plan_vram("p", CATALOG, "workstation", snap)
    assert host_problem(message) is None, host_problem(message)
    assert message["outcome"] == "does_not_fit" and message["gpus"] == [] and message["chosen"] is None
    assert message["gpus_from"] == "system"
    assert message["verdict"] == "Does not fit: no NVIDIA GPU was found and this profile needs one."
    assert message["no_gpu_reason"] == "no NVIDIA GPU driver: the NVML library (libnvidia-ml) was not found"


def test_a_cpu_profile_fits_without_a_gpu() -> None:
    message = plan_vram("p", CATALOG, "embedded", SystemSource("no GPU").sample())
    assert host_problem(message) is None, host_problem(message)
    assert message["outcome"] == "fits" and message["requested"] is None and message["gpus"] == []
    assert message["verdict"].startswith("Fits: CPU only")
    assert {s["role"] for s in message["cpu"]} == {"planner", "ocr"}
    assert all(s["total_bytes"] > 0 for s in message["cpu"])


def test_an_unknown_profile_names_the_known_ones() -> None:
    with pytest.raises(UnknownProfile) as caught:
        plan_vram("p", CATALOG, "datacenter", busy_snapshot())
    assert str(caught.value) == "no profile 'datacenter' (known: embedded, single-gpu, workstation)"


# ----------------------------------------------------------------------------------- recorded models


def test_a_record_may_carry_its_recording_processs_models() -> None:
    source = ReplaySource(WITH_MODELS, ModelAccounting())
    snaps = [source.sample() for _ in range(len(source))]
    holding = [i for i, s in enumerate(snaps) if s.models]
    assert holding == [25, 26, 27, 28]
    model = snaps[25].models[0]
    assert model == {
        "role": "planner",
        "model_id": "llama-3.2-1b-shapes-random",
        "device": "cuda:0",
        "bytes": 2471629056,
    }
    # NVML saw that much and more in use on GPU 0 (the CUDA context and the allocator's slack on top).
    assert snaps[25].gpus[0]["memory_used_bytes"] > model["bytes"]
    message = snaps[25].to_message("t")
    assert host_problem(message) is None and message["models"][0]["device"] == "cuda:0"


def test_live_accounting_joins_the_recorded_models_and_wins_on_the_same_key() -> None:
    record = {**RECORDS[25], "models": [{"role": "planner", "model_id": "m", "device": "cuda:0", "bytes": 5}]}
    live = ModelAccounting()
    live.register("vlm", "molmo-7b-d", "cuda:1", 7)
    assert [(m["model_id"], m["bytes"]) for m in snapshot_from_raw(record, "replay", live).models] == [
        ("m", 5),
        ("molmo-7b-d", 7),
    ]
    live.register("planner", "m", "cuda:0", 9)
    assert [(m["model_id"], m["bytes"]) for m in snapshot_from_raw(record, "replay", live).models] == [
        ("m", 9),
        ("molmo-7b-d", 7),
    ]


@pytest.mark.parametrize(
    "models",
    [{"role": "planner"}, [{"role": "planner", "model_id": "m", "device": "cuda:0"}], [{"bytes": 1}], ["x"]],
    ids=["not-a-list", "no-bytes", "no-names", "not-an-object"],
)
def test_a_malformed_models_list_is_refused(models: object) -> None:
    with pytest.raises(RawRecordError, match="models"):
        snapshot_from_raw({**RECORDS[0], "models": models}, "replay", ModelAccounting())


# ----------------------------------------------------------------------------------- the real host


@pytest.fixture(scope="module")
def replay_host() -> Iterator[RunningHost]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SIGHTLINE_TELEMETRY_REPLAY", str(RECORDING))
        running = start_host()
    yield running
    stop_host(running)


@pytest.fixture
def replay_ws(replay_host: RunningHost) -> Iterator[ClientConnection]:
    connection = replay_host.connect()
    try:
        yield connection
    finally:
        connection.close()


def test_the_request_is_part_of_the_protocol() -> None:
    assert client_problem({"type": "plan_vram", "id": "v", "profile": "workstation"}) is None
    assert client_problem({"type": "plan_vram", "id": "v"}) is not None
    assert client_problem({"type": "plan_vram", "id": "v", "profile": ""}) is not None


def test_plan_vram_over_the_socket_plans_on_the_replayed_gpus(replay_ws: ClientConnection) -> None:
    hello = exchange(replay_ws, {"type": "hello", "id": "h", "protocol": 1, "client": "pytest"})
    assert "vram_plan" in hello["capabilities"]
    reply = exchange(replay_ws, {"type": "plan_vram", "id": "v1", "profile": "workstation"})
    assert reply["type"] == "vram_plan" and reply["id"] == "v1" and reply["profile"] == "workstation"
    assert reply["gpus_from"] == "replay" and reply["outcome"] == "fits_with_changes"
    assert [g["name"] for g in reply["gpus"]] == ["NVIDIA H200", "NVIDIA H200"]
    assert reply["chosen"]["tensor"] == 2


def test_while_streaming_it_plans_on_the_sample_just_sent_without_advancing_the_replay(
    replay_ws: ClientConnection,
) -> None:
    replay_ws.send(json.dumps({"type": "subscribe_telemetry", "id": "s", "interval_ms": 400}))
    first = json.loads(replay_ws.recv(timeout=10))
    assert first["type"] == "telemetry"
    plan = exchange(replay_ws, {"type": "plan_vram", "id": "v", "profile": "single-gpu"})
    while plan["type"] == "telemetry":  # a sample may come first
        first = plan
        plan = json.loads(replay_ws.recv(timeout=10))
    assert plan["type"] == "vram_plan" and plan["outcome"] == "fits"
    shown = {g["index"]: g["memory_total_bytes"] - g["memory_used_bytes"] for g in first["gpus"]}
    assert {g["index"]: g["free_bytes"] for g in plan["gpus"]} == shown
    # The stream goes on from the next record: the plan took no sample of its own.
    following = json.loads(replay_ws.recv(timeout=10))
    gpus = [snapshot_from_raw(r, "replay", ModelAccounting()).to_message("x")["gpus"] for r in RECORDS]
    after = {json.dumps(gpus[(i + 1) % len(gpus)]) for i in range(len(gpus)) if gpus[i] == first["gpus"]}
    assert after, "the first sample is a record of the recording"
    assert json.dumps(following["gpus"]) in after
    exchange(replay_ws, {"type": "unsubscribe_telemetry", "id": "u"})


def test_an_unknown_profile_is_a_typed_error_and_the_connection_stays(replay_ws: ClientConnection) -> None:
    reply = exchange(replay_ws, {"type": "plan_vram", "id": "bad", "profile": "datacenter"})
    assert reply == {
        "type": "error",
        "id": "bad",
        "code": "unknown_profile",
        "message": "no profile 'datacenter' (known: embedded, single-gpu, workstation)",
    }
    missing = exchange(replay_ws, {"type": "plan_vram", "id": "m"})
    assert missing["code"] == "bad_request" and missing["id"] == "m"
    assert exchange(replay_ws, {"type": "ping", "id": "p"}) == {"type": "pong", "id": "p"}


def test_on_this_machine_without_a_gpu_the_host_says_so(ws: ClientConnection) -> None:
    reply = exchange(ws, {"type": "plan_vram", "id": "v", "profile": "workstation"})
    if reply["gpus_from"] == "nvml":
        pytest.skip("this machine has an NVIDIA GPU")
    assert reply["gpus_from"] == "system" and reply["outcome"] == "does_not_fit"
    assert "NVIDIA" in reply["no_gpu_reason"]
    cpu = exchange(ws, {"type": "plan_vram", "id": "e", "profile": "embedded"})
    assert cpu["outcome"] == "fits" and cpu["gpus"] == []
