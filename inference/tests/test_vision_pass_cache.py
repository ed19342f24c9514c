"""The detector's passes remembered by their pixels, through a real ONNX Runtime session: a re-observed screen
reruns only the passes whose pixels changed, and finds exactly what a detector without the memory finds."""

from pathlib import Path

import numpy as np
import pytest

from sightline_host.vision.detector import Detector, DetectorOptions
from sightline_host.vision.synthetic import square_finder


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return square_finder(tmp_path_factory.mktemp("models") / "squares.onnx", classes=("checkbox", "icon"))


def _screen() -> np.ndarray:
    rgb = np.full((1080, 1920, 3), 255, np.uint8)
    for x, y in ((100, 100), (900, 500), (1700, 900), (1500, 200)):
        rgb[y : y + 16, x : x + 16] = 0
    return rgb


def test_a_changed_corner_reruns_only_the_passes_that_see_it(model: Path) -> None:
    detector = Detector(model)
    plain = Detector(model, options=DetectorOptions(pass_cache_entries=0))
    assert detector.pass_cache is not None and plain.pass_cache is None  # on by default on a CPU
    tiles = detector.plan(1920, 1080)
    assert len(tiles) == 2  # 1080p: the whole screen and two overlapping tiles
    first = _screen()
    assert detector.detect(first) == plain.detect(first)
    assert (detector.pass_cache.counts.hits, detector.pass_cache.counts.misses) == (0, 3)

    changed = first.copy()
    changed[300:316, 60:76] = 0  # a new checkbox at the left edge: the whole pass and the left tile see it
    found = detector.detect(changed)
    assert (detector.pass_cache.counts.hits, detector.pass_cache.counts.misses) == (1, 5)
    assert found == plain.detect(changed)
    assert len(found) == 5


def test_the_remembered_boxes_cannot_be_changed_by_their_user(model: Path) -> None:
    detector = Detector(model, options=DetectorOptions(tiling=False))
    rgb = _screen()
    raw = detector.detect_raw(rgb)
    raw.boxes[:] = -1
    assert (detector.detect_raw(rgb).boxes >= 0).all()
    assert detector.pass_cache is not None and detector.pass_cache.counts.hits == 1
    detector.forget()
    assert len(detector.pass_cache) == 0
