"""The model store against a local hub, through the real huggingface_hub client."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from sightline_host.models.catalog import Catalog, load_catalog
from sightline_host.models.store import (
    LOCK_NAME,
    PARTIAL_DIR,
    ChecksumMismatch,
    ModelNotPresent,
    ModelStore,
    OfflineError,
    PackageModelError,
    ProgressEvent,
    StoreError,
    default_store_dir,
)
from tests.fake_hub import FakeHub, RepoFile

REPO = "sightline-test/tiny-detector"
COMMIT_A = "a" * 40
COMMIT_B = "b" * 40
MODELS = Path(__file__).resolve().parents[2] / "models"
MIB = 1 << 20
# Bigger than the hub client's 10 MiB read chunk, so that a dropped connection leaves bytes to resume from.
BIG = 24 * MIB


@pytest.fixture(scope="module")
def files() -> dict[str, dict[str, RepoFile]]:
    big = os.urandom(BIG)
    return {
        COMMIT_A: {
            "config.json": RepoFile(b'{"arch": "tiny", "revision": "a"}\n', lfs=False),
            "weights-00001.onnx": RepoFile(big, lfs=True),
            "weights-00002.onnx": RepoFile(os.urandom(MIB + 17), lfs=True),
            "README.md": RepoFile(b"not asked for\n", lfs=False),
        },
        COMMIT_B: {
            "config.json": RepoFile(b'{"arch": "tiny", "revision": "b"}\n', lfs=False),
            "weights-00001.onnx": RepoFile(os.urandom(2 * MIB), lfs=True),
        },
    }


@pytest.fixture
def hub(files: dict[str, dict[str, RepoFile]]) -> Iterator[FakeHub]:
    server = FakeHub(REPO, files, {"main": COMMIT_B}).start()
    yield server
    server.stop()


def write_catalog(root: Path, revision: str | None, weights_sha256: str | None = None) -> Path:
    (root / "catalog").mkdir(parents=True, exist_ok=True)
    (root / "profiles").mkdir(exist_ok=True)
    for schema in ("catalog.schema.json", "profile.schema.json"):
        shutil.copy(MODELS / schema, root / schema)
    manifest: dict[str, Any] = {
        "id": "tiny",
        "name": "Tiny test detector",
        "role": "detector",
        "format": "onnx",
        "source": {"hub": REPO, "revision": revision},
        "files": [
            {"name": "config.json", "sha256": None, "size_bytes": None},
            {"name": "weights-*.onnx", "sha256": None, "size_bytes": None},
        ],
        "architecture": {"params": 1000},
        "quantization": {"method": "none", "bits": 32, "dtype": "float32"},
        "runtime": {"engine": "onnxruntime", "device": "cpu"},
        "licence": {"id": "apache-2.0"},
    }
    if weights_sha256 is not None:
        manifest["files"][1] = {"name": "weights-00002.onnx", "sha256": weights_sha256, "size_bytes": MIB + 17}
    (root / "catalog" / "tiny.yaml").write_text(yaml.safe_dump(manifest), "utf-8")
    return root


@pytest.fixture
def catalog(tmp_path: Path) -> Catalog:
    return load_catalog(write_catalog(tmp_path / "models", COMMIT_A))


def make_store(catalog: Catalog, tmp_path: Path, hub: FakeHub, **kwargs: Any) -> ModelStore:
    return ModelStore(catalog, tmp_path / "store", endpoint=hub.endpoint, token=False, **kwargs)


def test_default_store_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("SIGHTLINE_MODELS_DIR", raising=False)
    assert default_store_dir() == Path.home() / ".cache" / "sightline" / "models"
    monkeypatch.setenv("SIGHTLINE_MODELS_DIR", str(tmp_path))
    assert default_store_dir() == tmp_path


def test_pull_downloads_the_pinned_revision_and_verifies_it(
    catalog: Catalog, tmp_path: Path, hub: FakeHub, files: dict[str, dict[str, RepoFile]]
) -> None:
    store = make_store(catalog, tmp_path, hub)
    result = store.pull("tiny")
    folder = tmp_path / "store" / "tiny"
    assert result.path == folder and result.revision == COMMIT_A and not result.already_present
    for name in ("config.json", "weights-00001.onnx", "weights-00002.onnx"):
        assert (folder / name).read_bytes() == files[COMMIT_A][name].data
    assert not (folder / "README.md").exists()  # not in the manifest
    # Only the pinned commit was asked for: never the branch, whose files differ.
    asked = [r.path for r in hub.requests]
    assert asked and all(COMMIT_A in p for p in asked if "/cdn/" not in p)
    assert not any("/main" in p for p in asked)
    lock = json.loads((folder / LOCK_NAME).read_text())
    assert lock["revision"] == COMMIT_A
    checked = {f["name"]: (f["sha256"], f["checked_against"]) for f in lock["files"]}
    assert checked["weights-00001.onnx"] == (files[COMMIT_A]["weights-00001.onnx"].sha256, "hub LFS sha256")
    assert checked["config.json"] == (files[COMMIT_A]["config.json"].sha256, "hub git blob id")
    assert not (tmp_path / "store" / PARTIAL_DIR / f"tiny@{COMMIT_A}").exists()
    assert store.status("tiny").state == "present"
    assert store.file_path("tiny", "config.json") == folder / "config.json"
    # A second pull finds it and does not touch the network.
    before = len(hub.requests)
    again = store.pull("tiny")
    assert again.already_present and len(hub.requests) == before


def test_the_hub_token_is_not_sent_to_the_storage_host(catalog: Catalog, tmp_path: Path, hub: FakeHub) -> None:
    store = ModelStore(catalog, tmp_path / "store", endpoint=hub.endpoint, token="hf_secret_test_token")
    store.pull("tiny")
    resolve = [r for r in hub.requests if "/resolve/" in r.path]
    cdn = [r for r in hub.requests if r.path.startswith("/cdn/")]
    assert resolve and all(r.authorization == "Bearer hf_secret_test_token" for r in resolve)
    assert cdn and all(r.authorization is None for r in cdn)


def test_an_unpinned_revision_is_resolved_once_and_then_pinned(tmp_path: Path, hub: FakeHub) -> None:
    catalog = load_catalog(write_catalog(tmp_path / "models", None))
    store = make_store(catalog, tmp_path, hub)
    result = store.pull("tiny")
    assert result.revision == COMMIT_B and any(COMMIT_B in n and "pinned" in n for n in result.notes)
    assert any(r.path.endswith("/revision/main") for r in hub.requests)
    hub.branches["main"] = COMMIT_A  # the branch moves on
    store.remove("tiny")
    hub.requests.clear()
    # Not present any more, and the lock is gone with it: pinning lives in the lock, so this resolves again.
    assert store.pull("tiny").revision == COMMIT_A
    hub.requests.clear()
    assert store.pull("tiny").already_present and not hub.requests


def test_a_sha256_mismatch_is_refused_and_nothing_is_left_in_place(
    tmp_path: Path, hub: FakeHub, files: dict[str, dict[str, RepoFile]]
) -> None:
    wrong = "0" * 64
    catalog = load_catalog(write_catalog(tmp_path / "models", COMMIT_A, weights_sha256=wrong))
    store = make_store(catalog, tmp_path, hub)
    with pytest.raises(ChecksumMismatch) as caught:
        store.pull("tiny")
    assert caught.value.file == "weights-00002.onnx" and caught.value.expected == wrong
    assert caught.value.actual == files[COMMIT_A]["weights-00002.onnx"].sha256
    assert "nothing was installed" in str(caught.value)
    assert not (tmp_path / "store" / "tiny").exists()
    staging = tmp_path / "store" / PARTIAL_DIR / f"tiny@{COMMIT_A}"
    assert not list(staging.glob("weights-00002.onnx*"))  # neither the file nor its .part
    assert store.status("tiny").state != "present"
    with pytest.raises(ModelNotPresent):
        store.model_path("tiny")


def test_bytes_that_do_not_match_the_hubs_lfs_sha256_are_refused(
    catalog: Catalog, tmp_path: Path, hub: FakeHub, files: dict[str, dict[str, RepoFile]]
) -> None:
    good = files[COMMIT_A]["weights-00002.onnx"].data
    hub.serve_instead["weights-00002.onnx"] = bytes([good[0] ^ 0xFF]) + good[1:]
    store = make_store(catalog, tmp_path, hub)
    with pytest.raises(ChecksumMismatch, match="hub LFS sha256"):
        store.pull("tiny")
    assert not (tmp_path / "store" / "tiny").exists()
    # The mirror is fixed: the next pull completes, reusing the files that were already verified.
    del hub.serve_instead["weights-00002.onnx"]
    hub.bytes_sent.clear()
    store.pull("tiny")
    assert (tmp_path / "store" / "tiny" / "weights-00002.onnx").read_bytes() == good
    assert "weights-00001.onnx" not in hub.bytes_sent


def test_a_connection_dropped_mid_file_is_resumed_with_a_range_request(
    catalog: Catalog, tmp_path: Path, hub: FakeHub, files: dict[str, dict[str, RepoFile]]
) -> None:
    drop_at = 15 * MIB
    hub.drop_once["weights-00001.onnx"] = drop_at
    store = make_store(catalog, tmp_path, hub)
    store.pull("tiny")
    data = files[COMMIT_A]["weights-00001.onnx"].data
    assert (tmp_path / "store" / "tiny" / "weights-00001.onnx").read_bytes() == data
    ranges = [r.range for r in hub.requests if r.path.startswith("/cdn/") and r.range]
    assert len(ranges) == 1
    resumed_from = int(ranges[0].removeprefix("bytes=").rstrip("-"))
    assert 0 < resumed_from <= drop_at
    # It did not start over: what was sent is the dropped part plus the rest.
    assert hub.bytes_sent["weights-00001.onnx"] == drop_at + len(data) - resumed_from


def test_an_interrupted_pull_resumes_from_its_part_file(
    catalog: Catalog, tmp_path: Path, hub: FakeHub, files: dict[str, dict[str, RepoFile]]
) -> None:
    data = files[COMMIT_A]["weights-00001.onnx"].data
    # What a pull killed after 7 MiB leaves behind.
    staging = tmp_path / "store" / PARTIAL_DIR / f"tiny@{COMMIT_A}"
    staging.mkdir(parents=True)
    (staging / "weights-00001.onnx.part").write_bytes(data[: 7 * MIB])
    store = make_store(catalog, tmp_path, hub)
    assert store.status("tiny").state == "partial"
    events: list[ProgressEvent] = []
    result = store.pull("tiny", events.append)
    assert (tmp_path / "store" / "tiny" / "weights-00001.onnx").read_bytes() == data
    assert [r.range for r in hub.requests if r.path.startswith("/cdn/") and r.range] == [f"bytes={7 * MIB}-"]
    assert hub.bytes_sent["weights-00001.onnx"] == len(data) - 7 * MIB
    total = sum(len(files[COMMIT_A][n].data) for n in ("config.json", "weights-00001.onnx", "weights-00002.onnx"))
    assert result.downloaded_bytes == total - 7 * MIB
    assert events[-1].bytes_done == total


def test_progress_events_come_in_order_and_reach_100_percent(
    catalog: Catalog, tmp_path: Path, hub: FakeHub, files: dict[str, dict[str, RepoFile]]
) -> None:
    events: list[ProgressEvent] = []
    make_store(catalog, tmp_path, hub).pull("tiny", events.append)
    total = sum(len(files[COMMIT_A][n].data) for n in ("config.json", "weights-00001.onnx", "weights-00002.onnx"))
    assert events[0].phase == "resolve"
    assert events[-1].phase == "done" and events[-1].percent == 100.0
    assert events[-1].bytes_done == events[-1].bytes_total == total
    assert events[-1].files_done == events[-1].files_total == 3
    done = [e.bytes_done for e in events[1:]]
    assert done == sorted(done), "bytes_done went backwards"
    files_done = [e.files_done for e in events]
    assert files_done == sorted(files_done)
    assert {e.file for e in events if e.phase == "download"} >= {"config.json", "weights-00001.onnx"}
    assert any(e.phase == "verify" for e in events)
    assert all(0.0 <= e.percent <= 100.0 for e in events)
    assert json.loads(json.dumps(events[-1].to_json()))["percent"] == 100.0


def test_offline_mode_never_opens_a_socket(
    catalog: Catalog, tmp_path: Path, hub: FakeHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_store(catalog, tmp_path, hub).pull("tiny")
    hub.requests.clear()

    def no_network(*_args: Any, **_kwargs: Any) -> None:
        raise AssertionError("offline mode opened a network connection")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket.socket, "connect_ex", no_network)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    offline = make_store(catalog, tmp_path, hub)
    assert offline.offline
    assert offline.pull("tiny").already_present
    assert offline.model_path("tiny") == tmp_path / "store" / "tiny"
    assert all(c.ok for c in offline.verify("tiny"))
    offline.remove("tiny")
    with pytest.raises(OfflineError, match="sightline-host models pull tiny"):
        offline.pull("tiny")
    assert hub.requests == []


def test_a_missing_model_names_the_pull_command(catalog: Catalog, tmp_path: Path, hub: FakeHub) -> None:
    store = make_store(catalog, tmp_path, hub)
    with pytest.raises(ModelNotPresent) as caught:
        store.model_path("tiny")
    assert caught.value.command == "sightline-host models pull tiny"
    assert "sightline-host models pull tiny" in str(caught.value) and str(store.root) in str(caught.value)
    with pytest.raises(StoreError, match="no model 'nope'"):
        store.model_path("nope")
    assert hub.requests == []


def test_remove_deletes_the_model_and_interrupted_pulls(catalog: Catalog, tmp_path: Path, hub: FakeHub) -> None:
    store = make_store(catalog, tmp_path, hub)
    store.pull("tiny")
    (tmp_path / "store" / PARTIAL_DIR / f"tiny@{COMMIT_B}").mkdir(parents=True)
    assert store.remove("tiny")
    assert not (tmp_path / "store" / "tiny").exists()
    assert not list((tmp_path / "store" / PARTIAL_DIR).iterdir())
    assert store.status("tiny").state == "missing"
    assert not store.remove("tiny")


def test_verify_detects_a_corrupted_file(catalog: Catalog, tmp_path: Path, hub: FakeHub) -> None:
    store = make_store(catalog, tmp_path, hub)
    store.pull("tiny")
    assert all(c.ok for c in store.verify("tiny"))
    weights = tmp_path / "store" / "tiny" / "weights-00002.onnx"
    data = bytearray(weights.read_bytes())
    data[1000] ^= 0x01  # one bit, same size: only the hash can tell
    weights.write_bytes(bytes(data))
    bad = [c for c in store.verify("tiny") if not c.ok]
    assert [c.name for c in bad] == ["weights-00002.onnx"]
    assert bad[0].actual_size == bad[0].expected_size
    weights.write_bytes(bytes(data[:-1]))
    assert store.status("tiny").state == "incomplete"
    with pytest.raises(ModelNotPresent):
        store.model_path("tiny")


def test_unknown_repository_and_revision_are_explained(tmp_path: Path, hub: FakeHub) -> None:
    catalog = load_catalog(write_catalog(tmp_path / "models", "c" * 40))
    with pytest.raises(StoreError, match=f"has no revision {'c' * 40}"):
        make_store(catalog, tmp_path, hub).pull("tiny")


def test_an_unreachable_hub_is_reported_with_the_endpoint(catalog: Catalog, tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here once closed
    store = ModelStore(catalog, tmp_path / "store", endpoint=f"http://127.0.0.1:{port}", token=False)
    with pytest.raises(StoreError, match="tiny: download from sightline-test/tiny-detector failed"):
        store.pull("tiny")


def test_package_models_are_resolved_from_the_installed_package(tmp_path: Path) -> None:
    store = ModelStore(load_catalog(MODELS), tmp_path / "store", offline=True)
    path = store.model_path("rapidocr-ppocrv4")
    assert (path / "ch_PP-OCRv4_det_infer.onnx").is_file()
    result = store.pull("rapidocr-ppocrv4")
    assert result.already_present and "sha256 verified" in result.message
    assert all(c.ok for c in store.verify("rapidocr-ppocrv4"))
    with pytest.raises(PackageModelError, match="pip uninstall rapidocr-onnxruntime"):
        store.remove("rapidocr-ppocrv4")


def test_a_package_model_that_is_not_installed_gets_the_pip_command(tmp_path: Path) -> None:
    root = tmp_path / "models"
    shutil.copytree(MODELS, root)
    path = root / "catalog" / "rapidocr-ppocrv4.yaml"
    text = path.read_text().replace("package: rapidocr-onnxruntime", "package: sightline-no-such-package")
    path.write_text(text.replace("path: rapidocr_onnxruntime/models", "path: sightline_no_such_package/models"))
    store = ModelStore(load_catalog(root), tmp_path / "store", offline=True)
    assert store.status("rapidocr-ppocrv4").state == "not_installed"
    with pytest.raises(PackageModelError, match=r"-m pip install sightline-no-such-package==1\.4\.4"):
        store.pull("rapidocr-ppocrv4")
    with pytest.raises(ModelNotPresent, match=r"pip install sightline-no-such-package==1\.4\.4"):
        store.model_path("rapidocr-ppocrv4")


# ------------------------------------------------------------------------------------- the CLI


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sightline_host", "models", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
        check=False,
    )


def test_cli_pull_list_verify_remove(tmp_path: Path, hub: FakeHub) -> None:
    models = write_catalog(tmp_path / "models", COMMIT_A)
    env = {"HF_ENDPOINT": hub.endpoint, "SIGHTLINE_MODELS_DIR": str(tmp_path / "store"), "HF_TOKEN": ""}
    where = ["--catalog", str(models)]

    listed = cli("list", *where, env=env)
    assert listed.returncode == 0, listed.stderr
    assert "tiny" in listed.stdout and "missing" in listed.stdout and str(tmp_path / "store") in listed.stdout

    pulled = cli("pull", "tiny", "--json", *where, env=env)
    assert pulled.returncode == 0, pulled.stderr
    lines = [json.loads(line) for line in pulled.stdout.splitlines()]
    progress = [line for line in lines if line["event"] == "progress"]
    assert progress[-1]["phase"] == "done" and progress[-1]["percent"] == 100.0
    assert lines[-1]["event"] == "pulled" and lines[-1]["revision"] == COMMIT_A

    data = json.loads(cli("list", "--json", *where, env=env).stdout)
    (tiny,) = [m for m in data["models"] if m["id"] == "tiny"]
    assert tiny["state"] == "present" and tiny["size_bytes"] == BIG + MIB + 17 + 34

    verified = cli("verify", "tiny", *where, env=env)
    assert verified.returncode == 0 and "tiny: OK" in verified.stdout
    (tmp_path / "store" / "tiny" / "config.json").write_text('{"arch": "tampered", "revision": "a"}\n')
    broken = cli("verify", *where, env=env)
    assert broken.returncode == 1 and "tiny: FAILED" in broken.stdout and "CORRUPT  config.json" in broken.stdout

    removed = cli("remove", "tiny", *where, env=env)
    assert removed.returncode == 0 and "tiny: removed" in removed.stdout
    offline = cli("pull", "tiny", "--offline", *where, env=env)
    assert offline.returncode == 1 and "sightline-host models pull tiny" in offline.stderr


def test_cli_plan_for_described_gpus() -> None:
    result = cli("plan", "workstation", "--gpus", "3x24GiB")
    assert result.returncode == 1  # not as requested: TP=3 is invalid for 64 heads
    assert "Nearest plan that fits" in result.stdout and "TP=2" in result.stdout
    ok = cli("plan", "single-gpu", "--gpus", "80GB", "--json")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert json.loads(ok.stdout)["fits_as_requested"] is True
    bad = cli("plan", "workstation", "--gpus", "lots")
    assert bad.returncode == 1 and "cannot read GPU size 'lots'" in bad.stderr
    unknown = cli("plan", "nope")
    assert unknown.returncode == 1 and "no profile 'nope'" in unknown.stderr


def test_cli_plan_without_a_gpu_says_so() -> None:
    result = cli("plan", "workstation")
    if "no GPU detected" not in result.stdout:
        pytest.skip("this machine has an NVIDIA GPU")
    assert result.returncode == 1
    assert "no NVIDIA GPU was found" in result.stdout and "--gpus 3x24GiB" in result.stdout
    embedded = cli("plan", "embedded")
    assert embedded.returncode == 0 and "CPU only" in embedded.stdout


def test_cli_help_lists_the_commands() -> None:
    result = cli("--help")
    assert result.returncode == 0
    for command in ("list", "pull", "verify", "remove", "plan"):
        assert command in result.stdout
    assert "SIGHTLINE_MODELS_DIR" in result.stdout
