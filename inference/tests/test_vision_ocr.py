"""The OCR engine's input-size setting: how far a large frame is shrunk before it is read."""

import pytest

from sightline_host.ocr import OcrEngine
from sightline_host.ocr.engine import SQUEEZE


def test_the_input_cap_comes_from_the_argument_then_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SIGHTLINE_OCR_MAX_SIDE", raising=False)
    assert OcrEngine().max_side == 2000  # RapidOCR's own default
    monkeypatch.setenv("SIGHTLINE_OCR_MAX_SIDE", "4096")
    assert OcrEngine().max_side == 4096
    assert OcrEngine(max_side=3000).max_side == 3000
    monkeypatch.setenv("SIGHTLINE_OCR_MAX_SIDE", "full")
    assert OcrEngine().max_side == 2000
    with pytest.raises(ValueError, match="at least 32"):
        OcrEngine(max_side=10)


def test_the_engine_hands_its_cap_to_the_pipeline_and_narrows_crops_on_the_cpu() -> None:
    engine = OcrEngine(max_side=4096, backend="onnxruntime")
    pipeline = engine.load()
    assert pipeline.options.max_side == 4096 and pipeline.options.squeeze == SQUEEZE
