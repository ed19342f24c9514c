"""An ONNX graph run by PyTorch: the detector's path to any GPU that PyTorch sees, without TensorRT or a GPU build of
ONNX Runtime.

Why an interpreter of our own rather than a converter or a second export:

* One artifact. The `yolo-world-ui.onnx` that ONNX Runtime and TensorRT run, with its vocabulary file, checksum and
  output-layout checks, is what runs here too; nothing else has to be exported, shipped or kept in step.
* It can be checked. Every op is a few lines of `torch.nn.functional`, and the tests compare whole graphs against
  ONNX Runtime: generated models, a real Ultralytics YOLOv8 export, and Ultralytics' own YOLO-World v2 export.
* It refuses what it cannot run, by name, when the model loads (`unsupported_ops`), not halfway through a frame.
  The ops cover Ultralytics' YOLOv8 and YOLO-World v2 exports (opsets 11-20) and the usual CNN detector ops.
* It is fast where it matters. The graph's static parts (constants, shape arithmetic, the vocabulary's baked text
  embeddings) are computed once per input shape; what is left is pure device work, so on CUDA one pass is captured
  in a CUDA graph and replayed as a single launch (`torch_backend`).

(onnx2torch, the converter on PyPI, was not chosen: its last release predates the ONNX and PyTorch versions the GPU
machines run, and a converted `fx` module is no easier to verify than the interpreter below.)

PyTorch and `onnx` are imported only when a graph is built: neither is a run-time dependency of the host.
"""

import importlib
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

# Set on first use by `_load_torch`; the op functions below read it.
torch: Any = None
F: Any = None


class UnsupportedGraph(ValueError):
    """The graph uses something this interpreter does not run; the message names it."""


def _load_torch() -> Any:
    global torch, F  # noqa: PLW0603 - the op table is module-level; torch must stay an optional, lazy import
    if torch is None:
        module = importlib.import_module("torch")
        F = module.nn.functional
        torch = module
    return torch


# ONNX TensorProto data types → torch dtype names.
_DTYPES = {
    1: "float32",
    2: "uint8",
    3: "int8",
    5: "int16",
    6: "int32",
    7: "int64",
    9: "bool",
    10: "float16",
    11: "float64",
    16: "bfloat16",
}
_FLOAT_ONNX = {1, 10, 11, 16}
_HALF_MAX = 65504.0


@dataclass
class _Node:
    op: str
    inputs: list[str]
    outputs: list[str]
    attrs: dict[str, Any]
    name: str
    static: bool = False


@dataclass
class _Context:
    device: Any
    dtype: Any  # the compute dtype of floating tensors: float32, or float16 on a GPU
    opset: int


@dataclass(frozen=True)
class TensorSpec:
    name: str
    shape: tuple[int | str | None, ...]


@dataclass
class _Prepared:
    """What one input shape fixes: the static values, and where each dynamic node's inputs come from."""

    static: dict[str, Any] = field(default_factory=dict)
    # Static values that dynamic nodes read on the host (shapes, axes, scales), as CPU tensors.
    host: dict[str, Any] = field(default_factory=dict)
    dynamic: list[_Node] = field(default_factory=list)
    release: list[list[str]] = field(default_factory=list)


# ---------------------------------------------------------------------------------------------------- helpers


def _ints(value: Any) -> list[int]:
    """A host list of ints from a tensor (shape, axes, pads...) or a list."""
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return [int(v) for v in value]
    return [int(v) for v in value.reshape(-1).tolist()]


def _scalar(value: Any) -> float | None:
    if value is None:
        return None
    return float(value.reshape(-1)[0].item()) if hasattr(value, "reshape") else float(value)


def _match(a: Any, b: Any) -> tuple[Any, Any]:
    """Operands on one device, floats in one dtype (a shape-derived scalar meets a GPU feature map, say). A 0-d CPU
    tensor is left where it is: PyTorch reads it as a scalar, with no copy (which a CUDA graph could not hold)."""
    if a.device != b.device:
        if a.device.type == "cpu" and a.dim() > 0:
            a = a.to(b.device)
        elif b.device.type == "cpu" and b.dim() > 0:
            b = b.to(a.device)
    if a.is_floating_point() and b.is_floating_point() and a.dtype != b.dtype and a.dim() > 0 and b.dim() > 0:
        # The larger operand's precision wins: a float32 constant follows a half-precision feature map.
        target = a.dtype if a.numel() >= b.numel() else b.dtype
        a, b = a.to(target), b.to(target)
    return a, b


def _binary(fn: Callable[[Any, Any], Any]) -> Callable[[_Context, _Node, list[Any]], list[Any]]:
    def run(ctx: _Context, node: _Node, x: list[Any]) -> list[Any]:
        a, b = _match(x[0], x[1])
        return [fn(a, b)]

    return run


def _unary(fn: Callable[[Any], Any]) -> Callable[[_Context, _Node, list[Any]], list[Any]]:
    def run(ctx: _Context, node: _Node, x: list[Any]) -> list[Any]:
        return [fn(x[0])]

    return run


def _variadic(fn: Callable[[Any, Any], Any]) -> Callable[[_Context, _Node, list[Any]], list[Any]]:
    def run(ctx: _Context, node: _Node, x: list[Any]) -> list[Any]:
        out = x[0]
        for item in x[1:]:
            out, other = _match(out, item)
            out = fn(out, other)
        return [out]

    return run


