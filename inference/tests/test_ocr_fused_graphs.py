"""The fused CPU graphs: the rewrite on a small graph of the exporter's patterns, the cache beside the wheel's models
(rebuilt when stale, refused when wrong, the bundled networks as the fallback), and the OCR reading as before."""

import json
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from sightline_host.file_digest import sha256_file
from sightline_host.ocr import OcrEngine, fused_cache
from sightline_host.ocr.accuracy import score_lines
from sightline_host.ocr.engine import REC_PROBE, bundled_models, fused_files
from sightline_host.ocr.fused_cache import FusedRecord, FusionFailed, fused_model, paths_for
from sightline_host.ocr.graph_fusion import fuse
from sightline_host.vision._ort import ort
from sightline_host.vision.synthetic import text_screen


def _constant(name: str, value: np.ndarray) -> onnx.NodeProto:
    # Paddle's exporter writes weights and scalars as Constant nodes, so the test graph does too.
    return helper.make_node("Constant", [], [name], value=numpy_helper.from_array(value.astype(np.float32), name))


def _hardswish(x: str, out: str) -> list[onnx.NodeProto]:
    return [
        helper.make_node("Add", [x, "three"], [out + "_a"]),
        helper.make_node("Clip", [out + "_a", "zero", "six"], [out + "_c"]),
        helper.make_node("Mul", [x, out + "_c"], [out + "_m"]),
        helper.make_node("Div", [out + "_m", "six1"], [out]),
    ]


def exporter_like_model(seed: int = 0) -> onnx.ModelProto:
    """Two PP-LCNetV3 blocks as Paddle exports them: conv → affine → hard-swish (4 nodes) → affine, into a padded
    depthwise conv and then into a pointwise one, then a pooled output the affine cannot be folded into."""
    rng = np.random.default_rng(seed)
    nodes = [
        _constant("three", np.array([3.0])),
        _constant("zero", np.array(0.0)),
        _constant("six", np.array(6.0)),
        _constant("six1", np.array([6.0])),
    ]
    x = "x"
    for i, (weight, group, pads) in enumerate(
        [(rng.normal(0, 0.5, (8, 3, 3, 3)), 1, [1, 1, 1, 1]), (rng.normal(0, 0.5, (8, 1, 3, 3)), 8, [1, 1, 1, 1])]
    ):
        nodes += [
            _constant(f"w{i}", weight),
            _constant(f"b{i}", rng.normal(0, 0.1, (weight.shape[0],))),
            _constant(f"a{i}", np.array([rng.uniform(0.5, 2)])),
            _constant(f"c{i}", np.array([rng.uniform(-0.5, 0.5)])),
            _constant(f"s{i}", np.array([rng.uniform(0.05, 1)])),
            _constant(f"t{i}", np.array([rng.uniform(-0.2, 0.2)])),
            helper.make_node("Conv", [x, f"w{i}", f"b{i}"], [f"conv{i}"], group=group, pads=pads, kernel_shape=[3, 3]),
            helper.make_node("Mul", [f"a{i}", f"conv{i}"], [f"mul{i}"]),
            helper.make_node("Add", [f"mul{i}", f"c{i}"], [f"affine{i}"]),
            *_hardswish(f"affine{i}", f"hs{i}"),
            helper.make_node("Mul", [f"s{i}", f"hs{i}"], [f"smul{i}"]),
            helper.make_node("Add", [f"smul{i}", f"t{i}"], [f"out{i}"]),
        ]
        x = f"out{i}"
    nodes += [
        _constant("wp", rng.normal(0, 0.3, (4, 8, 1, 1))),
        helper.make_node("Conv", [x, "wp"], ["pointwise"], kernel_shape=[1, 1]),
        helper.make_node("GlobalAveragePool", ["pointwise"], ["y"]),
    ]
    graph = helper.make_graph(
        nodes,
        "exporter-like",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 3, "h", "w"])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 4, 1, 1])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 12)])
    model.ir_version = 8
    model.metadata_props.append(onnx.StringStringEntryProto(key="character", value="a\nb"))
    return model


