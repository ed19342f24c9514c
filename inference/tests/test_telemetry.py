"""GPU telemetry: NVML records → snapshots, replay, system memory, the model accounting, and the WebSocket stream.

The replay fixture is a real recording: `python -m sightline_host.telemetry.record --seconds 24 --interval-ms 500`
on a machine with two H200s while bench/telemetry_demo.py loaded a model on GPU 0 and another process ran
matrix products on GPU 1.
"""

from __future__ import annotations

import copy
import itertools
import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, get_type_hints

import pytest
from fastapi.testclient import TestClient
from websockets.sync.client import ClientConnection

from sightline_host import telemetry, ws_session
from sightline_host.app import create_app
from sightline_host.protocol import client_problem, host_problem
from sightline_host.protocol import types as protocol_types
from sightline_host.telemetry import (
    ACCOUNTING,
    ModelAccounting,
    NvmlSource,
    NvmlUnavailable,
    ReplayError,
    ReplaySource,
    SystemSource,
    TelemetrySnapshot,
    open_source,
)
from sightline_host.telemetry.nvml_source import RawRecordError, snapshot_from_raw
from sightline_host.telemetry.replay import load_records
from sightline_host.telemetry.system_source import parse_meminfo, system_memory
from tests.conftest import RunningHost, start_host, stop_host
from tests.messaging import exchange

FIXTURE = Path(__file__).parent / "fixtures" / "nvml-2gpu-h200.jsonl"
RECORDS = [json.loads(line) for line in FIXTURE.read_text().splitlines()]


def nvml_available() -> bool:
    try:
        NvmlSource().close()
    except NvmlUnavailable:
        return False
    return True


# ----------------------------------------------------------------------------------- conversion


def test_a_recorded_nvml_record_becomes_a_snapshot() -> None:
    busy = next(r for r in RECORDS if r["devices"][1]["nvmlDeviceGetComputeRunningProcesses"])
    snap = snapshot_from_raw(busy, "replay", ModelAccounting())
    assert [g["index"] for g in snap.gpus] == [0, 1]
    raw1 = busy["devices"][1]
    g1 = snap.gpus[1]
    assert g1["name"] == raw1["nvmlDeviceGetName"] and g1["uuid"] == raw1["nvmlDeviceGetUUID"]
    assert g1["memory_used_bytes"] == raw1["nvmlDeviceGetMemoryInfo"]["used"]
    assert g1["memory_total_bytes"] == raw1["nvmlDeviceGetMemoryInfo"]["total"]
    assert g1["utilization_percent"] == raw1["nvmlDeviceGetUtilizationRates"]["gpu"]
    assert g1["power_w"] == pytest.approx(raw1["nvmlDeviceGetPowerUsage"] / 1000)  # NVML gives milliwatts
    assert g1["power_limit_w"] == pytest.approx(raw1["nvmlDeviceGetEnforcedPowerLimit"] / 1000)
    assert g1["sm_clock_mhz"] == raw1["nvmlDeviceGetClockInfo_SM"]
    assert g1["temperature_c"] == raw1["nvmlDeviceGetTemperature"]
    procs = raw1["nvmlDeviceGetComputeRunningProcesses"]
    assert [(p["pid"], p["used_bytes"]) for p in g1["processes"]] == [(p["pid"], p["usedGpuMemory"]) for p in procs]
    assert snap.system["memory_total_bytes"] == busy["system_memory"]["total_bytes"]
    message = snap.to_message("t")
    assert host_problem(message) is None, host_problem(message)
    assert "reason" not in message


def test_figures_a_gpu_does_not_report_become_null() -> None:
    record = copy.deepcopy(RECORDS[0])
    device = record["devices"][0]
    not_supported = {"error": "Not Supported", "code": 3}
    for key in (
        "nvmlDeviceGetPowerUsage",
        "nvmlDeviceGetEnforcedPowerLimit",
        "nvmlDeviceGetTemperature",
        "nvmlDeviceGetUtilizationRates",
        "nvmlDeviceGetClockInfo_SM",
    ):
        device[key] = not_supported
    # The same process in both lists (compute and graphics) counts once; Windows WDDM reports no memory.
    device["nvmlDeviceGetComputeRunningProcesses"] = [
        {"pid": 7, "usedGpuMemory": 1024},
        {"pid": 9, "usedGpuMemory": None},
    ]
    device["nvmlDeviceGetGraphicsRunningProcesses"] = [{"pid": 7, "usedGpuMemory": 1024}]
    g = snapshot_from_raw(record, "replay", ModelAccounting()).gpus[0]
    unreported = (g["power_w"], g["power_limit_w"], g["temperature_c"], g["utilization_percent"], g["sm_clock_mhz"])
    assert unreported == (None,) * 5
    assert g["mem_clock_mhz"] is not None
    assert [(p["pid"], p["used_bytes"]) for p in g["processes"]] == [(7, 1024), (9, None)]
    message = snapshot_from_raw(record, "replay", ModelAccounting()).to_message("t")
    assert host_problem(message) is None, host_problem(message)


