"""The OCR engine's input-size setting: how far RapidOCR shrinks a large frame before it reads it."""

import pytest

from sightline_host.ocr import OcrEngine


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


def test_the_engine_hands_its_cap_to_rapidocr() -> None:
    engine = OcrEngine(max_side=4096)
    engine.load()
    assert engine._engine.max_side_len == 4096
