"""The OCR's memories of earlier frames, on the real PP-OCRv4 networks: a re-observed screen reads only what changed,
and reads it exactly as a first look at the same frame would, bit for bit."""

import numpy as np
import pytest

from sightline_host.ocr import OcrEngine
from sightline_host.ocr.geometry import crop_quad
from sightline_host.ocr.pipeline import OcrOptions, OcrPipeline
from sightline_host.ocr.pixel_cache import PixelCache, pixel_key
from sightline_host.protocol.types import TextLine
from sightline_host.vision.synthetic import relabel_sidebar, text_screen

NEW_LABEL = "Archive Notes"


def _region(rgb: np.ndarray) -> np.ndarray:
    # The menu, the first sidebar entries and the start of the paragraphs: a real screen's mix, in a third of the time.
    return np.ascontiguousarray(rgb[:400, :1000])


@pytest.fixture(scope="module")
def frames() -> tuple[np.ndarray, np.ndarray]:
    rgb, truth = text_screen(1920, 1080)
    relabelled, _ = relabel_sidebar(rgb, truth, 3, NEW_LABEL)
    return _region(rgb), _region(relabelled)


@pytest.fixture(scope="module")
def uncached() -> OcrEngine:
    return OcrEngine(
        backend="onnxruntime", options=OcrOptions(squeeze=0.85, rec_cache_entries=0, reuse_same_frame=False)
    )


def _bgr(rgb: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(rgb[:, :, ::-1])


def test_the_cache_keeps_the_most_recently_used_entries() -> None:
    cache: PixelCache[str] = PixelCache(2)
    a, b, c = (pixel_key(np.full((2, 3, 3), v, np.uint8)) for v in (1, 2, 3))
    cache.put(a, "a")
    cache.put(b, "b")
    assert cache.get(a) == "a"  # a is now the most recent, so b goes first
    cache.put(c, "c")
    assert (cache.get(a), cache.get(b), cache.get(c), len(cache)) == ("a", None, "c", 2)
    assert (cache.counts.hits, cache.counts.misses) == (3, 1)
    assert pixel_key(np.zeros((2, 3, 3), np.uint8)) != pixel_key(np.zeros((3, 2, 3), np.uint8))  # same bytes
    with pytest.raises(ValueError, match="at least one"):
        PixelCache[str](0)


def test_a_crop_reads_the_same_alone_as_in_any_batch(
    frames: tuple[np.ndarray, np.ndarray], uncached: OcrEngine
) -> None:
    """What makes the cache exact: a crop's reading does not depend on the crops batched with it."""
    pipeline = uncached.load()
    bgr = _bgr(frames[0])
    crops = [crop_quad(bgr, quad) for quad in pipeline.detect(bgr)]
    together = pipeline.recognize(crops)
    assert pipeline.times.batches < len(crops)  # some crops did share a batch
    alone = [pipeline.recognize([crop])[0] for crop in crops]
    assert together == alone


def _key(lines: list[TextLine]) -> list[tuple[object, ...]]:
    return [
        (ln["text"], ln["confidence"], ln["box"]["x"], ln["box"]["y"], ln["box"]["width"], ln["box"]["height"])
        for ln in lines
    ]


def test_a_re_observed_screen_reads_only_what_changed_and_as_a_first_look_would(
    frames: tuple[np.ndarray, np.ndarray], uncached: OcrEngine
) -> None:
    first, relabelled = frames
    engine = OcrEngine(backend="onnxruntime")
    assert _key(engine.read(first)) == _key(uncached.read(first))
    before = engine.last_times
    assert before is not None and before.rec_cached == 0 and not before.det_reused

    again = engine.read(relabelled)
    times = engine.last_times
    assert times is not None and not times.det_reused
    # The renamed entry (and any line whose box the detector now draws a pixel differently) is read afresh, the
    # rest comes from the cache; the result is the uncached one to the last bit of every confidence.
    assert times.crops // 2 <= times.rec_cached < times.crops
    assert _key(again) == _key(uncached.read(relabelled))
    texts = [line["text"] for line in again]
    assert NEW_LABEL.replace(" ", "") in [t.replace(" ", "") for t in texts]


def test_an_identical_frame_reuses_its_boxes_and_readings(frames: tuple[np.ndarray, np.ndarray]) -> None:
    engine = OcrEngine(backend="onnxruntime")
    first = engine.read(frames[1])
    second = engine.read(frames[1].copy())
    times = engine.last_times
    assert times is not None and times.det_reused and times.rec_cached == times.crops > 0
    assert _key(second) == _key(first)
    engine.forget()
    engine.read(frames[1])
    times = engine.last_times
    assert times is not None and not times.det_reused and times.rec_cached == 0


def test_the_same_pixels_twice_on_screen_are_read_once(
    frames: tuple[np.ndarray, np.ndarray], uncached: OcrEngine
) -> None:
    models = uncached.load().models
    pipeline = OcrPipeline(models, OcrOptions(squeeze=0.85))
    bgr = _bgr(frames[0])
    crops = [crop_quad(bgr, quad) for quad in pipeline.detect(bgr)][:2]
    read = pipeline.recognize([crops[0], crops[1], crops[0].copy()])
    assert read[0] == read[2] and pipeline.times.rec_cached == 1
    assert pipeline.rec_cache is not None and len(pipeline.rec_cache) == 2