def _axis(axis: int, rank: int) -> int:
    return axis + rank if axis < 0 else axis


def _spatial_pads(
    node: _Node, x: Any, kernel: Sequence[int], strides: Sequence[int], dilations: Sequence[int]
) -> list[int]:
    """ONNX pads (begin..., end...) for the spatial dims, `auto_pad` resolved."""
    n = len(kernel)
    auto = node.attrs.get("auto_pad", "NOTSET")
    if auto in ("NOTSET", ""):
        pads = list(node.attrs.get("pads", [0] * 2 * n))
        return pads if len(pads) == 2 * n else [0] * 2 * n
    if auto == "VALID":
        return [0] * 2 * n
    begins, ends = [], []
    for i in range(n):
        size = int(x.shape[2 + i])
        out = math.ceil(size / strides[i])
        total = max(0, (out - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1 - size)
        small, large = total // 2, total - total // 2
        begins.append(small if auto == "SAME_UPPER" else large)
        ends.append(large if auto == "SAME_UPPER" else small)
    return begins + ends


def _torch_pad(pads: Sequence[int]) -> list[int]:
    """ONNX (x1_begin, x2_begin, ..., x1_end, x2_end, ...) → F.pad's (last_begin, last_end, ..., first_begin, ...)."""
    n = len(pads) // 2
    out: list[int] = []
    for i in reversed(range(n)):
        out += [pads[i], pads[i + n]]
    return out


# ---------------------------------------------------------------------------------------------------- ops


def _conv(ctx: _Context, node: _Node, x: list[Any]) -> list[Any]:
    data, weight = _match(x[0], x[1])
    bias = None if len(x) < 3 or x[2] is None else _match(data, x[2])[1]
    n = weight.dim() - 2
    kernel = list(node.attrs.get("kernel_shape", list(weight.shape[2:])))
    strides = list(node.attrs.get("strides", [1] * n))
    dilations = list(node.attrs.get("dilations", [1] * n))
    pads = _spatial_pads(node, data, kernel, strides, dilations)
    groups = int(node.attrs.get("group", 1))
    if pads[:n] != pads[n:]:
        data, padding = F.pad(data, _torch_pad(pads)), [0] * n
    else:
        padding = pads[:n]
    conv = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}.get(n)
    if conv is None:
        raise UnsupportedGraph(f"{node.name}: Conv over {n} spatial dimensions")
    return [conv(data, weight, bias, strides, padding, dilations, groups)]


def _conv_transpose(ctx: _Context, node: _Node, x: list[Any]) -> list[Any]:
    data, weight = _match(x[0], x[1])
    bias = None if len(x) < 3 or x[2] is None else _match(data, x[2])[1]
    n = weight.dim() - 2
    strides = list(node.attrs.get("strides", [1] * n))
    dilations = list(node.attrs.get("dilations", [1] * n))
    pads = list(node.attrs.get("pads", [0] * 2 * n))
    automatic = node.attrs.get("auto_pad", "NOTSET") not in ("NOTSET", "") or "output_shape" in node.attrs
    if pads[:n] != pads[n:] or automatic:
        raise UnsupportedGraph(f"{node.name}: ConvTranspose with asymmetric or automatic padding")
    conv = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}[n]
    output_padding = list(node.attrs.get("output_padding", [0] * n))
    groups = int(node.attrs.get("group", 1))
    return [conv(data, weight, bias, strides, pads[:n], output_padding, groups, dilations)]


def _batch_norm(ctx: _Context, node: _Node, x: list[Any]) -> list[Any]:
    data = x[0]
    epsilon = float(node.attrs.get("epsilon", 1e-5))
    if data.dtype in (torch.float16, torch.bfloat16):
        # Folded into one scale and shift in float32: a running variance can exceed half precision's range (one
        # of PP-OCRv4's detector is 9.8e7), while the folded scale and shift fit easily.
        scale, bias, mean, var = (p.to(data.device, torch.float32) for p in x[1:5])
        factor = scale / torch.sqrt(var + epsilon)
        shift = bias - mean * factor
        shape = [1, -1] + [1] * (data.dim() - 2)
        return [data * factor.to(data.dtype).reshape(shape) + shift.to(data.dtype).reshape(shape)]
    params = [_match(data, p)[1] for p in x[1:5]]
    scale, bias, mean, var = params
    return [F.batch_norm(data, mean, var, scale, bias, False, 0.0, epsilon)]


def _pool(kind: str) -> Callable[[_Context, _Node, list[Any]], list[Any]]:
    def run(ctx: _Context, node: _Node, x: list[Any]) -> list[Any]:
        if len([o for o in node.outputs if o]) > 1:
            raise UnsupportedGraph(f"{node.name}: {node.op} with an Indices output")
        data = x[0]
        kernel = list(node.attrs["kernel_shape"])
        n = len(kernel)
        strides = list(node.attrs.get("strides", [1] * n))
        dilations = list(node.attrs.get("dilations", [1] * n))
        pads = _spatial_pads(node, data, kernel, strides, dilations)
        ceil = bool(node.attrs.get("ceil_mode", 0))
        symmetric = pads[:n] == pads[n:] and all(p <= k // 2 for p, k in zip(pads[:n], kernel, strict=True))
        if kind == "max":
            pool = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}[n]
            if not symmetric:
                data = F.pad(data, _torch_pad(pads), value=-math.inf)
            return [pool(data, kernel, strides, pads[:n] if symmetric else 0, dilations, ceil)]
        if dilations != [1] * n:
            raise UnsupportedGraph(f"{node.name}: AveragePool with dilations")
        include = bool(node.attrs.get("count_include_pad", 0))
        pool = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}[n]
        if not symmetric:
            if not include and any(pads):
                raise UnsupportedGraph(f"{node.name}: AveragePool with asymmetric pads that are not counted")
            data = F.pad(data, _torch_pad(pads))
        return [pool(data, kernel, strides, pads[:n] if symmetric else 0, ceil, include)]

    return run