def test_a_record_without_memory_figures_is_refused() -> None:
    record = copy.deepcopy(RECORDS[0])
    record["devices"][0]["nvmlDeviceGetMemoryInfo"] = {"error": "Unknown Error", "code": 999}
    with pytest.raises(RawRecordError, match=r"devices\[0\]: no index or memory figures"):
        snapshot_from_raw(record, "replay", ModelAccounting())


def test_a_snapshot_is_the_generated_telemetry_message_without_type_and_id() -> None:
    """The snapshot restates no protocol field: its figures are the TypedDicts generated from
    src-shared/protocol/telemetry.ts, and its own fields are the message's, less `type` and `id`."""
    for name in ("GpuProcess", "GpuTelemetry", "ModelMemory", "SystemMemory", "TelemetrySourceKind"):
        assert getattr(telemetry, name) is getattr(protocol_types, name)
    snapshot_fields = get_type_hints(TelemetrySnapshot)
    message_fields = get_type_hints(protocol_types.Telemetry)
    assert set(snapshot_fields) == set(message_fields) - {"type", "id"}
    assert snapshot_fields["source"] == message_fields["source"] == protocol_types.TelemetrySourceKind
    assert snapshot_fields["time_ms"] is message_fields["time_ms"] is float
    assert snapshot_fields["gpus"] == tuple[protocol_types.GpuTelemetry, ...]
    assert snapshot_fields["system"] is message_fields["system"] is protocol_types.SystemMemory
    assert snapshot_fields["models"] == tuple[protocol_types.ModelMemory, ...]
    assert snapshot_fields["reason"] == str | None


def test_a_message_is_a_copy_of_the_snapshot() -> None:
    acc = ModelAccounting()
    acc.register("planner", "llama", "cuda:0", 100)
    snap = snapshot_from_raw(RECORDS[0], "replay", acc)
    message = snap.to_message("t")
    message["gpus"][0]["memory_used_bytes"] = -1
    message["gpus"][0]["processes"].clear()
    message["system"]["memory_total_bytes"] = -1
    message["models"][0]["bytes"] = -1
    assert snap.to_message("t") == snapshot_from_raw(RECORDS[0], "replay", acc).to_message("t") != message
    assert host_problem(snap.to_message("t")) is None


def test_meminfo() -> None:
    text = "MemTotal:       16314532 kB\nMemFree:         1000000 kB\nMemAvailable:    8000000 kB\n"
    mem = parse_meminfo(text)
    assert mem == {"memory_used_bytes": (16314532 - 8000000) * 1024, "memory_total_bytes": 16314532 * 1024}
    old_kernel = "MemTotal: 100 kB\nMemFree: 10 kB\nBuffers: 5 kB\nCached: 20 kB\n"
    assert parse_meminfo(old_kernel)["memory_used_bytes"] == (100 - 35) * 1024
    with pytest.raises(ValueError, match="MemTotal"):
        parse_meminfo("nonsense\n")
    live = system_memory()
    assert 0 < live["memory_used_bytes"] < live["memory_total_bytes"]


def test_the_accounting_registry() -> None:
    acc = ModelAccounting()
    acc.register("planner", "llama", "cuda:0", 100)
    acc.register("planner", "llama", "cuda:1", 90)  # split over two GPUs
    acc.register("ocr", "rapidocr", "cpu", 5)
    acc.register("planner", "llama", "cuda:0", 120)  # re-registering replaces
    llama = [(h["device"], h["bytes"]) for h in acc.holdings() if h["model_id"] == "llama"]
    assert llama == [("cuda:0", 120), ("cuda:1", 90)]
    acc.holdings()[0]["bytes"] = 0  # a copy: the registry keeps its figures
    assert acc.holdings()[0] == {"role": "ocr", "model_id": "rapidocr", "device": "cpu", "bytes": 5}
    assert acc.unregister("planner", "llama", "cuda:1") == 1
    assert acc.unregister("planner", "llama") == 1
    assert [h["model_id"] for h in acc.holdings()] == ["rapidocr"]
    for bad in [("planner", "x", "gpu", 1), ("planner", "x", "cuda:0", -1), ("", "x", "cpu", 1)]:
        with pytest.raises(ValueError):
            acc.register(*bad)
    with pytest.raises(ValueError, match="non-negative integer"):
        acc.register("planner", "x", "cpu", 1.5)  # type: ignore[arg-type]


