"""How many threads the OCR's ONNX Runtime sessions use: ONNX Runtime's choice unless SIGHTLINE_OCR_THREADS says,
and the count never changes what is read."""

import numpy as np
import pytest

from sightline_host.ocr import OcrEngine
from sightline_host.ocr.engine import cpu_threads_from_env
from sightline_host.ocr.pipeline import OcrOptions
from sightline_host.vision.synthetic import text_screen


def test_the_thread_count_is_onnx_runtimes_unless_the_environment_says(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SIGHTLINE_OCR_THREADS", raising=False)
    assert cpu_threads_from_env() == 0 and OcrEngine().cpu_threads == 0  # 0: ONNX Runtime decides
    monkeypatch.setenv("SIGHTLINE_OCR_THREADS", "3")
    assert cpu_threads_from_env() == 3 and OcrEngine().cpu_threads == 3
    assert OcrEngine(cpu_threads=1).cpu_threads == 1
    for bad in ("-1", "two"):
        monkeypatch.setenv("SIGHTLINE_OCR_THREADS", bad)
        with pytest.raises(ValueError, match="SIGHTLINE_OCR_THREADS"):
            cpu_threads_from_env()


def test_one_thread_reads_exactly_what_two_read() -> None:
    rgb, _ = text_screen(1920, 1080)
    region = np.ascontiguousarray(rgb[:400, :1000])
    memoryless = OcrOptions(squeeze=0.85, rec_cache_entries=0, reuse_same_frame=False)
    one = OcrEngine(backend="onnxruntime", cpu_threads=1, options=memoryless)
    two = OcrEngine(backend="onnxruntime", cpu_threads=2, options=memoryless)
    read_one = [(line.text, line.score, line.quad.tolist()) for line in one.read_quads(region)]
    read_two = [(line.text, line.score, line.quad.tolist()) for line in two.read_quads(region)]
    assert "1 thread" in one.description and "2 threads" in two.description
    assert len(read_one) >= 8 and read_one == read_two