def _global_pool(kind: str) -> Callable[[_Context, _Node, list[Any]], list[Any]]:
    def run(ctx: _Context, node: _Node, x: list[Any]) -> list[Any]:
        dims = tuple(range(2, x[0].dim()))
        return [x[0].mean(dims, keepdim=True) if kind == "avg" else x[0].amax(dims, keepdim=True)]

    return run


def _resize(ctx: _Context, node: _Node, x: list[Any]) -> list[Any]:
    data = x[0]
    if node.op == "Upsample" or ctx.opset < 11:
        scales_t, sizes_t = (x[1] if len(x) > 1 else None), None
        mode_default, coordinate = "nearest", "asymmetric"
        nearest = "floor"
    else:
        scales_t = x[2] if len(x) > 2 else None
        sizes_t = x[3] if len(x) > 3 else None
        mode_default = "nearest"
        coordinate = node.attrs.get("coordinate_transformation_mode", "half_pixel")
        nearest = node.attrs.get("nearest_mode", "round_prefer_floor")
    mode = node.attrs.get("mode", mode_default)
    spatial = data.dim() - 2
    if sizes_t is not None and sizes_t.numel():
        sizes = _ints(sizes_t)
        if sizes[:2] != list(data.shape[:2]):
            raise UnsupportedGraph(f"{node.name}: Resize of the batch or channel dimension")
        out = sizes[2:]
    else:
        scales = [float(s) for s in (scales_t.reshape(-1).tolist() if scales_t is not None else [])]
        if len(scales) != data.dim() or scales[0] != 1 or scales[1] != 1:
            raise UnsupportedGraph(f"{node.name}: Resize with scales {scales}")
        out = [math.floor(int(data.shape[2 + i]) * scales[2 + i]) for i in range(spatial)]
    if mode == "nearest":
        if coordinate == "asymmetric" and nearest == "floor":
            return [F.interpolate(data, size=out, mode="nearest")]
        if coordinate in ("half_pixel", "tf_half_pixel_for_nn", "pytorch_half_pixel") and nearest.startswith("round"):
            return [F.interpolate(data, size=out, mode="nearest-exact")]
        raise UnsupportedGraph(f"{node.name}: nearest Resize with {coordinate} / {nearest}")
    if mode == "linear":
        torch_mode = {1: "linear", 2: "bilinear", 3: "trilinear"}[spatial]
        if coordinate in ("half_pixel", "pytorch_half_pixel"):
            return [F.interpolate(data, size=out, mode=torch_mode, align_corners=False)]
        if coordinate == "align_corners":
            return [F.interpolate(data, size=out, mode=torch_mode, align_corners=True)]
    raise UnsupportedGraph(f"{node.name}: Resize mode {mode} with {coordinate}")


def _reshape(ctx: _Context, node: _Node, x: list[Any]) -> list[Any]:
    shape = _ints(x[1])
    if not node.attrs.get("allowzero", 0):
        shape = [int(x[0].shape[i]) if d == 0 else d for i, d in enumerate(shape)]
    return [x[0].reshape(shape)]


def _flatten(ctx: _Context, node: _Node, x: list[Any]) -> list[Any]:
    axis = _axis(int(node.attrs.get("axis", 1)), x[0].dim())
    lead = math.prod(int(d) for d in x[0].shape[:axis])
    return [x[0].reshape(lead, -1)]


def _transpose(ctx: _Context, node: _Node, x: list[Any]) -> list[Any]:
    perm = list(node.attrs.get("perm", list(reversed(range(x[0].dim())))))
    return [x[0].permute(perm)]


def _axes_of(node: _Node, x: list[Any], index: int) -> list[int] | None:
    """Axes from the attribute (older opsets) or the input at `index` (newer ones); None when absent."""
    if "axes" in node.attrs:
        return list(node.attrs["axes"])
    if len(x) > index and x[index] is not None:
        return _ints(x[index])
    return None


def _squeeze(ctx: _Context, node: _Node, x: list[Any]) -> list[Any]:
    axes = _axes_of(node, x, 1)
    data = x[0]
    if axes is None:
        return [data.reshape([d for d in data.shape if d != 1])]
    keep = {_axis(a, data.dim()) for a in axes}
    return [data.reshape([d for i, d in enumerate(data.shape) if i not in keep])]


def _unsqueeze(ctx: _Context, node: _Node, x: list[Any]) -> list[Any]:
    axes = _axes_of(node, x, 1) or []
    rank = x[0].dim() + len(axes)
    shape = list(x[0].shape)
    for axis in sorted(_axis(a, rank) for a in axes):
        shape.insert(axis, 1)
    return [x[0].reshape(shape)]


