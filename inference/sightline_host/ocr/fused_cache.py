"""The fused CPU graphs (`graph_fusion`), written once from the wheel's models into a cache folder and reused.

Beside each `<model>.fused.onnx` a `<model>.fused.json` records what it was made from: the source model's sha256,
the ONNX Runtime and onnx versions, the rewrite's format, and the written file's sha256. A file whose record does
not match this source and these versions (the wheel was upgraded, the rewrite changed), or whose bytes changed, is
rebuilt. Every build is checked against the source model on a probe input before it is kept, and written
atomically (a temporary file renamed into place), so concurrent hosts never read half a file.

The folder: the `cache_dir` argument, else $SIGHTLINE_OCR_CACHE_DIR, else ~/.cache/sightline/ocr."""

import hashlib
import importlib.metadata
import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from sightline_host.file_digest import sha256_file

CACHE_ENV = "SIGHTLINE_OCR_CACHE_DIR"
#: Bump when `graph_fusion` changes what it writes: files of another format are rebuilt.
FORMAT = 1
#: The largest difference allowed between the fused and the source model's outputs on the probe (both output
#: probabilities; float rounding gives about 1e-6 for the recognizer, 5e-5 for the detector).
TOLERANCE = 1e-3


class FusionFailed(Exception):
    """The fused graph could not be made, checked or written; the message says which model and why."""


@dataclass(frozen=True)
class FusedRecord:
    source_name: str
    source_sha256: str
    onnxruntime_version: str
    onnx_version: str
    format: int
    fused_sha256: str
    max_abs_diff: float

    def matches(self, expected: "FusedRecord") -> bool:
        """Same source, runtime, rewrite and format (the fused file's own hash is checked separately)."""
        keys = ("source_sha256", "onnxruntime_version", "onnx_version", "format")
        return all(getattr(self, k) == getattr(expected, k) for k in keys)

    @staticmethod
    def from_json(text: str) -> "FusedRecord":
        data: dict[str, Any] = json.loads(text)
        return FusedRecord(
            source_name=str(data["source_name"]),
            source_sha256=str(data["source_sha256"]),
            onnxruntime_version=str(data["onnxruntime_version"]),
            onnx_version=str(data["onnx_version"]),
            format=int(data["format"]),
            fused_sha256=str(data["fused_sha256"]),
            max_abs_diff=float(data["max_abs_diff"]),
        )


def default_cache_dir(env: Mapping[str, str] | None = None) -> Path:
    value = (os.environ if env is None else env).get(CACHE_ENV, "").strip()
    return Path(value).expanduser() if value else Path.home() / ".cache" / "sightline" / "ocr"


def _onnx_version() -> str:
    # The metadata, not an import: a cache hit must not pay for importing onnx (or fail where it is absent).
    try:
        return importlib.metadata.version("onnx")
    except importlib.metadata.PackageNotFoundError:
        return "absent"


def _runtime() -> Any:
    from sightline_host.vision._ort import ort  # noqa: PLC0415 - ONNX Runtime takes seconds to import

    return ort()


def paths_for(source: Path, cache_dir: Path) -> tuple[Path, Path]:
    stem = source.name.removesuffix(".onnx")
    return cache_dir / f"{stem}.fused.onnx", cache_dir / f"{stem}.fused.json"


def _cached(target: Path, record_path: Path, expected: FusedRecord) -> bool:
    try:
        record = FusedRecord.from_json(record_path.read_text("utf-8"))
    except (OSError, ValueError, KeyError, TypeError):
        return False
    return record.matches(expected) and target.is_file() and sha256_file(target) == record.fused_sha256


def _probe_difference(source: bytes, fused: bytes, probe_shape: Sequence[int]) -> float:
    """The largest output difference between the two models on one fixed input in [-1, 1] (what the pipelines
    feed them)."""
    runtime = _runtime()
    options = runtime.SessionOptions()
    options.log_severity_level = 3
    probe = np.random.default_rng(0).uniform(-1, 1, tuple(probe_shape)).astype(np.float32)
    outputs = []
    for model in (source, fused):
        session = runtime.InferenceSession(model, options, providers=["CPUExecutionProvider"])
        outputs.append(session.run(None, {session.get_inputs()[0].name: probe}))
    return max(float(np.max(np.abs(a - b))) for a, b in zip(outputs[0], outputs[1], strict=True))


def _write_atomically(path: Path, data: bytes) -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _build(source: Path, probe_shape: Sequence[int]) -> tuple[bytes, float]:
    import onnx  # noqa: PLC0415 - only to build; a cache hit needs neither onnx nor its import time

    from sightline_host.ocr.graph_fusion import fuse  # noqa: PLC0415 - imports onnx

    raw = source.read_bytes()
    fused, _ = fuse(onnx.load_from_string(raw))
    data = fused.SerializeToString()
    difference = _probe_difference(raw, data, probe_shape)
    if not difference <= TOLERANCE:
        raise FusionFailed(f"the fused {source.name} differs from it by {difference:.3g} on the probe (> {TOLERANCE})")
    return data, difference


def fused_model(source: Path, probe_shape: Sequence[int], cache_dir: Path | None = None) -> Path:
    """The fused graph of `source` in the cache folder, built (and checked on a `probe_shape` input) if missing or
    stale. Raises FusionFailed, saying why, when it cannot be made: the caller falls back to `source`."""
    folder = default_cache_dir() if cache_dir is None else cache_dir
    target, record_path = paths_for(source, folder)
    try:
        expected = FusedRecord(
            source.name, sha256_file(source), str(_runtime().__version__), _onnx_version(), FORMAT, "", 0.0
        )
        if _cached(target, record_path, expected):
            return target
        data, difference = _build(source, probe_shape)
        folder.mkdir(parents=True, exist_ok=True)
        _write_atomically(target, data)
        record = replace(expected, fused_sha256=hashlib.sha256(data).hexdigest(), max_abs_diff=difference)
        _write_atomically(record_path, (json.dumps(asdict(record), indent=2, sort_keys=True) + "\n").encode())
        return target
    except FusionFailed:
        raise
    except Exception as error:
        reason = f"{type(error).__name__}: {error}"
        raise FusionFailed(f"could not make the fused {source.name} in {folder}: {reason}") from error