def _run(model: onnx.ModelProto, x: np.ndarray) -> np.ndarray:
    session = ort().InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    out: np.ndarray = session.run(None, {"x": x})[0]
    return out


def test_the_rewrite_folds_every_pattern_and_computes_the_same() -> None:
    model = exporter_like_model()
    fused, counts = fuse(model)
    assert counts == {"conv_affines": 2, "hardswish": 2, "affines_folded_forward": 1, "affines_as_depthwise": 1}
    ops = [n.op_type for n in fused.graph.node]
    assert "Clip" not in ops and "Div" not in ops and "Constant" not in ops
    assert ops.count("HardSigmoid") == 2 and ops.count("Conv") == 4  # three of the model's, one depthwise affine
    assert dict((p.key, p.value) for p in fused.metadata_props) == {"character": "a\nb"}  # the dictionary stays
    # Borders included: the affine before the padded depthwise conv is not folded into its bias.
    x = np.random.default_rng(1).uniform(-1, 1, (2, 3, 9, 13)).astype(np.float32)
    assert np.allclose(_run(fused, x), _run(model, x), atol=1e-5)


def test_a_graph_without_the_patterns_is_left_as_it_is() -> None:
    graph = helper.make_graph(
        [helper.make_node("Relu", ["x"], ["y"])],
        "plain",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 4, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3, 4, 4])],
    )
    fused, counts = fuse(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 12)]))
    assert set(counts.values()) == {0} and [n.op_type for n in fused.graph.node] == ["Relu"]


@pytest.fixture
def source(tmp_path: Path) -> Path:
    path = tmp_path / "wheel" / "model.onnx"
    path.parent.mkdir()
    path.write_bytes(exporter_like_model().SerializeToString())
    return path


PROBE = (1, 3, 16, 16)