def _concat(ctx: _Context, node: _Node, x: list[Any]) -> list[Any]:
    parts = [t for t in x if t is not None]
    device = next((t.device for t in parts if t.device.type != "cpu"), parts[0].device)
    floats = [t.dtype for t in parts if t.is_floating_point()]
    dtype = floats[0] if floats and len(floats) == len(parts) else None
    parts = [t.to(device) if dtype is None else t.to(device, dtype) for t in parts]
    return [torch.cat(parts, _axis(int(node.attrs["axis"]), parts[0].dim()))]


def _split(ctx: _Context, node: _Node, x: list[Any]) -> list[Any]:
    data = x[0]
    axis = _axis(int(node.attrs.get("axis", 0)), data.dim())
    count = len(node.outputs)
    if "split" in node.attrs:
        sizes = list(node.attrs["split"])
    elif len(x) > 1 and x[1] is not None:
        sizes = _ints(x[1])
    else:
        length = int(data.shape[axis])
        parts = int(node.attrs.get("num_outputs", count))
        chunk = math.ceil(length / parts)
        sizes = [min(chunk, length - i * chunk) for i in range(parts)]
    return list(torch.split(data, sizes, dim=axis))


_INT64_MAX = 2**63 - 1


def _slice(ctx: _Context, node: _Node, x: list[Any]) -> list[Any]:
    data = x[0]
    if ctx.opset < 10 or len(x) == 1:
        starts, ends = list(node.attrs["starts"]), list(node.attrs["ends"])
        axes = list(node.attrs.get("axes", range(len(starts))))
        steps = [1] * len(starts)
    else:
        starts, ends = _ints(x[1]), _ints(x[2])
        axes = _ints(x[3]) if len(x) > 3 and x[3] is not None else list(range(len(starts)))
        steps = _ints(x[4]) if len(x) > 4 and x[4] is not None else [1] * len(starts)
    index: list[Any] = [slice(None)] * data.dim()
    flips = []
    for start, end, raw_axis, step in zip(starts, ends, axes, steps, strict=True):
        axis = _axis(raw_axis, data.dim())
        dim = int(data.shape[axis])
        if step == 0:
            raise UnsupportedGraph(f"{node.name}: Slice with step 0")
        if step > 0:
            begin = min(max(start + dim if start < 0 else start, 0), dim)
            stop = min(max(end + dim if end < 0 else end, 0), dim)
            index[axis] = slice(begin, max(begin, stop), step)
        else:
            # Walk backwards: flip, then slice forwards over the mirrored range.
            begin = min(max(start + dim if start < 0 else start, -1), dim - 1)
            stop = min(max(end + dim if end < 0 and end > -_INT64_MAX else end, -1), dim - 1)
            flips.append(axis)
            index[axis] = slice(dim - 1 - begin, max(dim - 1 - begin, dim - 1 - stop), -step)
    if flips:
        data = data.flip(flips)
    return [data[tuple(index)]]


def _gather(ctx: _Context, node: _Node, x: list[Any]) -> list[Any]:
    data, indices = x[0], x[1]
    axis = _axis(int(node.attrs.get("axis", 0)), data.dim())
    dim = int(data.shape[axis])
    flat = indices.reshape(-1).to(data.device).long()
    flat = torch.where(flat < 0, flat + dim, flat)
    picked = data.index_select(axis, flat)
    shape = list(data.shape[:axis]) + list(indices.shape) + list(data.shape[axis + 1 :])
    return [picked.reshape(shape)]


def _shape(ctx: _Context, node: _Node, x: list[Any]) -> list[Any]:
    dims = list(x[0].shape)
    start, end = node.attrs.get("start", 0), node.attrs.get("end", len(dims))
    return [torch.tensor(dims[start:end], dtype=torch.int64)]


def _size(ctx: _Context, node: _Node, x: list[Any]) -> list[Any]:
    return [torch.tensor(x[0].numel(), dtype=torch.int64)]


def _torch_dtype(ctx: _Context, onnx_type: int, on_cpu: bool) -> Any:
    if onnx_type in _FLOAT_ONNX and not on_cpu:
        # A float cast inside the network follows its compute precision (fp16 on a GPU).
        return ctx.dtype
    name = _DTYPES.get(onnx_type)
    if name is None:
        raise UnsupportedGraph(f"ONNX data type {onnx_type}")
    return getattr(torch, name)


def _cast(ctx: _Context, node: _Node, x: list[Any]) -> list[Any]:
    return [x[0].to(_torch_dtype(ctx, int(node.attrs["to"]), x[0].device.type == "cpu"))]


def _constant_of_shape(ctx: _Context, node: _Node, x: list[Any]) -> list[Any]:
    value = node.attrs.get("value")
    fill = value if value is not None else torch.zeros(1, dtype=torch.float32)
    return [torch.full(_ints(x[0]), fill.reshape(-1)[0].item(), dtype=fill.dtype)]


def _constant(ctx: _Context, node: _Node, x: list[Any]) -> list[Any]:
    for key in ("value", "value_float", "value_floats", "value_int", "value_ints"):
        if key in node.attrs:
            value = node.attrs[key]
            if key == "value":
                return [value]
            dtype = torch.float32 if "float" in key else torch.int64
            return [torch.tensor(value, dtype=dtype)]
    raise UnsupportedGraph(f"{node.name}: Constant of a kind other than a tensor, float(s) or int(s)")


def _expand(ctx: _Context, node: _Node, x: list[Any]) -> list[Any]:
    shape = torch.broadcast_shapes(tuple(x[0].shape), tuple(_ints(x[1])))
    return [x[0].expand(shape)]


