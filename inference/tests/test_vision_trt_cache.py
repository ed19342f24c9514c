"""The TensorRT engine cache's metadata and the compatibility check that refuses stale or foreign engines."""

from dataclasses import replace
from pathlib import Path

import pytest

from sightline_host.vision.trt_cache import (
    METADATA_NAME,
    EngineIncompatible,
    EngineMetadata,
    check_compatible,
    expected_metadata,
    record,
    vocabulary_sha256,
)
from sightline_host.vision.vocabulary import UI_VOCABULARY


@pytest.fixture
def expected(tmp_path: Path) -> EngineMetadata:
    model = tmp_path / "model.onnx"
    model.write_bytes(b"onnx bytes")
    return expected_metadata(
        model, "yolo-world-v2-s", "abc123", UI_VOCABULARY, "fp16", (1, 3, 640, 640), "1.20.1", "10.7.0"
    )


def _built(cache: Path, expected: EngineMetadata) -> EngineMetadata:
    cache.mkdir(exist_ok=True)
    (cache / "TensorrtExecutionProvider_TRTKernel_graph_main_123_0_0_fp16_sm90.engine").write_bytes(b"engine")
    (cache / "TensorrtExecutionProvider_TRTKernel_graph_main_123_0_0_fp16_sm90.profile").write_bytes(b"profile")
    return record(cache, expected)


def test_metadata_records_what_the_engine_was_built_from(tmp_path: Path, expected: EngineMetadata) -> None:
    written = _built(tmp_path / "engines", expected)
    on_disk = EngineMetadata.from_json((tmp_path / "engines" / METADATA_NAME).read_text())
    assert on_disk == written
    assert on_disk.vocabulary == UI_VOCABULARY and on_disk.vocabulary_sha256 == vocabulary_sha256(UI_VOCABULARY)
    assert on_disk.input_shape == (1, 3, 640, 640) and on_disk.precision == "fp16"
    assert (on_disk.onnxruntime_version, on_disk.tensorrt_version) == ("1.20.1", "10.7.0")
    assert len(on_disk.onnx_sha256) == 64 and len(on_disk.engine_sha256) == 2
    check_compatible(tmp_path / "engines", expected)  # the same model and runtime load it


def test_an_empty_cache_is_fine(tmp_path: Path, expected: EngineMetadata) -> None:
    check_compatible(tmp_path / "missing", expected)
    (tmp_path / "empty").mkdir()
    check_compatible(tmp_path / "empty", expected)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"tensorrt_version": "10.8.0"}, "TensorRT version: built for 10.7.0, this host has 10.8.0"),
        ({"onnxruntime_version": "1.21.0"}, "ONNX Runtime version"),
        ({"precision": "fp32"}, "precision: built for fp16, this host has fp32"),
        ({"input_shape": (1, 3, 1280, 1280)}, "input shape"),
        ({"vocabulary_sha256": vocabulary_sha256(["button"])}, "vocabulary"),
        ({"onnx_sha256": "0" * 64}, "ONNX checksum"),
        ({"model_id": "other-model"}, "model: built for yolo-world-v2-s"),
        ({"revision": "def456"}, "model revision"),
    ],
)
def test_a_stale_engine_is_refused_saying_what_differs(
    tmp_path: Path, expected: EngineMetadata, change: dict[str, object], message: str
) -> None:
    _built(tmp_path, expected)
    with pytest.raises(EngineIncompatible, match="stale or foreign") as refused:
        check_compatible(tmp_path, replace(expected, **change))  # type: ignore[arg-type]
    assert message in str(refused.value) and f"delete {tmp_path}" in str(refused.value)


def test_changed_missing_or_unrecorded_engine_files_are_refused(tmp_path: Path, expected: EngineMetadata) -> None:
    written = _built(tmp_path, expected)
    engine = tmp_path / next(name for name in written.engine_sha256 if name.endswith(".engine"))
    engine.write_bytes(b"tampered")
    with pytest.raises(EngineIncompatible, match="changed since it was built"):
        check_compatible(tmp_path, expected)
    engine.unlink()
    with pytest.raises(EngineIncompatible, match="is missing"):
        check_compatible(tmp_path, expected)
    engine.write_bytes(b"engine")
    (tmp_path / "someone_elses.engine").write_bytes(b"x")
    with pytest.raises(EngineIncompatible, match="not in the record"):
        check_compatible(tmp_path, expected)


def test_engines_without_metadata_or_with_garbage_metadata_are_refused(
    tmp_path: Path, expected: EngineMetadata
) -> None:
    (tmp_path / "a.engine").write_bytes(b"engine")
    with pytest.raises(EngineIncompatible, match=f"no {METADATA_NAME}"):
        check_compatible(tmp_path, expected)
    (tmp_path / METADATA_NAME).write_text("{}")
    with pytest.raises(EngineIncompatible, match="unreadable"):
        check_compatible(tmp_path, expected)
