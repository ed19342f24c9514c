"""The PP-OCRv4 networks rewritten so ONNX Runtime's CPU kernels do fewer passes over memory; same arithmetic.

Paddle's exporter writes PP-LCNetV3 as many small element-wise nodes: after every convolution a learnable scalar
affine (x * a + b), a hard-swish as four nodes (x * clip(x + 3, 0, 6) / 6), then another scalar affine. ONNX Runtime
fuses none of them into its convolutions, so each is a full pass over the feature map and, around them, a layout
change out of and back into its blocked (NCHWc) convolution format: about half the recognizer's CPU time. Here:

- the affine after a convolution is folded into its weights and bias (exact: it is linear and comes after);
- the hard-swish becomes HardSigmoid + Mul, which ONNX Runtime fuses into the convolution as its activation;
- the affine after the activation is folded into the next convolution when that is 1x1 and unpadded (exact), else
  made a 1x1 depthwise convolution (one pass, and it stays in the blocked layout). It cannot be folded into a
  padded convolution: the padding is zeros after the affine, which the folded bias would add to the border.

The results differ from the bundled graphs by float rounding only (about 1e-6 in the recognizer's probabilities,
5e-5 in the detector's); `fused_cache` checks that on every model it writes. A pattern that does not match is left
as it is, so a different export still loads, only without the gain."""

from collections import defaultdict
from collections.abc import Callable

import numpy as np
import onnx
from numpy.typing import NDArray
from onnx import helper, numpy_helper

Array = NDArray[np.float32]


class _Graph:
    """The graph's nodes and constants, with consumer look-ups; rebuilt into the ModelProto at the end."""

    def __init__(self, graph: onnx.GraphProto) -> None:
        self.graph = graph
        self.consts: dict[str, NDArray[np.generic]] = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
        self.nodes: list[onnx.NodeProto] = []
        for node in graph.node:
            # Paddle's exporter writes every weight as a Constant node; initializers are what can be rewritten.
            if node.op_type == "Constant" and len(node.attribute) == 1 and node.attribute[0].name == "value":
                self.consts[node.output[0]] = numpy_helper.to_array(node.attribute[0].t)
            else:
                self.nodes.append(node)
        self.outputs = {o.name for o in graph.output}
        self._fresh = 0

    def consumers(self) -> dict[str, list[onnx.NodeProto]]:
        found: dict[str, list[onnx.NodeProto]] = defaultdict(list)
        for node in self.nodes:
            for name in node.input:
                found[name].append(node)
        return found

    def only_consumer(self, name: str, consumers: dict[str, list[onnx.NodeProto]]) -> onnx.NodeProto | None:
        users = consumers.get(name, [])
        return users[0] if len(users) == 1 and name not in self.outputs else None

    def scalar(self, name: str) -> float | None:
        value = self.consts.get(name)
        return None if value is None or value.size != 1 else float(value.reshape(-1)[0])

    def add_const(self, hint: str, value: NDArray[np.generic]) -> str:
        self._fresh += 1
        name = f"{hint}__fused{self._fresh}"
        self.consts[name] = value
        return name

    def float_const(self, name: str) -> Array:
        return np.asarray(self.consts[name], dtype=np.float32)

    def write_back(self) -> None:
        used = {name for node in self.nodes for name in node.input}
        # Copies first: `self.nodes` still points into the repeated field about to be cleared.
        nodes = []
        for node in self.nodes:
            copy = onnx.NodeProto()
            copy.CopyFrom(node)
            nodes.append(copy)
        del self.graph.node[:]
        self.graph.node.extend(nodes)
        del self.graph.initializer[:]
        self.graph.initializer.extend(numpy_helper.from_array(v, k) for k, v in self.consts.items() if k in used)


def _int_attribute(node: onnx.NodeProto, name: str, default: int) -> int:
    return next((int(a.i) for a in node.attribute if a.name == name), default)


def _ints_attribute(node: onnx.NodeProto, name: str) -> list[int]:
    return next(([int(v) for v in a.ints] for a in node.attribute if a.name == name), [])