def _tile(ctx: _Context, node: _Node, x: list[Any]) -> list[Any]:
    return [x[0].repeat(_ints(x[1]))]


def _range(ctx: _Context, node: _Node, x: list[Any]) -> list[Any]:
    start, limit, delta = (v.reshape(-1)[0].item() for v in x[:3])
    return [torch.arange(start, limit, delta, dtype=x[0].dtype)]


def _where(ctx: _Context, node: _Node, x: list[Any]) -> list[Any]:
    a, b = _match(x[1], x[2])
    cond = x[0].to(a.device)
    return [torch.where(cond, a, b)]


def _pad(ctx: _Context, node: _Node, x: list[Any]) -> list[Any]:
    data = x[0]
    if "pads" in node.attrs:
        pads, value = list(node.attrs["pads"]), float(node.attrs.get("value", 0.0))
    else:
        pads = _ints(x[1])
        value = (_scalar(x[2]) if len(x) > 2 and x[2] is not None and x[2].numel() else None) or 0.0
        if len(x) > 3 and x[3] is not None:
            axes = [_axis(a, data.dim()) for a in _ints(x[3])]
            full = [0] * 2 * data.dim()
            for i, axis in enumerate(axes):
                full[axis], full[axis + data.dim()] = pads[i], pads[i + len(axes)]
            pads = full
    mode = {"constant": "constant", "reflect": "reflect", "edge": "replicate"}.get(node.attrs.get("mode", "constant"))
    if mode is None:
        raise UnsupportedGraph(f"{node.name}: Pad mode {node.attrs.get('mode')}")
    torch_pads = _torch_pad(pads)
    # F.pad takes pads of the trailing dims only: drop the leading dims' zeros.
    while len(torch_pads) > 2 and torch_pads[-2:] == [0, 0]:
        torch_pads = torch_pads[:-2]
    if mode == "constant":
        return [F.pad(data, torch_pads, mode="constant", value=value or 0.0)]
    return [F.pad(data, torch_pads, mode=mode)]


def _gemm(ctx: _Context, node: _Node, x: list[Any]) -> list[Any]:
    a, b = _match(x[0], x[1])
    if node.attrs.get("transA", 0):
        a = a.transpose(0, 1)
    if node.attrs.get("transB", 0):
        b = b.transpose(0, 1)
    out = float(node.attrs.get("alpha", 1.0)) * (a @ b)
    if len(x) > 2 and x[2] is not None:
        out, c = _match(out, x[2])
        out = out + float(node.attrs.get("beta", 1.0)) * c
    return [out]


def _einsum(ctx: _Context, node: _Node, x: list[Any]) -> list[Any]:
    operands = list(x)
    for i in range(1, len(operands)):
        operands[0], operands[i] = _match(operands[0], operands[i])
    for i in range(1, len(operands)):
        operands[i] = operands[i].to(operands[0].device, operands[0].dtype)
    return [torch.einsum(node.attrs["equation"], *operands)]


def _softmax(log: bool) -> Callable[[_Context, _Node, list[Any]], list[Any]]:
    def run(ctx: _Context, node: _Node, x: list[Any]) -> list[Any]:
        data = x[0]
        fn = F.log_softmax if log else F.softmax
        if ctx.opset >= 13:
            return [fn(data, dim=_axis(int(node.attrs.get("axis", -1)), data.dim()))]
        # Before opset 13: the input is read as a 2-D matrix split at `axis` (default 1).
        axis = _axis(int(node.attrs.get("axis", 1)), data.dim())
        lead = math.prod(int(d) for d in data.shape[:axis])
        return [fn(data.reshape(lead, -1), dim=1).reshape(data.shape)]

    return run


def _prod(data: Any, dims: tuple[int, ...], keep: bool) -> Any:
    for dim in reversed(dims):
        data = data.prod(dim, keepdim=keep)
    return data


_REDUCERS: Mapping[str, Callable[[Any, tuple[int, ...], bool], Any]] = {
    "mean": lambda data, dims, keep: data.mean(dims, keepdim=keep),
    "sum": lambda data, dims, keep: data.sum(dims, keepdim=keep),
    "max": lambda data, dims, keep: data.amax(dims, keepdim=keep),
    "min": lambda data, dims, keep: data.amin(dims, keepdim=keep),
    "l2": lambda data, dims, keep: torch.linalg.vector_norm(data, 2, dims, keep),
    "prod": _prod,
}


def _reduce(kind: str) -> Callable[[_Context, _Node, list[Any]], list[Any]]:
    reducer = _REDUCERS[kind]

    def run(ctx: _Context, node: _Node, x: list[Any]) -> list[Any]:
        data = x[0]
        axes = _axes_of(node, x, 1)
        keep = bool(node.attrs.get("keepdims", 1))
        if not axes:
            if node.attrs.get("noop_with_empty_axes", 0):
                return [data]
            axes = list(range(data.dim()))
        return [reducer(data, tuple(sorted(_axis(a, data.dim()) for a in axes)), keep)]

    return run


def _arg(kind: str) -> Callable[[_Context, _Node, list[Any]], list[Any]]:
    def run(ctx: _Context, node: _Node, x: list[Any]) -> list[Any]:
        if node.attrs.get("select_last_index", 0):
            raise UnsupportedGraph(f"{node.name}: {node.op} with select_last_index")
        axis = _axis(int(node.attrs.get("axis", 0)), x[0].dim())
        keep = bool(node.attrs.get("keepdims", 1))
        fn = torch.argmax if kind == "max" else torch.argmin
        return [fn(x[0], dim=axis, keepdim=keep)]

    return run


