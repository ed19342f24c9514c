"""Runs a :class:`FakeHub` serving one model, with a catalog folder whose manifest points at it, for the app's
end-to-end tests: ``python -m tests.fake_hub_server --catalog-dir DIR --size BYTES --rate BYTES_PER_S``.

The catalog folder is the repository's ``models/`` (so that the host's profiles still load) plus the manifest of
``MODEL_ID``; point ``SIGHTLINE_CATALOG_DIR`` at it and ``HF_ENDPOINT`` at the printed endpoint. Prints one JSON
line (``{"endpoint", "model_id", "commit"}``) once serving, and serves until stdin closes.

``--planner`` serves a tiny random-weight Llama GGUF instead, as the embedded profile's planner: the app then
starts with its planner missing, says which command pulls it, and plans once it is pulled.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

from tests.fake_hub import FakeHub, RepoFile
from tests.tiny_gguf import write_tiny_llama

MODELS = Path(__file__).resolve().parents[2] / "models"
REPO = "sightline-test/tiny-e2e-detector"
MODEL_ID = "tiny-e2e-detector"
COMMIT = "e2e0" * 10
PLANNER_REPO = "sightline-test/tiny-e2e-planner"
PLANNER_ID = "tiny-e2e-planner"
PLANNER_FILE = "tiny-e2e-planner.gguf"


def write_catalog(root: Path, files: dict[str, RepoFile]) -> None:
    """The repository's catalog and profiles, plus a manifest pinning ``COMMIT`` and every file's sha256."""
    shutil.copytree(MODELS, root, dirs_exist_ok=True)
    manifest: dict[str, Any] = {
        "id": MODEL_ID,
        "name": "Tiny end-to-end test detector",
        "role": "detector",
        "format": "onnx",
        "source": {"hub": REPO, "revision": COMMIT},
        "files": [{"name": n, "sha256": f.sha256, "size_bytes": len(f.data)} for n, f in sorted(files.items())],
        "architecture": {"params": 1000},
        "quantization": {"method": "none", "bits": 32, "dtype": "float32"},
        "runtime": {"engine": "onnxruntime", "device": "cpu"},
        "licence": {"id": "apache-2.0"},
    }
    (root / "catalog" / f"{MODEL_ID}.yaml").write_text(yaml.safe_dump(manifest), "utf-8")


def tiny_planner_file() -> RepoFile:
    with tempfile.TemporaryDirectory() as tmp:
        return RepoFile(write_tiny_llama(Path(tmp) / PLANNER_FILE, seed=11).read_bytes(), lfs=True)


def write_planner_catalog(root: Path, files: dict[str, RepoFile]) -> None:
    """The repository's catalog, plus the tiny planner's manifest, made the embedded profile's only planner."""
    shutil.copytree(MODELS, root, dirs_exist_ok=True)
    gguf = files[PLANNER_FILE]
    manifest: dict[str, Any] = {
        "id": PLANNER_ID,
        "name": "Tiny end-to-end test planner",
        "role": "planner",
        "format": "gguf",
        "source": {"hub": PLANNER_REPO, "revision": COMMIT},
        "files": [{"name": PLANNER_FILE, "sha256": gguf.sha256, "size_bytes": len(gguf.data)}],
        # As tests/tiny_gguf.py writes it.
        "architecture": {
            "kind": "decoder",
            "params": 3_300_000,
            "layers": 2,
            "hidden_size": 64,
            "intermediate_size": 128,
            "attention_heads": 4,
            "kv_heads": 4,
            "head_dim": 16,
            "vocab_size": 49152,
            "max_context": 2048,
        },
        "quantization": {"method": "none", "bits": 32, "dtype": "float32"},
        "runtime": {"engine": "llama.cpp"},
        "licence": {"id": "apache-2.0"},
    }
    (root / "catalog" / f"{PLANNER_ID}.yaml").write_text(yaml.safe_dump(manifest), "utf-8")
    profile_path = root / "profiles" / "embedded.yaml"
    profile = yaml.safe_load(profile_path.read_text("utf-8"))
    profile["models"]["planner"] = {"model": PLANNER_ID, "device": "cpu", "context": 2048, "batch": 1}
    profile_path.write_text(yaml.safe_dump(profile), "utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--catalog-dir", type=Path, required=True)
    parser.add_argument("--size", type=int, default=4 << 20, help="bytes of the model's weights file")
    parser.add_argument("--rate", type=int, default=None, help="bytes a second the hub serves (default: no limit)")
    parser.add_argument("--planner", action="store_true", help="serve a tiny planner the embedded profile lacks")
    args = parser.parse_args(argv)
    if args.planner:
        repo, model_id, files = PLANNER_REPO, PLANNER_ID, {PLANNER_FILE: tiny_planner_file()}
        write_planner_catalog(args.catalog_dir, files)
    else:
        repo, model_id = REPO, MODEL_ID
        files = {
            "config.json": RepoFile(b'{"arch": "tiny-e2e"}\n', lfs=False),
            "model.onnx": RepoFile(os.urandom(args.size), lfs=True),
        }
        write_catalog(args.catalog_dir, files)
    hub = FakeHub(repo, {COMMIT: files}, {"main": COMMIT}, rate_bytes_per_s=args.rate).start()
    print(json.dumps({"endpoint": hub.endpoint, "model_id": model_id, "commit": COMMIT}), flush=True)
    sys.stdin.read()  # until the test closes our stdin (or dies)
    hub.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