def _scalar_affine(g: _Graph, mul: onnx.NodeProto, consumers: dict[str, list[onnx.NodeProto]]) -> tuple[
    str, float, float, onnx.NodeProto] | None:  # fmt: skip
    """(x, a, b, add) when `mul` is x * a with a scalar constant, and its only consumer adds a scalar constant b."""
    if mul.op_type != "Mul" or len(mul.input) != 2:
        return None
    scalars = [g.scalar(name) for name in mul.input]
    if (scalars[0] is None) == (scalars[1] is None):
        return None
    a = scalars[0] if scalars[0] is not None else scalars[1]
    x = mul.input[1] if scalars[0] is not None else mul.input[0]
    add = g.only_consumer(mul.output[0], consumers)
    if add is None or add.op_type != "Add" or len(add.input) != 2:
        return None
    other = add.input[1] if add.input[0] == mul.output[0] else add.input[0]
    b = g.scalar(other)
    if a is None or b is None or other == mul.output[0]:
        return None
    return x, a, b, add


def _conv_weights(g: _Graph, conv: onnx.NodeProto) -> tuple[Array, Array] | None:
    if len(conv.input) < 2 or conv.input[1] not in g.consts:
        return None
    weight = g.float_const(conv.input[1])
    if len(conv.input) > 2:
        if conv.input[2] not in g.consts:
            return None
        bias = g.float_const(conv.input[2])
    else:
        bias = np.zeros(weight.shape[0], np.float32)
    return weight, bias


def _set_conv_weights(g: _Graph, conv: onnx.NodeProto, weight: Array, bias: Array) -> None:
    conv.input[1] = g.add_const(conv.input[1], weight.astype(np.float32))
    name = g.add_const(conv.output[0] + "_bias", bias.astype(np.float32))
    if len(conv.input) > 2:
        conv.input[2] = name
    else:
        conv.input.append(name)


def _rebuild(g: _Graph, drop: set[int], before: dict[int, list[onnx.NodeProto]] | None = None) -> None:
    """Drops the nodes at the `drop` indices and inserts `before[i]` ahead of node i, keeping topological order."""
    kept: list[onnx.NodeProto] = []
    for index, node in enumerate(g.nodes):
        kept.extend((before or {}).get(index, []))
        if index not in drop:
            kept.append(node)
    g.nodes = kept


def fold_conv_affines(g: _Graph) -> int:
    """Conv → Mul(a) → Add(b), all scalars: W·a and bias·a + b, the Conv writing the Add's output."""
    consumers = g.consumers()
    index_of = {id(node): i for i, node in enumerate(g.nodes)}
    drop: set[int] = set()
    for conv in g.nodes:
        if conv.op_type != "Conv":
            continue
        mul = g.only_consumer(conv.output[0], consumers)
        found = None if mul is None else _scalar_affine(g, mul, consumers)
        weights = _conv_weights(g, conv)
        if mul is None or found is None or weights is None or found[0] != conv.output[0]:
            continue
        _, a, b, add = found
        weight, bias = weights
        _set_conv_weights(g, conv, weight * a, bias * a + b)
        conv.output[0] = add.output[0]
        drop.update((index_of[id(mul)], index_of[id(add)]))
    _rebuild(g, drop)
    return len(drop) // 2


def compact_hardswish(g: _Graph) -> int:
    """y → Add(3) → Clip(0, 6) → Mul(y, ·) → Div(6) becomes y * HardSigmoid(y; 1/6, 1/2), the form ONNX Runtime
    fuses into the convolution before it."""
    consumers = g.consumers()
    index_of = {id(node): i for i, node in enumerate(g.nodes)}
    drop: set[int] = set()
    before: dict[int, list[onnx.NodeProto]] = {}
    for add in g.nodes:
        if add.op_type != "Add" or len(add.input) != 2 or 3.0 not in (g.scalar(add.input[0]), g.scalar(add.input[1])):
            continue
        y = add.input[0] if g.scalar(add.input[1]) == 3.0 else add.input[1]
        clip = g.only_consumer(add.output[0], consumers)
        if clip is None or clip.op_type != "Clip" or len(clip.input) != 3:
            continue
        if g.scalar(clip.input[1]) != 0.0 or g.scalar(clip.input[2]) != 6.0:
            continue
        mul = g.only_consumer(clip.output[0], consumers)
        if mul is None or mul.op_type != "Mul" or sorted(mul.input) != sorted((y, clip.output[0])):
            continue
        div = g.only_consumer(mul.output[0], consumers)
        if div is None or div.op_type != "Div" or div.input[0] != mul.output[0] or g.scalar(div.input[1]) != 6.0:
            continue
        gate = div.output[0] + "_gate"
        hard_sigmoid = helper.make_node("HardSigmoid", [y], [gate], alpha=1 / 6, beta=0.5)
        product = helper.make_node("Mul", [y, gate], [div.output[0]])
        before[index_of[id(add)]] = [hard_sigmoid, product]
        drop.update(index_of[id(n)] for n in (add, clip, mul, div))
    _rebuild(g, drop, before)
    return len(before)