# ----------------------------------------------------------------------------------- sources


def test_replay_plays_the_recording_in_order_and_loops() -> None:
    acc = ModelAccounting()
    acc.register("vlm", "molmo-7b-d", "cuda:1", 16_000_000_000)
    source = ReplaySource(FIXTURE, acc)
    assert len(source) == len(RECORDS) > 10
    samples = [source.sample() for _ in range(len(RECORDS) + 2)]
    for i, snap in enumerate(samples):
        record = RECORDS[i % len(RECORDS)]
        assert snap.source == "replay"
        assert [g["memory_used_bytes"] for g in snap.gpus] == [
            d["nvmlDeviceGetMemoryInfo"]["used"] for d in record["devices"]
        ]
        assert [(m["model_id"], m["device"]) for m in snap.models] == [("molmo-7b-d", "cuda:1")]
    assert abs(samples[-1].time_ms - time.time() * 1000) < 5000  # stamped now, not at recording time


def test_replay_errors_name_the_file_and_line(tmp_path: Path) -> None:
    with pytest.raises(ReplayError, match="cannot read the telemetry recording"):
        ReplaySource(tmp_path / "missing.jsonl")
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(RECORDS[0]) + "\n{not json\n")
    with pytest.raises(ReplayError, match=r"bad\.jsonl:2: not JSON"):
        load_records(bad)
    bad.write_text(json.dumps({"devices": [{"index": 0}]}) + "\n")
    with pytest.raises(ReplayError, match=r"bad\.jsonl:1: devices\[0\]: no nvmlDeviceGetMemoryInfo"):
        load_records(bad)
    bad.write_text("\n")
    with pytest.raises(ReplayError, match="no records"):
        load_records(bad)


def test_open_source_picks_replay_then_nvml_then_system(tmp_path: Path) -> None:
    assert open_source({"SIGHTLINE_TELEMETRY_REPLAY": str(FIXTURE)}).kind == "replay"
    with pytest.raises(ReplayError):
        open_source({"SIGHTLINE_TELEMETRY_REPLAY": str(tmp_path / "nope.jsonl")})
    source = open_source({})
    try:
        snap = source.sample()
    finally:
        source.close()
    if nvml_available():
        assert source.kind == "nvml" and snap.gpus
    else:
        assert isinstance(source, SystemSource) and source.kind == "system"
        assert snap.gpus == () and snap.reason and "NVIDIA" in snap.reason
        assert snap.system["memory_total_bytes"] > 0
        assert host_problem(snap.to_message("t")) is None


def test_recorder_without_a_gpu_says_so_and_checks_its_arguments(tmp_path: Path) -> None:
    def record(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "sightline_host.telemetry.record", *args],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    bad = record("--seconds", "0", "--out", str(tmp_path / "x.jsonl"))
    assert bad.returncode == 2 and "must be more than 0" in bad.stderr
    if nvml_available():
        pytest.skip("this machine has an NVIDIA GPU: see test_live_nvml_record_and_replay")
    result = record("--seconds", "1", "--out", str(tmp_path / "x.jsonl"))
    assert result.returncode == 2 and "NVIDIA" in result.stderr and "nothing recorded" in result.stderr
    assert not (tmp_path / "x.jsonl").exists()


@pytest.mark.skipif(not nvml_available(), reason="needs an NVIDIA GPU and driver")
def test_live_nvml_record_and_replay(tmp_path: Path) -> None:
    source = NvmlSource(ModelAccounting())
    try:
        snap = source.sample()
    finally:
        source.close()
    assert snap.source == "nvml" and snap.gpus
    for g in snap.gpus:
        assert 0 < g["memory_used_bytes"] <= g["memory_total_bytes"] and g["uuid"].startswith("GPU-")
    out = tmp_path / "live.jsonl"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "sightline_host.telemetry.record",
            "--seconds",
            "1",
            "--interval-ms",
            "250",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    replayed = ReplaySource(out, ModelAccounting())
    assert len(replayed) >= 3
    assert [g["uuid"] for g in replayed.sample().gpus] == [g["uuid"] for g in snap.gpus]