def _layer_norm(ctx: _Context, node: _Node, x: list[Any]) -> list[Any]:
    if len([o for o in node.outputs if o]) > 1:
        raise UnsupportedGraph(f"{node.name}: LayerNormalization with Mean / InvStdDev outputs")
    data = x[0]
    axis = _axis(int(node.attrs.get("axis", -1)), data.dim())
    weight = _match(data, x[1])[1]
    bias = _match(data, x[2])[1] if len(x) > 2 and x[2] is not None else None
    shape = tuple(int(d) for d in data.shape[axis:])
    return [F.layer_norm(data, shape, weight.expand(shape), None if bias is None else bias.expand(shape),
                         float(node.attrs.get("epsilon", 1e-5)))]  # fmt: skip


def _instance_norm(ctx: _Context, node: _Node, x: list[Any]) -> list[Any]:
    data = x[0]
    scale, bias = _match(data, x[1])[1], _match(data, x[2])[1]
    return [F.instance_norm(data, weight=scale, bias=bias, eps=float(node.attrs.get("epsilon", 1e-5)))]


def _clip(ctx: _Context, node: _Node, x: list[Any]) -> list[Any]:
    if "min" in node.attrs or "max" in node.attrs:
        low, high = node.attrs.get("min"), node.attrs.get("max")
    else:
        low = _scalar(x[1]) if len(x) > 1 and x[1] is not None else None
        high = _scalar(x[2]) if len(x) > 2 and x[2] is not None else None
    return [torch.clamp(x[0], min=low, max=high)]


def _div(a: Any, b: Any) -> Any:
    if not a.is_floating_point() and not b.is_floating_point():
        return torch.div(a, b, rounding_mode="trunc")
    return a / b


def _identity(ctx: _Context, node: _Node, x: list[Any]) -> list[Any]:
    return [x[0]] + [None] * (len(node.outputs) - 1)


def _hard_sigmoid(ctx: _Context, node: _Node, x: list[Any]) -> list[Any]:
    alpha, beta = float(node.attrs.get("alpha", 0.2)), float(node.attrs.get("beta", 0.5))
    return [torch.clamp(x[0] * alpha + beta, 0.0, 1.0)]


def _leaky_relu(ctx: _Context, node: _Node, x: list[Any]) -> list[Any]:
    return [F.leaky_relu(x[0], float(node.attrs.get("alpha", 0.01)))]


def _gelu(ctx: _Context, node: _Node, x: list[Any]) -> list[Any]:
    return [F.gelu(x[0], approximate=node.attrs.get("approximate", "none"))]


_Op = Callable[[_Context, _Node, list[Any]], list[Any]]

_OPS: dict[str, _Op] = {
    "Add": _binary(lambda a, b: a + b),
    "Sub": _binary(lambda a, b: a - b),
    "Mul": _binary(lambda a, b: a * b),
    "Div": _binary(_div),
    "Pow": _binary(lambda a, b: torch.pow(a, b)),
    "Equal": _binary(lambda a, b: a == b),
    "Less": _binary(lambda a, b: a < b),
    "LessOrEqual": _binary(lambda a, b: a <= b),
    "Greater": _binary(lambda a, b: a > b),
    "GreaterOrEqual": _binary(lambda a, b: a >= b),
    "And": _binary(lambda a, b: torch.logical_and(a, b)),
    "Or": _binary(lambda a, b: torch.logical_or(a, b)),
    "Max": _variadic(lambda a, b: torch.maximum(a, b)),
    "Min": _variadic(lambda a, b: torch.minimum(a, b)),
    "Sum": _variadic(lambda a, b: a + b),
    "Not": _unary(lambda a: torch.logical_not(a)),
    "Sigmoid": _unary(lambda a: torch.sigmoid(a)),
    "Relu": _unary(lambda a: torch.relu(a)),
    "Tanh": _unary(lambda a: torch.tanh(a)),
    "Exp": _unary(lambda a: torch.exp(a)),
    "Log": _unary(lambda a: torch.log(a)),
    "Sqrt": _unary(lambda a: torch.sqrt(a)),
    "Neg": _unary(lambda a: -a),
    "Abs": _unary(lambda a: torch.abs(a)),
    "Reciprocal": _unary(lambda a: torch.reciprocal(a)),
    "Floor": _unary(lambda a: torch.floor(a)),
    "Ceil": _unary(lambda a: torch.ceil(a)),
    "Round": _unary(lambda a: torch.round(a)),
    "Erf": _unary(lambda a: torch.erf(a)),
    "Softplus": _unary(lambda a: F.softplus(a)),
    "HardSwish": _unary(lambda a: F.hardswish(a)),
    "HardSigmoid": _hard_sigmoid,
    "LeakyRelu": _leaky_relu,
    "Gelu": _gelu,
    "Identity": _identity,
    "Dropout": _identity,
    "Clip": _clip,
    "Conv": _conv,
    "ConvTranspose": _conv_transpose,
    "BatchNormalization": _batch_norm,
    "InstanceNormalization": _instance_norm,
    "LayerNormalization": _layer_norm,
    "MaxPool": _pool("max"),
    "AveragePool": _pool("avg"),
    "GlobalAveragePool": _global_pool("avg"),
    "GlobalMaxPool": _global_pool("max"),
    "Resize": _resize,
    "Upsample": _resize,
    "Reshape": _reshape,
    "Flatten": _flatten,
    "Transpose": _transpose,
    "Squeeze": _squeeze,
    "Unsqueeze": _unsqueeze,
    "Concat": _concat,
    "Split": _split,
    "Slice": _slice,
    "Gather": _gather,
    "Shape": _shape,
    "Size": _size,
    "Cast": _cast,
    "Constant": _constant,
    "ConstantOfShape": _constant_of_shape,
    "Expand": _expand,
    "Tile": _tile,
    "Range": _range,
    "Where": _where,
    "Pad": _pad,
    "MatMul": _binary(lambda a, b: torch.matmul(a, b)),
    "Gemm": _gemm,
    "Einsum": _einsum,
    "Softmax": _softmax(log=False),
    "LogSoftmax": _softmax(log=True),
    "ReduceMean": _reduce("mean"),
    "ReduceSum": _reduce("sum"),
    "ReduceMax": _reduce("max"),
    "ReduceMin": _reduce("min"),
    "ReduceL2": _reduce("l2"),
    "ReduceProd": _reduce("prod"),
    "ArgMax": _arg("max"),
    "ArgMin": _arg("min"),
}