def _is_pointwise(g: _Graph, conv: onnx.NodeProto, source: str) -> bool:
    """A 1x1, ungrouped, unpadded convolution reading `source` as its data."""
    if conv.op_type != "Conv" or conv.input[0] != source or _conv_weights(g, conv) is None:
        return False
    weight = g.consts[conv.input[1]]
    unpadded = not any(_ints_attribute(conv, "pads")) and _ints_attribute(conv, "strides") in ([], [1, 1])
    return weight.shape[2:] == (1, 1) and _int_attribute(conv, "group", 1) == 1 and unpadded


def fold_affines_forward(g: _Graph) -> tuple[int, int]:
    """Mul(a) → Add(b), scalars, feeding only convolutions: folded into them when all are pointwise
    (W·a, bias + b·ΣW); else, when it feeds one convolution, one depthwise 1x1 convolution (weights a, bias b).
    Returns (folded, made depthwise)."""
    consumers = g.consumers()
    index_of = {id(node): i for i, node in enumerate(g.nodes)}
    drop: set[int] = set()
    before: dict[int, list[onnx.NodeProto]] = {}
    folded = depthwise = 0
    for mul in g.nodes:
        found = _scalar_affine(g, mul, consumers)
        if found is None:
            continue
        x, a, b, add = found
        users = consumers.get(add.output[0], [])
        if not users or add.output[0] in g.outputs:
            continue
        if all(_is_pointwise(g, conv, add.output[0]) for conv in users):
            for conv in users:
                weights = _conv_weights(g, conv)
                assert weights is not None  # checked by _is_pointwise
                weight, bias = weights
                _set_conv_weights(g, conv, weight * a, bias + b * weight.sum(axis=(1, 2, 3)))
                conv.input[0] = x
            folded += 1
        elif (
            len(users) == 1
            and users[0].op_type == "Conv"
            and _conv_weights(g, users[0]) is not None
            and g.consts[users[0].input[1]].ndim == 4
        ):
            conv = users[0]
            channels = int(g.consts[conv.input[1]].shape[1]) * _int_attribute(conv, "group", 1)
            scale = g.add_const(add.output[0] + "_scale", np.full((channels, 1, 1, 1), a, np.float32))
            shift = g.add_const(add.output[0] + "_shift", np.full((channels,), b, np.float32))
            before[index_of[id(mul)]] = [
                helper.make_node("Conv", [x, scale, shift], [add.output[0]], group=channels, kernel_shape=[1, 1])
            ]
            depthwise += 1
        else:
            continue
        drop.update((index_of[id(mul)], index_of[id(add)]))
    _rebuild(g, drop, before)
    return folded, depthwise


PASSES: tuple[Callable[[_Graph], object], ...] = (fold_conv_affines, compact_hardswish, fold_affines_forward)


def fuse(model: onnx.ModelProto) -> tuple[onnx.ModelProto, dict[str, int]]:
    """A rewritten copy of `model`, and how many of each rewrite it made."""
    fused = onnx.ModelProto()
    fused.CopyFrom(model)
    g = _Graph(fused.graph)
    counts: dict[str, int] = {"conv_affines": fold_conv_affines(g), "hardswish": compact_hardswish(g)}
    counts["affines_folded_forward"], counts["affines_as_depthwise"] = fold_affines_forward(g)
    g.write_back()
    onnx.checker.check_model(fused)
    return fused, counts