# ----------------------------------------------------------------------------------- the stream, in process


class CountingSource:
    kind = "replay"

    def __init__(self) -> None:
        self.inner = ReplaySource(FIXTURE)
        self.count = 0
        self._lock = threading.Lock()

    def sample(self) -> TelemetrySnapshot:
        with self._lock:
            self.count += 1
        return self.inner.sample()

    def close(self) -> None:
        return None


TOKEN = "telemetry-test-token-0123456789abcdef"


def test_the_stream_carries_registered_models_and_stops_when_the_socket_closes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    source = CountingSource()
    monkeypatch.setattr(ws_session, "_shared_telemetry", source)
    ACCOUNTING.register("planner", "llama-3.1-8b-instruct", "cuda:0", 16_060_522_496)
    try:
        with TestClient(create_app(TOKEN)) as client:
            with client.websocket_connect("/ws", headers={"Authorization": f"Bearer {TOKEN}"}) as ws:
                ws.send_json({"type": "subscribe_telemetry", "id": "s", "interval_ms": 100})
                for _ in range(3):
                    message = ws.receive_json()
                    assert host_problem(message) is None, host_problem(message)
                    assert message["type"] == "telemetry" and message["id"] == "s"
                    assert message["models"] == [
                        {
                            "role": "planner",
                            "model_id": "llama-3.1-8b-instruct",
                            "device": "cuda:0",
                            "bytes": 16_060_522_496,
                        }
                    ]
            time.sleep(0.3)
            after_close = source.count
            time.sleep(0.6)
            assert source.count == after_close, "the host kept sampling for a closed socket"
    finally:
        ACCOUNTING.unregister("planner", "llama-3.1-8b-instruct")


class FailingSource(CountingSource):
    def sample(self) -> TelemetrySnapshot:
        if self.count >= 2:
            raise RuntimeError("GPU fell off the bus")
        return super().sample()


def test_a_source_that_fails_mid_stream_ends_it_with_a_typed_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ws_session, "_shared_telemetry", FailingSource())
    with (
        TestClient(create_app(TOKEN)) as client,
        client.websocket_connect("/ws", headers={"Authorization": f"Bearer {TOKEN}"}) as ws,
    ):
        ws.send_json({"type": "subscribe_telemetry", "id": "s", "interval_ms": 100})
        assert [ws.receive_json()["type"] for _ in range(2)] == ["telemetry", "telemetry"]
        failure = ws.receive_json()
        assert host_problem(failure) is None
        assert (failure["type"], failure["id"], failure["code"]) == ("error", "s", "telemetry_unavailable")
        assert "GPU fell off the bus" in failure["message"]
        ws.send_json({"type": "ping", "id": "p"})
        assert ws.receive_json() == {"type": "pong", "id": "p"}


# ----------------------------------------------------------------------------------- the stream, real host process


@pytest.fixture(scope="module")
def replay_host() -> Iterator[RunningHost]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SIGHTLINE_TELEMETRY_REPLAY", str(FIXTURE))
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


def receive(ws: ClientConnection, timeout: float = 5) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(ws.recv(timeout=timeout))
    assert host_problem(message) is None, host_problem(message)
    return message


EXPECTED_GPUS = [snapshot_from_raw(r, "replay", ModelAccounting()).to_message("x")["gpus"] for r in RECORDS]


def record_index(message: dict[str, Any]) -> set[int]:
    return {i for i, gpus in enumerate(EXPECTED_GPUS) if gpus == message["gpus"]}


def test_hello_announces_telemetry(replay_ws: ClientConnection) -> None:
    reply = exchange(replay_ws, {"type": "hello", "id": "h", "protocol": 1, "client": "pytest"})
    assert "telemetry" in reply["capabilities"]