SUPPORTED_OPS: frozenset[str] = frozenset(_OPS)

# Inputs that are read on the host (shapes, axes, sizes): kept on the CPU, never copied to the GPU.
_HOST_INPUTS: Mapping[str, frozenset[int]] = {
    "Reshape": frozenset({1}),
    "Slice": frozenset({1, 2, 3, 4}),
    "Resize": frozenset({1, 2, 3}),
    "Upsample": frozenset({1}),
    "Split": frozenset({1}),
    "Squeeze": frozenset({1}),
    "Unsqueeze": frozenset({1}),
    "Expand": frozenset({1}),
    "Tile": frozenset({1}),
    "Pad": frozenset({1, 2, 3}),
    "Clip": frozenset({1, 2}),
    "ConstantOfShape": frozenset({0}),
    "Range": frozenset({0, 1, 2}),
    **{f"Reduce{k}": frozenset({1}) for k in ("Mean", "Sum", "Max", "Min", "L2", "Prod")},
}


def unsupported_ops(model: Any) -> list[str]:
    """The op types of an ONNX ModelProto (default domain) that the interpreter does not run, sorted; also names
    any node of another domain (custom ops) or with a subgraph (If, Loop, Scan)."""
    missing: set[str] = set()
    for node in model.graph.node:
        if node.domain not in ("", "ai.onnx"):
            missing.add(f"{node.domain}.{node.op_type}")
        elif node.op_type not in SUPPORTED_OPS:
            missing.add(node.op_type)
    return sorted(missing)


def _onnx() -> Any:
    try:
        return importlib.import_module("onnx")
    except ImportError as error:
        raise UnsupportedGraph(
            "running an ONNX model through PyTorch needs the onnx package (pip install onnx) to read it"
        ) from error


def _attr_value(onnx: Any, attribute: Any, ctx: _Context) -> Any:
    value = onnx.helper.get_attribute_value(attribute)
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if attribute.type == onnx.AttributeProto.TENSOR:
        return _tensor(onnx, value, ctx)
    if attribute.type in (onnx.AttributeProto.GRAPH, onnx.AttributeProto.GRAPHS):
        raise UnsupportedGraph(f"attribute {attribute.name} holds a subgraph")
    if isinstance(value, list) and value and isinstance(value[0], bytes):
        return [v.decode("utf-8") for v in value]
    return value


def _tensor(onnx: Any, proto: Any, ctx: _Context) -> Any:
    """An ONNX tensor → a torch tensor: floating ones on the device in the compute dtype, the rest on the CPU (they
    are shapes and indices, read on the host)."""
    value = torch.from_numpy(np.array(onnx.numpy_helper.to_array(proto)))  # a writable copy
    if value.is_floating_point():
        if ctx.dtype == torch.float16 and value.numel() and float(value.abs().max()) > _HALF_MAX:
            # It would become infinity: kept in float32 (the ops that meet such values fold them first).
            return value.to(ctx.device, torch.float32)
        return value.to(ctx.device, ctx.dtype)
    return value


def _dims(value_info: Any) -> tuple[int | str | None, ...]:
    dims: list[int | str | None] = []
    for dim in value_info.type.tensor_type.shape.dim:
        if dim.HasField("dim_value"):
            dims.append(int(dim.dim_value))
        elif dim.HasField("dim_param"):
            dims.append(str(dim.dim_param))
        else:
            dims.append(None)
    return tuple(dims)


