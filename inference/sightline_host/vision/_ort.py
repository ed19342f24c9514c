"""ONNX Runtime, imported on first use: it takes a second or more to import and the host must answer at once.

ONNX Runtime ships no type information, so it is handled as `Any` here, in one place."""

import importlib
from functools import cache
from typing import Any


@cache
def ort() -> Any:
    return importlib.import_module("onnxruntime")
