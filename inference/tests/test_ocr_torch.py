"""The OCR's PyTorch path (PP-OCRv4 through `onnx_torch`) gives what ONNX Runtime gives: the detector's probability
map and boxes, and the recognizer's text and scores, on a synthetic screen. On CPU in float32 everywhere PyTorch is
installed; on a GPU too (half precision), where there is one."""

import importlib.util
from typing import Any

import numpy as np
import pytest

from sightline_host.ocr.db_postprocess import boxes_from_map
from sightline_host.ocr.engine import bundled_models
from sightline_host.ocr.geometry import crop_quad
from sightline_host.ocr.models import ModelFiles, OrtModels, TorchModels
from sightline_host.ocr.pipeline import OcrOptions, OcrPipeline, det_input
from sightline_host.vision.synthetic import text_screen

HAS_TORCH = importlib.util.find_spec("torch") is not None
pytestmark = pytest.mark.skipif(not HAS_TORCH, reason="PyTorch is not installed")


def _devices() -> list[str]:
    if not HAS_TORCH:
        return []
    import torch  # noqa: PLC0415

    return ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


@pytest.fixture(scope="module")
def files() -> ModelFiles:
    return bundled_models()


@pytest.fixture(scope="module")
def reference(files: ModelFiles) -> OcrPipeline:
    return OcrPipeline(OrtModels(files))


@pytest.fixture(scope="module")
def region() -> Any:
    rgb, _ = text_screen(1920, 1080)
    # 736 rows: PP-OCR's detector scale needs no resampling; the sidebar and the start of the paragraphs.
    return np.ascontiguousarray(rgb[:736, :736, ::-1])


@pytest.mark.parametrize("device", _devices())
def test_the_detector_map_and_boxes_match_onnxruntime(
    files: ModelFiles, reference: OcrPipeline, region: Any, device: str
) -> None:
    torch_models = TorchModels(files, device)
    image, _ = det_input(region, OcrOptions())
    want = reference.models.det(image)
    got = torch_models.det(image)
    assert got.shape == want.shape and np.isfinite(got).all()
    tolerance = 1e-4 if device == "cpu" else 2e-2
    assert float(np.abs(got - want).mean()) < tolerance / 10
    assert float(np.quantile(np.abs(got - want), 0.999)) < tolerance * 10
    want_quads, _ = boxes_from_map(want, 1.0, 1.0)
    got_quads, _ = boxes_from_map(got, 1.0, 1.0)
    assert len(want_quads) >= 30
    matched = sum(1 for a in want_quads if any(np.abs(a - b).max() <= 2 for b in got_quads))
    # Half precision may tip one faint blob over a threshold; float32 gives every box.
    assert matched >= len(want_quads) - (0 if device == "cpu" else 1)
    assert abs(len(got_quads) - len(want_quads)) <= (0 if device == "cpu" else 1)


@pytest.mark.parametrize("device", _devices())
def test_the_recognizer_reads_the_same_text_as_onnxruntime(
    files: ModelFiles, reference: OcrPipeline, region: Any, device: str
) -> None:
    quads = reference.detect(region)
    # A few short and a few long lines: several width buckets, and a batch with padding rows.
    chosen = quads[:4] + quads[-3:]
    crops = [crop_quad(region, q) for q in chosen]
    want = reference.recognize(crops)
    got = OcrPipeline(TorchModels(files, device)).recognize(crops)
    assert all(text for text, _ in want)
    if device == "cpu":
        assert [text for text, _ in got] == [text for text, _ in want]
    else:
        # On a GPU (half precision, TF32 convolutions even in float32) a space whose probability sits near the
        # blank's may go either way; the letters may not.
        assert [text.replace(" ", "") for text, _ in got] == [text.replace(" ", "") for text, _ in want]
    tolerance = 1e-4 if device == "cpu" else 2e-2
    assert [score for _, score in got] == pytest.approx([score for _, score in want], abs=tolerance)


def test_a_batch_norm_whose_variance_overflows_half_precision_stays_finite() -> None:
    import torch  # noqa: PLC0415

    from sightline_host.vision import onnx_torch  # noqa: PLC0415

    onnx_torch._load_torch()
    x = torch.randn(2, 4, 5, 5)
    scale, bias, mean = torch.rand(4) + 0.5, torch.randn(4), torch.randn(4)
    var = torch.tensor([1.0, 2.0, 9.8e7, 0.5])  # PP-OCRv4's detector has one like the third
    want = torch.nn.functional.batch_norm(x, mean, var, scale, bias, False, 0.0, 1e-5)
    ctx = onnx_torch._Context(torch.device("cpu"), torch.float16, 12)
    node = onnx_torch._Node("BatchNormalization", [], ["y"], {"epsilon": 1e-5}, "bn")
    got = onnx_torch._batch_norm(ctx, node, [x.half(), scale.half(), bias.half(), mean.half(), var])[0]
    assert got.dtype == torch.float16 and torch.isfinite(got).all()
    assert float((got.float() - want).abs().max()) < 1e-2