def test_the_fused_model_is_written_once_with_what_it_was_made_from(source: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    target = fused_model(source, PROBE, cache)
    fused_path, record_path = paths_for(source, cache)
    assert target == fused_path and record_path.is_file()
    record = FusedRecord.from_json(record_path.read_text())
    assert record.source_sha256 == sha256_file(source) and record.fused_sha256 == sha256_file(target)
    assert record.onnxruntime_version == ort().__version__ and record.format == fused_cache.FORMAT
    assert record.max_abs_diff <= fused_cache.TOLERANCE
    assert [p.name for p in cache.iterdir() if p.name.startswith(".")] == []  # no temporary left behind
    written = target.stat().st_mtime_ns
    assert fused_model(source, PROBE, cache) == target and target.stat().st_mtime_ns == written  # reused as it is


@pytest.mark.parametrize(
    "stale",
    [
        {"source_sha256": "0" * 64},  # the wheel's model changed
        {"onnxruntime_version": "1.0.0"},  # another ONNX Runtime
        {"format": 0},  # an older rewrite
        {"fused_sha256": "0" * 64},  # the fused file's bytes changed
    ],
)
def test_a_stale_or_altered_fused_model_is_rebuilt(source: Path, tmp_path: Path, stale: dict[str, object]) -> None:
    cache = tmp_path / "cache"
    target = fused_model(source, PROBE, cache)
    _, record_path = paths_for(source, cache)
    good = target.read_bytes()
    record_path.write_text(json.dumps({**json.loads(record_path.read_text()), **stale}))
    target.write_bytes(b"not a model")
    assert fused_model(source, PROBE, cache) == target
    assert target.read_bytes() == good and FusedRecord.from_json(record_path.read_text()).format == fused_cache.FORMAT


def test_an_unreadable_record_is_rebuilt_too(source: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    target = fused_model(source, PROBE, cache)
    _, record_path = paths_for(source, cache)
    record_path.write_text("{ truncated")
    assert fused_model(source, PROBE, cache) == target
    assert FusedRecord.from_json(record_path.read_text()).fused_sha256 == sha256_file(target)


def test_a_fused_model_that_reads_differently_is_refused(
    source: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fused_cache, "_probe_difference", lambda *_: 0.5)
    with pytest.raises(FusionFailed, match=r"differs from it by 0\.5"):
        fused_model(source, PROBE, tmp_path / "cache")
    assert not paths_for(source, tmp_path / "cache")[0].exists()


def test_a_failure_says_which_model_and_why(source: Path, tmp_path: Path) -> None:
    source.write_bytes(b"not onnx")
    with pytest.raises(FusionFailed, match=r"could not make the fused model\.onnx in .*cache: "):
        fused_model(source, PROBE, tmp_path / "cache")
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the folder should be")
    source.write_bytes(exporter_like_model().SerializeToString())
    with pytest.raises(FusionFailed, match=r"could not make the fused model\.onnx"):
        fused_model(source, PROBE, blocked)


def test_a_cache_hit_needs_no_onnx_and_a_build_without_it_says_so(
    source: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    target = fused_model(source, PROBE, cache)
    for name in [m for m in sys.modules if m == "onnx" or m.startswith(("onnx.", "sightline_host.ocr.graph_fusion"))]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "onnx", None)  # as if not installed: importing it raises ImportError
    assert fused_model(source, PROBE, cache) == target
    with pytest.raises(FusionFailed, match="ModuleNotFoundError"):
        fused_model(source, PROBE, tmp_path / "elsewhere")


def test_the_engine_falls_back_to_the_bundled_networks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def fail(source: Path, *_: object) -> Path:
        raise FusionFailed(f"could not make the fused {source.name}: no space left")

    monkeypatch.setattr(fused_cache, "fused_model", fail)
    files, label = fused_files(bundled_models(), tmp_path)
    assert files == bundled_models() and "fused graphs failed" in label and "no space left" in label
    assert "using the bundled networks" in caplog.text
    engine = OcrEngine(backend="onnxruntime", cache_dir=tmp_path)
    engine.load()
    assert engine.state == "ready" and "bundled graphs (fused graphs failed" in engine.description


def test_the_cache_folder_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(fused_cache.CACHE_ENV, str(tmp_path / "ocr-cache"))
    assert fused_cache.default_cache_dir() == tmp_path / "ocr-cache"
    assert fused_cache.default_cache_dir({}) == Path.home() / ".cache" / "sightline" / "ocr"
    monkeypatch.setenv("SIGHTLINE_OCR_CPU_GRAPHS", "bundled")
    assert OcrEngine().cpu_graphs == "bundled"
    monkeypatch.setenv("SIGHTLINE_OCR_CPU_GRAPHS", "int4")
    with pytest.raises(ValueError, match="choose one of fused, bundled"):
        OcrEngine()


def test_the_wheels_recognizer_fused_reads_as_the_bundled_one(tmp_path: Path) -> None:
    files, label = fused_files(bundled_models(), tmp_path)
    assert label == "fused graphs" and files.rec.parent == tmp_path
    batch = np.random.default_rng(2).uniform(-1, 1, REC_PROBE).astype(np.float32)
    fused, bundled = (
        ort().InferenceSession(str(p), providers=["CPUExecutionProvider"]) for p in (files.rec, bundled_models().rec)
    )
    assert np.abs(fused.run(None, {"x": batch})[0] - bundled.run(None, {"x": batch})[0]).max() < 1e-4


@pytest.mark.parametrize("size", [(1920, 1080), (3840, 2160)])
def test_the_fused_ocr_reads_the_synthetic_screen_as_the_bundled_one(tmp_path: Path, size: tuple[int, int]) -> None:
    rgb, truth = text_screen(*size)
    fused = OcrEngine(backend="onnxruntime", cache_dir=tmp_path)
    bundled = OcrEngine(backend="onnxruntime", cpu_graphs="bundled")
    lines = fused.read(rgb)
    assert "fused graphs" in fused.description
    assert [line["text"] for line in lines] == [line["text"] for line in bundled.read(rgb)]
    accuracy = score_lines(lines, truth)
    # 1080p: every line exact; 4K (shrunk to 2000 wide): all but the menu bar, whose wide gaps the bundled
    # networks misread as well.
    assert accuracy.found == accuracy.lines and accuracy.exact >= accuracy.lines - (size[0] > 2000)