def test_subscribe_streams_the_recording_at_the_asked_interval(replay_ws: ClientConnection) -> None:
    request = {"type": "subscribe_telemetry", "id": "sub-1", "interval_ms": 200}
    assert client_problem(request) is None
    replay_ws.send(json.dumps(request))
    messages, arrived = [], []
    for _ in range(5):
        messages.append(receive(replay_ws))
        arrived.append(time.monotonic())
    assert all(m["type"] == "telemetry" and m["id"] == "sub-1" and m["source"] == "replay" for m in messages)
    assert all(len(m["gpus"]) == 2 and m["models"] == [] for m in messages)
    assert messages[0]["system"] == {
        "memory_used_bytes": messages[0]["system"]["memory_used_bytes"],
        "memory_total_bytes": RECORDS[0]["system_memory"]["total_bytes"],
    }
    # Consecutive samples are consecutive records of the recording.
    candidates = [record_index(m) for m in messages]
    assert all(candidates), "a message matches no record of the recording"
    n = len(RECORDS)
    assert any(all((k + i) % n in c for i, c in enumerate(candidates)) for k in candidates[0])
    gaps = [b - a for a, b in itertools.pairwise(arrived)]
    assert all(0.1 < gap < 0.6 for gap in gaps), gaps
    stamps = [m["time_ms"] for m in messages]
    assert stamps == sorted(stamps)


def test_the_default_interval_is_about_a_second(replay_ws: ClientConnection) -> None:
    started = time.monotonic()
    replay_ws.send(json.dumps({"type": "subscribe_telemetry", "id": "slow"}))
    first = receive(replay_ws)
    got_first = time.monotonic()
    second = receive(replay_ws)
    assert first["id"] == second["id"] == "slow"
    assert got_first - started < 0.5  # the first sample comes at once
    assert 0.7 < time.monotonic() - got_first < 1.6


def test_unsubscribe_stops_the_stream(replay_ws: ClientConnection) -> None:
    replay_ws.send(json.dumps({"type": "subscribe_telemetry", "id": "s", "interval_ms": 100}))
    receive(replay_ws)
    receive(replay_ws)
    replay_ws.send(json.dumps({"type": "unsubscribe_telemetry", "id": "u"}))
    while (message := receive(replay_ws))["type"] == "telemetry":
        assert message["id"] == "s"
    assert message == {"type": "telemetry_stopped", "id": "u"}
    with pytest.raises(TimeoutError):
        replay_ws.recv(timeout=0.5)
    # Unsubscribing again is harmless, and the connection carries on.
    assert exchange(replay_ws, {"type": "unsubscribe_telemetry", "id": "u2"}) == {
        "type": "telemetry_stopped",
        "id": "u2",
    }
    assert exchange(replay_ws, {"type": "ping", "id": "p"}) == {"type": "pong", "id": "p"}


def test_a_new_subscription_replaces_the_old_one(replay_ws: ClientConnection) -> None:
    replay_ws.send(json.dumps({"type": "subscribe_telemetry", "id": "old", "interval_ms": 100}))
    assert receive(replay_ws)["id"] == "old"
    replay_ws.send(json.dumps({"type": "subscribe_telemetry", "id": "new", "interval_ms": 100}))
    while receive(replay_ws)["id"] == "old":
        pass
    assert [receive(replay_ws)["id"] for _ in range(4)] == ["new"] * 4


def test_a_bad_interval_is_a_bad_request(replay_ws: ClientConnection) -> None:
    reply = exchange(replay_ws, {"type": "subscribe_telemetry", "id": "b", "interval_ms": 5})
    assert reply["type"] == "error" and reply["code"] == "bad_request" and "interval_ms" in reply["message"]


def test_without_a_gpu_the_stream_says_so_and_gives_system_memory(ws: ClientConnection) -> None:
    ws.send(json.dumps({"type": "subscribe_telemetry", "id": "sys"}))
    message = receive(ws)
    ws.send(json.dumps({"type": "unsubscribe_telemetry", "id": "u"}))
    if message["source"] == "nvml":
        assert message["gpus"]
        return
    assert message["source"] == "system" and message["gpus"] == []
    assert "NVIDIA" in message["reason"]
    assert 0 < message["system"]["memory_used_bytes"] < message["system"]["memory_total_bytes"]


def test_an_unreadable_replay_file_is_a_typed_error(tmp_path: Path) -> None:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SIGHTLINE_TELEMETRY_REPLAY", str(tmp_path / "gone.jsonl"))
        running = start_host()
    try:
        ws = running.connect()
        reply = exchange(ws, {"type": "subscribe_telemetry", "id": "t"})
        assert reply["type"] == "error" and reply["code"] == "telemetry_unavailable" and reply["id"] == "t"
        assert "gone.jsonl" in reply["message"]
        assert exchange(ws, {"type": "ping", "id": "p"}) == {"type": "pong", "id": "p"}
        ws.close()
    finally:
        stop_host(running)
