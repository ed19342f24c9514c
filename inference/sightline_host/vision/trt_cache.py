"""The TensorRT engine cache: a metadata file beside the engines ONNX Runtime builds, and a check before loading.

A TensorRT engine is only valid for the exact model, vocabulary, precision, input shape, TensorRT version and GPU
family it was built with; loading a stale one fails deep inside TensorRT, or worse, runs and answers wrongly.
So the host writes what it built from beside the engine, and refuses an engine whose record does not match this
model and this runtime, or whose bytes changed since.
"""

import ctypes
import hashlib
import importlib
import json
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from sightline_host.file_digest import sha256_file

METADATA_NAME = "sightline-engine.json"
METADATA_FORMAT = 1
# What ONNX Runtime's TensorRT provider writes: the serialized engines and their shape profiles.
ENGINE_SUFFIXES = (".engine", ".profile")


class EngineIncompatible(Exception):
    """A cached engine does not belong to this model or runtime; the message says what differs and what to do."""


@dataclass(frozen=True)
class EngineMetadata:
    model_id: str
    revision: str | None
    onnx_sha256: str
    vocabulary: tuple[str, ...]
    vocabulary_sha256: str
    precision: str
    input_shape: tuple[int, ...]
    onnxruntime_version: str
    tensorrt_version: str | None
    # sha256 of each engine file, filled in once the engines exist.
    engine_sha256: dict[str, str] = field(default_factory=dict)
    format: int = METADATA_FORMAT

    def to_json(self) -> str:
        data = asdict(self)
        data["vocabulary"] = list(self.vocabulary)
        data["input_shape"] = list(self.input_shape)
        return json.dumps(data, indent=2, sort_keys=True) + "\n"

    @staticmethod
    def from_json(text: str) -> "EngineMetadata":
        data: dict[str, Any] = json.loads(text)
        return EngineMetadata(
            model_id=str(data["model_id"]),
            revision=None if data.get("revision") is None else str(data["revision"]),
            onnx_sha256=str(data["onnx_sha256"]),
            vocabulary=tuple(str(v) for v in data["vocabulary"]),
            vocabulary_sha256=str(data["vocabulary_sha256"]),
            precision=str(data["precision"]),
            input_shape=tuple(int(d) for d in data["input_shape"]),
            onnxruntime_version=str(data["onnxruntime_version"]),
            tensorrt_version=None if data.get("tensorrt_version") is None else str(data["tensorrt_version"]),
            engine_sha256={str(k): str(v) for k, v in dict(data.get("engine_sha256", {})).items()},
            format=int(data.get("format", 0)),
        )


def vocabulary_sha256(vocabulary: Sequence[str]) -> str:
    # The order matters: class ids index into it.
    return hashlib.sha256(json.dumps(list(vocabulary), ensure_ascii=False).encode("utf-8")).hexdigest()


def tensorrt_version() -> str | None:
    """The TensorRT the provider will link: the Python package if present, else the library itself."""
    try:
        module: Any = importlib.import_module("tensorrt")
        return str(module.__version__)
    except Exception:
        pass
    for name in ("libnvinfer.so.10", "libnvinfer.so.8", "libnvinfer.so", "nvinfer.dll", "nvinfer_10.dll"):
        try:
            library = ctypes.CDLL(name)
        except OSError:
            continue
        try:
            encoded = int(library.getInferLibVersion())
        except AttributeError:
            continue
        # Encoded as major * 1000 + minor * 100 + patch up to TensorRT 9; major * 10000 + minor * 100 + patch since.
        major, rest = (encoded // 10000, encoded % 10000) if encoded >= 100000 else (encoded // 1000, encoded % 1000)
        return f"{major}.{rest // 100}.{rest % 100}"
    return None


def expected_metadata(
    model_path: Path,
    model_id: str,
    revision: str | None,
    vocabulary: Sequence[str],
    precision: str,
    input_shape: Sequence[int],
    onnxruntime_version: str,
    trt_version: str | None,
) -> EngineMetadata:
    return EngineMetadata(
        model_id=model_id,
        revision=revision,
        onnx_sha256=sha256_file(model_path),
        vocabulary=tuple(vocabulary),
        vocabulary_sha256=vocabulary_sha256(vocabulary),
        precision=precision,
        input_shape=tuple(int(d) for d in input_shape),
        onnxruntime_version=onnxruntime_version,
        tensorrt_version=trt_version,
    )


def engine_files(cache_dir: Path) -> list[Path]:
    if not cache_dir.is_dir():
        return []
    return sorted(p for p in cache_dir.iterdir() if p.is_file() and p.suffix in ENGINE_SUFFIXES)


def _short(value: object) -> str:
    text = str(value)
    return text[:12] + "…" if len(text) > 16 else text


_COMPARED = (
    ("model_id", "model"),
    ("revision", "model revision"),
    ("onnx_sha256", "ONNX checksum"),
    ("vocabulary_sha256", "vocabulary"),
    ("precision", "precision"),
    ("input_shape", "input shape"),
    ("onnxruntime_version", "ONNX Runtime version"),
    ("tensorrt_version", "TensorRT version"),
)


def check_compatible(cache_dir: Path, expected: EngineMetadata) -> None:
    """Raises `EngineIncompatible` unless the cache is empty or holds engines built for exactly `expected`."""
    fix = f"delete {cache_dir} (the next start rebuilds the engine, a minute or more) or point the host elsewhere"
    engines = engine_files(cache_dir)
    metadata_path = cache_dir / METADATA_NAME
    if not metadata_path.exists():
        if engines:
            raise EngineIncompatible(
                f"refusing the TensorRT engine cache in {cache_dir}: it holds {len(engines)} engine file(s) but no "
                f"{METADATA_NAME}, so nothing says what they were built from; {fix}"
            )
        return
    try:
        recorded = EngineMetadata.from_json(metadata_path.read_text("utf-8"))
    except (ValueError, KeyError, TypeError) as error:
        raise EngineIncompatible(
            f"refusing the TensorRT engine cache in {cache_dir}: {METADATA_NAME} is unreadable ({error}); {fix}"
        ) from error
    differences = [
        f"{label}: built for {_short(getattr(recorded, name))}, this host has {_short(getattr(expected, name))}"
        for name, label in _COMPARED
        if getattr(recorded, name) != getattr(expected, name)
    ]
    if recorded.format != METADATA_FORMAT:
        differences.append(f"metadata format {recorded.format}, this host writes {METADATA_FORMAT}")
    present = {p.name: p for p in engines}
    for name, digest in sorted(recorded.engine_sha256.items()):
        if name not in present:
            differences.append(f"engine file {name} is missing")
        elif sha256_file(present[name]) != digest:
            differences.append(f"engine file {name} changed since it was built (checksum differs)")
    for name in sorted(set(present) - set(recorded.engine_sha256)):
        differences.append(f"engine file {name} is not in the record (foreign)")
    if differences:
        raise EngineIncompatible(
            f"refusing the TensorRT engine in {cache_dir}, it is stale or foreign: "
            + "; ".join(differences)
            + f". To fix: {fix}"
        )


def record(cache_dir: Path, expected: EngineMetadata) -> EngineMetadata:
    """Writes the metadata for the engines now in `cache_dir` (after a session built them), atomically."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    written = replace(expected, engine_sha256={p.name: sha256_file(p) for p in engine_files(cache_dir)})
    temporary = cache_dir / f".{METADATA_NAME}.{os.getpid()}.tmp"
    temporary.write_text(written.to_json(), "utf-8")
    temporary.replace(cache_dir / METADATA_NAME)
    return written