class OnnxTorchGraph:
    """One ONNX model, ready to run on `device`. `run_tensors` is pure device work after the first call for a
    given input shape (which computes the static part), so it can be captured in a CUDA graph."""

    def __init__(self, model_path: Path, device: str = "cpu", fp16: bool = False) -> None:
        onnx = _onnx()
        try:
            model = onnx.load(str(model_path))
        except Exception as error:
            raise UnsupportedGraph(f"{model_path} is not a readable ONNX model: {error}") from error
        missing = unsupported_ops(model)
        if missing:
            raise UnsupportedGraph(
                f"{model_path.name} uses ONNX ops the PyTorch path does not run: {', '.join(missing)}; "
                "use the ONNX Runtime backend for this model"
            )
        _load_torch()
        opset = max((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), default=13)
        self.device = torch.device(device)
        dtype = torch.float16 if fp16 and self.device.type != "cpu" else torch.float32
        self._ctx = _Context(self.device, dtype, int(opset))
        graph = model.graph
        self._initializers: dict[str, Any] = {i.name: _tensor(onnx, i, self._ctx) for i in graph.initializer}
        self.inputs = [TensorSpec(i.name, _dims(i)) for i in graph.input if i.name not in self._initializers]
        self.outputs = [TensorSpec(o.name, _dims(o)) for o in graph.output]
        self.metadata: dict[str, str] = {p.key: p.value for p in model.metadata_props}
        self.opset = int(opset)
        self.dtype = dtype
        self._nodes: list[_Node] = []
        for index, node in enumerate(graph.node):
            attrs = {a.name: _attr_value(onnx, a, self._ctx) for a in node.attribute}
            self._nodes.append(
                _Node(node.op_type, list(node.input), list(node.output), attrs, node.name or f"{node.op_type}_{index}")
            )
        self._prepared: dict[tuple[tuple[int, ...], ...], _Prepared] = {}

    def _execute(self, node: _Node, values: Mapping[str, Any], host: Mapping[str, Any]) -> list[Any]:
        on_host = _HOST_INPUTS.get(node.op, frozenset())
        args = [
            None if not name else host[name] if i in on_host and name in host else values[name]
            for i, name in enumerate(node.inputs)
        ]
        try:
            out = _OPS[node.op](self._ctx, node, args)
        except UnsupportedGraph:
            raise
        except Exception as error:
            shapes = [None if a is None else tuple(a.shape) for a in args]
            raise RuntimeError(f"ONNX node {node.name} ({node.op}) failed on inputs {shapes}: {error}") from error
        return out

    def _prepare(self, feeds: Mapping[str, Any]) -> _Prepared:
        """Runs the whole graph once, eagerly: keeps every value that does not depend on the inputs' data (it
        depends on their shapes at most), and the list of nodes that do."""
        values: dict[str, Any] = dict(self._initializers)
        values.update(feeds)
        static_names = set(self._initializers)
        prepared = _Prepared()
        for node in self._nodes:
            outputs = self._execute(node, values, {})
            for name, value in zip(node.outputs, outputs, strict=False):
                if name:
                    values[name] = value
            inputs = [n for n in node.inputs if n]
            # Shape and Size read only the shape, fixed for this preparation.
            if node.op in ("Shape", "Size") or all(n in static_names for n in inputs):
                static_names.update(n for n in node.outputs if n)
            else:
                prepared.dynamic.append(node)
        self._place_static(prepared, values, static_names)
        graph_outputs = {o.name for o in self.outputs}
        for name in graph_outputs & static_names:
            prepared.static[name] = values[name]
        # After each dynamic node: the values no later node or output needs, freed as the pass goes.
        last_use: dict[str, int] = {}
        for position, node in enumerate(prepared.dynamic):
            for name in node.inputs:
                if name and name not in static_names:
                    last_use[name] = position
        prepared.release = [[] for _ in prepared.dynamic]
        for name, position in last_use.items():
            if name not in graph_outputs and name not in feeds:
                prepared.release[position].append(name)
        return prepared

    def _place_static(self, prepared: _Prepared, values: Mapping[str, Any], static_names: set[str]) -> None:
        """The static values dynamic nodes read: host inputs on the CPU, the rest on the device, moved once now."""
        for node in prepared.dynamic:
            host = _HOST_INPUTS.get(node.op, frozenset())
            for index, name in enumerate(node.inputs):
                if not name or name not in static_names:
                    continue
                value = values[name]
                if index in host:
                    prepared.host[name] = value.cpu()
                    continue
                if value.device != self.device and value.dim() > 0:
                    value = value.to(self.device)
                prepared.static[name] = value

    def run_tensors(self, feeds: Mapping[str, Any]) -> list[Any]:
        """Torch tensors in, torch tensors out (on the device, floats in the compute dtype)."""
        key = tuple(tuple(int(d) for d in feeds[spec.name].shape) for spec in self.inputs)
        prepared = self._prepared.get(key)
        if prepared is None:
            prepared = self._prepare(feeds)
            self._prepared[key] = prepared
        values: dict[str, Any] = dict(prepared.static)
        values.update(feeds)
        for node, release in zip(prepared.dynamic, prepared.release, strict=True):
            for name, value in zip(node.outputs, self._execute(node, values, prepared.host), strict=False):
                if name:
                    values[name] = value
            for name in release:
                values.pop(name, None)
        return [values[o.name] for o in self.outputs]

    def to_device(self, array: NDArray[Any]) -> Any:
        tensor = torch.from_numpy(np.ascontiguousarray(array))
        if tensor.is_floating_point():
            return tensor.to(self.device, self.dtype)
        return tensor.to(self.device)

    def run(self, feeds: Mapping[str, NDArray[Any]]) -> list[NDArray[Any]]:
        """Numpy in, numpy out (floats as float32), like an ONNX Runtime session's `run`."""
        with torch.no_grad():
            outputs = self.run_tensors({name: self.to_device(array) for name, array in feeds.items()})
        return [(o.float() if o.is_floating_point() else o).detach().cpu().numpy() for o in outputs]
