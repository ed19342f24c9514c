"""ONNX models with the real YOLOv8 / YOLO-World output layout, built in code, for tests and benchmarks.

No detector weights can be downloaded where this project is built and tested, so these stand in:

* `square_finder` is a tiny hand-wired network that really detects: class 0 fires on dark squares, class 1 on red
  ones, both at the finest stride (8) of a (1, 4 + classes, 8400) output, with boxes regressed from the pixels.
  Tests run it through a real ONNX Runtime session to check letterboxing, decoding, tiling and mapping end to end.
* `yolo_world_s_like` has random weights and roughly YOLO-World-S's size and compute, for latency benchmarks.
* `text_screen` renders a text-dense desktop with the truth of what it drew, for OCR accuracy and speed.

Building them needs the `onnx` package (the dev extra), never needed at run time.
"""

import importlib
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

STRIDES = (8, 16, 32)


def _onnx() -> tuple[Any, Any, Any]:
    try:
        onnx = importlib.import_module("onnx")
    except ImportError as error:
        raise RuntimeError("building synthetic models needs the onnx package: pip install onnx") from error
    return onnx, onnx.helper, onnx.numpy_helper


def anchor_count(size: int) -> int:
    return sum((size // s) ** 2 for s in STRIDES)


def square_finder(
    path: Path,
    size: int = 640,
    classes: tuple[str, ...] = ("button", "icon"),
    threshold: float = 0.75,
    output_rows: int | None = None,
) -> Path:
    """Class 0: dark squares; class 1: red squares; classes beyond get zero scores. A square is found when it
    covers one of the 4x4 blocks of a stride-8 cell fully, i.e. from about 8 input pixels up; the box is the
    centroid and size of the dark (red) mass in the 16x16 window around the cell, so it fits squares up to 8 px.
    `output_rows` overrides the output's second dimension, to build a model of the wrong shape on purpose."""
    onnx, helper, numpy_helper = _onnx()
    num_classes = len(classes)
    grid = size // 8
    fine = grid * grid
    coarse = anchor_count(size) - fine
    init: list[Any] = []

    def const(name: str, value: NDArray[Any]) -> str:
        init.append(numpy_helper.from_array(np.asarray(value, dtype=np.float32), name))
        return name

    # Per-pixel evidence: darkness = 1 - mean(RGB); redness = R - (G + B) / 2.
    weights = np.zeros((2, 3, 1, 1), np.float32)
    weights[0, :, 0, 0] = -1 / 3
    weights[1, :, 0, 0] = (1.0, -0.5, -0.5)
    const("evidence_w", weights)
    const("evidence_b", np.array([1.0, 0.0]))
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float32) + 0.5
    const("coord_x", xs[None, None])
    const("coord_y", ys[None, None])
    const("centre", np.array(threshold))
    const("gain", np.array(20.0))
    const("mass_scale", np.array(256.0))
    const("eps", np.array(1e-6))
    const("coarse_zeros", np.zeros((1, 4 + num_classes, coarse)))
    const("extra_zeros", np.zeros((1, max(0, num_classes - 2), fine)))
    shape = np.array([1, -1, fine], dtype=np.int64)
    init.append(numpy_helper.from_array(shape, "flat_shape"))
    init.append(numpy_helper.from_array(np.array([1], dtype=np.int64), "channel_axis"))

    nodes = [
        helper.make_node("Conv", ["images", "evidence_w", "evidence_b"], ["evidence"]),
        helper.make_node("Relu", ["evidence"], ["evidence_pos"]),
        # Score: the fullest 4x4 block of each 8x8 cell.
        helper.make_node("AveragePool", ["evidence_pos"], ["blocks"], kernel_shape=[4, 4], strides=[4, 4]),
        helper.make_node("MaxPool", ["blocks"], ["cell"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Sub", ["cell", "centre"], ["cell_c"]),
        helper.make_node("Mul", ["cell_c", "gain"], ["logits"]),
        helper.make_node("Sigmoid", ["logits"], ["scores_map"]),
        helper.make_node("Reshape", ["scores_map", "flat_shape"], ["scores_two"]),
        # Box: centroid and mass of the strongest evidence in the 16x16 window centred on each cell.
        helper.make_node("ReduceMax", ["evidence_pos", "channel_axis"], ["mass_px"], keepdims=1),
        helper.make_node("Mul", ["mass_px", "coord_x"], ["mx"]),
        helper.make_node("Mul", ["mass_px", "coord_y"], ["my"]),
        helper.make_node("Concat", ["mass_px", "mx", "my"], ["moments"], axis=1),
        helper.make_node(
            "AveragePool",
            ["moments"],
            ["window"],
            kernel_shape=[16, 16],
            strides=[8, 8],
            pads=[4, 4, 4, 4],
            count_include_pad=1,
        ),
        helper.make_node("Split", ["window"], ["m0", "m1", "m2"], axis=1, num_outputs=3),
        helper.make_node("Add", ["m0", "eps"], ["m0e"]),
        helper.make_node("Div", ["m1", "m0e"], ["cx"]),
        helper.make_node("Div", ["m2", "m0e"], ["cy"]),
        helper.make_node("Mul", ["m0", "mass_scale"], ["area"]),
        helper.make_node("Sqrt", ["area"], ["side"]),
        helper.make_node("Concat", ["cx", "cy", "side", "side"], ["box_map"], axis=1),
        helper.make_node("Reshape", ["box_map", "flat_shape"], ["boxes"]),
    ]
    fine_parts = ["boxes", "scores_two"] if num_classes >= 2 else ["boxes"]
    if num_classes == 1:
        nodes.append(helper.make_node("Split", ["scores_two"], ["scores_one", "_unused"], axis=1, num_outputs=2))
        fine_parts = ["boxes", "scores_one"]
    if num_classes > 2:
        fine_parts.append("extra_zeros")
    nodes.append(helper.make_node("Concat", fine_parts, ["fine_out"], axis=1))
    nodes.append(helper.make_node("Concat", ["fine_out", "coarse_zeros"], ["output0"], axis=2))
    outputs_rows = 4 + num_classes
    if output_rows is not None and output_rows != outputs_rows:
        const("pad_rows", np.zeros((1, output_rows - outputs_rows, anchor_count(size))))
        nodes[-1].output[0] = "output_true"
        nodes.append(helper.make_node("Concat", ["output_true", "pad_rows"], ["output0"], axis=1))
        outputs_rows = output_rows
    graph = helper.make_graph(
        nodes,
        "square_finder",
        [helper.make_tensor_value_info("images", onnx.TensorProto.FLOAT, [1, 3, size, size])],
        [helper.make_tensor_value_info("output0", onnx.TensorProto.FLOAT, [1, outputs_rows, anchor_count(size)])],
        init,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = 8
    names = ", ".join(f"{i}: {name!r}" for i, name in enumerate(classes))
    helper.set_model_props(model, {"names": "{" + names + "}", "task": "detect", "imgsz": f"[{size}, {size}]"})
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def yolo_world_s_like(path: Path, size: int = 640, num_classes: int = 13, seed: int = 0) -> dict[str, float]:
    """A random-weight convolutional detector of YOLO-World-S's size (about 12.8 M parameters, about 14 G
    multiply-accumulates at 640), with SiLU activations, a three-level head and the (1, 4 + classes, anchors)
    output, for benchmarking latency where the real weights cannot be downloaded. Returns its parameter and MAC
    counts. Its class scores are biased low, so like a real screen it yields tens of boxes, not thousands."""
    onnx, helper, numpy_helper = _onnx()
    rng = np.random.default_rng(seed)
    init: list[Any] = []
    nodes: list[Any] = []
    totals = {"params": 0.0, "macs": 0.0}
    counter = [0]

    def conv(x: str, cin: int, cout: int, k: int, stride: int, res: int, act: bool = True, bias: float = 0.0) -> str:
        counter[0] += 1
        name = f"c{counter[0]}"
        weight = rng.normal(0, (2 / (cin * k * k)) ** 0.5, (cout, cin, k, k)).astype(np.float32)
        init.append(numpy_helper.from_array(weight, f"{name}_w"))
        init.append(numpy_helper.from_array(np.full(cout, bias, np.float32), f"{name}_b"))
        nodes.append(
            helper.make_node(
                "Conv",
                [x, f"{name}_w", f"{name}_b"],
                [f"{name}_y"],
                kernel_shape=[k, k],
                strides=[stride, stride],
                pads=[k // 2] * 4,
            )
        )
        out_res = res // stride
        totals["params"] += weight.size + cout
        totals["macs"] += out_res * out_res * cin * cout * k * k
        if not act:
            return f"{name}_y"
        nodes.append(helper.make_node("Sigmoid", [f"{name}_y"], [f"{name}_s"]))
        nodes.append(helper.make_node("Mul", [f"{name}_y", f"{name}_s"], [f"{name}_a"]))
        return f"{name}_a"

    x, res = conv("images", 3, 32, 3, 2, size), size // 2
    levels: list[tuple[str, int, int]] = []
    for cin, cout, repeats in ((32, 64, 1), (64, 128, 2), (128, 256, 3), (256, 512, 3)):
        x = conv(x, cin, cout, 3, 2, res)
        res //= 2
        for _ in range(repeats):
            x = conv(x, cout, cout, 3, 1, res)
        if cout >= 128:
            levels.append((x, cout, res))
    flat = np.array([1, -1, 0], dtype=np.int64)
    outputs = []
    for i, (feature, channels, level_res) in enumerate(levels):
        box = conv(conv(feature, channels, 64, 3, 1, level_res), 64, 64, 3, 1, level_res)
        box = conv(box, 64, 4, 1, 1, level_res, act=False, bias=float(size // 20))
        cls = conv(conv(feature, channels, 128, 3, 1, level_res), 128, 128, 3, 1, level_res)
        cls = conv(cls, 128, num_classes, 1, 1, level_res, act=False, bias=-4.0)
        nodes.append(helper.make_node("Sigmoid", [cls], [f"scores{i}"]))
        nodes.append(helper.make_node("Concat", [box, f"scores{i}"], [f"level{i}"], axis=1))
        shape = flat.copy()
        shape[2] = level_res * level_res
        init.append(numpy_helper.from_array(shape, f"shape{i}"))
        nodes.append(helper.make_node("Reshape", [f"level{i}", f"shape{i}"], [f"flat{i}"]))
        outputs.append(f"flat{i}")
    nodes.append(helper.make_node("Concat", outputs, ["output0"], axis=2))
    graph = helper.make_graph(
        nodes,
        "yolo_world_s_like",
        [helper.make_tensor_value_info("images", onnx.TensorProto.FLOAT, [1, 3, size, size])],
        [helper.make_tensor_value_info("output0", onnx.TensorProto.FLOAT, [1, 4 + num_classes, anchor_count(size)])],
        init,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return totals


# ---------------------------------------------------------------------------------------------------- text screens

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
SCREEN_WORDS = (
    "File", "Edit", "View", "Insert", "Format", "Tools", "Help", "Export", "Save", "Share", "Comments", "Review",
    "Layout", "Report", "Quarterly", "Revenue", "Costs", "Outlook", "Settings", "Account", "Profile", "Search",
    "Documents", "Recent", "Downloads", "Pictures",
)  # fmt: skip


@dataclass(frozen=True)
class TextTruth:
    """One string drawn on a synthetic screen and the box its ink covers (x, y, width, height)."""

    text: str
    box: tuple[float, float, float, float]


def text_screen(width: int, height: int, seed: int = 0) -> tuple[NDArray[np.uint8], list[TextTruth]]:
    """A desktop-like screenshot with what was drawn on it: a menu bar, a sidebar list and paragraphs, 15-px text
    at 1920 wide (scaled with the width, as HiDPI does on 4K). The menu bar is one truth line of seven words."""
    from PIL import Image, ImageDraw, ImageFont  # noqa: PLC0415 - Pillow is only needed to render test screens

    rng = np.random.default_rng(seed)
    scale = width / 1920
    image = Image.new("RGB", (width, height), (246, 246, 246))
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(FONT, round(15 * scale))
    truth: list[TextTruth] = []

    def write(x: float, y: float, text: str, fill: tuple[int, int, int]) -> tuple[float, float, float, float]:
        draw.text((x, y), text, fill=fill, font=font)
        left, top, right, bottom = draw.textbbox((x, y), text, font=font)
        return float(left), float(top), float(right), float(bottom)

    x = 12 * scale
    menu_left, menu_top, menu_right, menu_bottom = math.inf, math.inf, 0.0, 0.0
    for word in SCREEN_WORDS[:7]:
        left, top, right, bottom = write(x, 8 * scale, word, (30, 30, 30))
        menu_left, menu_top = min(menu_left, left), min(menu_top, top)
        menu_right, menu_bottom = max(menu_right, right), max(menu_bottom, bottom)
        x = right + 24 * scale
    truth.append(
        TextTruth(" ".join(SCREEN_WORDS[:7]), (menu_left, menu_top, menu_right - menu_left, menu_bottom - menu_top))
    )
    draw.rectangle((0, 40 * scale, 260 * scale, height), fill=(232, 232, 236))
    rows = [(20 * scale, (60 + row * 36) * scale, 2) for row in range(24) if (60 + row * 36 + 20) * scale < height]
    y = 70 * scale
    while y < height - 60 * scale:
        rows.append((300 * scale, y, 12))
        y += 28 * scale
    for x, y, count in rows:
        text = " ".join(str(w) for w in rng.choice(SCREEN_WORDS, count))
        left, top, right, bottom = write(x, y, text, (40, 40, 40) if count == 2 else (20, 20, 20))
        truth.append(TextTruth(text, (left, top, right - left, bottom - top)))
    return np.asarray(image, dtype=np.uint8).copy(), truth


SIDEBAR = (232, 232, 236)


def relabel_sidebar(
    rgb: NDArray[np.uint8], truth: list[TextTruth], row: int, text: str
) -> tuple[NDArray[np.uint8], list[TextTruth]]:
    """`text_screen`'s frame with one sidebar entry (`row` from the top) rewritten as `text`: what a re-observed
    screen looks like after an action renamed one item. The rest of the frame keeps every pixel."""
    from PIL import Image, ImageDraw, ImageFont  # noqa: PLC0415 - Pillow is only needed to render test screens

    scale = rgb.shape[1] / 1920
    x, y = 20 * scale, (60 + row * 36) * scale
    index, old = next((i, t) for i, t in enumerate(truth[1:], 1) if abs(t.box[1] - y) < 12 * scale and t.box[0] < x + 5)
    image = Image.fromarray(rgb)
    draw = ImageDraw.Draw(image)
    left, top, w, h = old.box
    draw.rectangle((left - 2, top - 2, left + w + 2, top + h + 2), fill=SIDEBAR)
    font = ImageFont.truetype(FONT, round(15 * scale))
    draw.text((x, y), text, fill=(40, 40, 40), font=font)
    new_left, new_top, right, bottom = draw.textbbox((x, y), text, font=font)
    changed = [*truth]
    changed[index] = TextTruth(
        text, (float(new_left), float(new_top), float(right - new_left), float(bottom - new_top))
    )
    return np.asarray(image, dtype=np.uint8).copy(), changed


def blink_caret(rgb: NDArray[np.uint8], truth: list[TextTruth], line: int = -1) -> NDArray[np.uint8]:
    """The frame with a text caret (a 1-px dark bar) drawn 3 px after the end of truth line `line`: the smallest
    change a re-observe sees, one blink of the caret in the field being typed into."""
    out = rgb.copy()
    left, top, w, h = truth[line].box
    x = round(left + w + 3)
    out[round(top) - 1 : round(top + h) + 2, x] = 20
    return out
