"""The OCR's own pre- and post-processing, and the whole pipeline against what a synthetic screen drew."""

import numpy as np
import pytest

from sightline_host.ocr import OcrEngine
from sightline_host.ocr.accuracy import edit_distance, score_lines
from sightline_host.ocr.ctc import CtcDecoder
from sightline_host.ocr.db_postprocess import boxes_from_map, keep_on_frame
from sightline_host.ocr.geometry import crop_quad, order_clockwise, pad_thin, reading_order
from sightline_host.ocr.models import choose_backend
from sightline_host.ocr.pipeline import OcrOptions, det_input
from sightline_host.ocr.rec_batches import GPU_BUCKETING, MIN_WIDTH, Bucketing, fill_batch, normalize, plan_batches
from sightline_host.protocol.types import TextLine
from sightline_host.vision.synthetic import TextTruth, text_screen


def test_ctc_merges_repeats_drops_blanks_and_keeps_a_letter_repeated_across_a_blank() -> None:
    decoder = CtcDecoder(["a", "b", "l", " "])
    best = np.array([[0, 3, 3, 0, 3, 1, 1, 0], [0, 0, 0, 0, 0, 0, 0, 0]])
    prob = np.array([[0.9, 0.8, 0.6, 0.9, 1.0, 0.5, 0.7, 0.9], [0.9] * 8])
    (text, score), (empty, none) = decoder.decode(best, prob)
    assert text == "lla"  # l l (merged), blank, l, a a (merged)
    assert score == pytest.approx((0.8 + 1.0 + 0.5) / 3)
    assert (empty, none) == ("", 0.0)


def test_ctc_reads_the_dictionary_with_the_space_last() -> None:
    decoder = CtcDecoder.from_dictionary("x\ny\n")
    assert decoder.classes == ["", "x", "y", " "]


def _blob_map(height: int, width: int, blobs: list[tuple[int, int, int, int]]) -> np.ndarray:
    prob = np.zeros((height, width), np.float32)
    for x, y, w, h in blobs:
        prob[y : y + h, x : x + w] = 0.9
    return prob


def test_db_boxes_are_the_blobs_grown_by_the_unclip_distance_and_scaled_to_the_frame() -> None:
    prob = _blob_map(64, 200, [(20, 10, 100, 10), (30, 40, 40, 8), (150, 50, 2, 2)])
    quads, scores = boxes_from_map(prob, 2.0, 2.0)
    assert len(quads) == 2  # the 2x2 speck is below the minimum size
    assert all(0.7 < s <= 0.9 for s in scores)  # the dilated box takes in a row and a column of background
    first = max(quads, key=lambda q: float(q[:, 0].max() - q[:, 0].min()))
    # 100x10 (the dilated blob is 101x11): grown by area * 1.6 / perimeter = 7.9 px a side, then doubled.
    grow = 101 * 11 * 1.6 / (2 * (101 + 11))
    assert float(first[:, 0].max() - first[:, 0].min()) == pytest.approx(2 * (100 + 2 * grow), abs=4)
    assert float(first[:, 1].max() - first[:, 1].min()) == pytest.approx(2 * (10 + 2 * grow), abs=4)
    assert float(first[:, 0].min()) == pytest.approx(2 * (20 - grow), abs=3)


def test_db_drops_faint_blobs_and_clips_quads_to_the_frame() -> None:
    prob = _blob_map(40, 80, [(0, 0, 60, 10)])
    prob[25:35, 10:60] = 0.35  # over the threshold but its mean is under box_thresh
    quads, _ = boxes_from_map(prob, 1.0, 1.0)
    assert len(quads) == 1
    kept = keep_on_frame(quads, 80, 40)
    assert float(kept[0].min()) >= 0 and float(kept[0][:, 0].max()) <= 79 and float(kept[0][:, 1].max()) <= 39


def test_quads_are_ordered_clockwise_and_read_top_down_then_left_to_right() -> None:
    square = np.array([[10, 0], [0, 0], [0, 10], [10, 10]], np.float32)
    assert order_clockwise(square).tolist() == [[0, 0], [10, 0], [10, 10], [0, 10]]

    def at(x: float, y: float) -> np.ndarray:
        return np.array([[x, y], [x + 5, y], [x + 5, y + 5], [x, y + 5]], np.float32)

    quads = [at(100, 52), at(0, 50), at(50, 0), at(0, 100)]
    assert reading_order(quads) == [2, 1, 0, 3]


def test_a_tall_crop_is_turned_to_lie_flat() -> None:
    image = np.zeros((100, 100, 3), np.uint8)
    quad = np.array([[10, 10], [20, 10], [20, 60], [10, 60]], np.float32)
    assert crop_quad(image, quad).shape[:2] == (10, 50)
    wide = np.array([[10, 10], [60, 10], [60, 20], [10, 20]], np.float32)
    assert crop_quad(image, wide).shape[:2] == (10, 50)


def test_the_detector_input_is_padded_to_multiples_of_32_without_resampling_a_screen() -> None:
    frame = np.random.default_rng(0).integers(0, 255, (1080, 1920, 3), dtype=np.uint8)
    image, size = det_input(frame, OcrOptions())
    assert image.shape == (1088, 1920, 3) and size == (1920, 1080)
    assert np.array_equal(image[:1080], frame) and np.array_equal(image[1080:], np.repeat(frame[-1:], 8, axis=0))
    half, size = det_input(frame, OcrOptions(det_scale=0.5))
    assert size == (960, 540) and half.shape == (544, 960, 3)
    small, size = det_input(frame[:300, :400], OcrOptions())  # PP-OCR scales a small image up to a 736 short side
    assert size == (981, 736) and small.shape == (736, 992, 3)
    # Two 1080p displays side by side: shrinking to max_side would break the short-side floor, so no resampling.
    wide = np.zeros((1080, 3840, 3), np.uint8)
    assert det_input(wide, OcrOptions())[1] == (3840, 1080)
    # A 4K frame fits both: it is shrunk to max_side.
    assert det_input(np.zeros((2160, 3840, 3), np.uint8), OcrOptions())[1] == (2000, 1125)


def test_thin_strips_are_padded_to_a_quarter_of_their_length() -> None:
    strip = np.full((40, 2000, 3), 200, np.uint8)
    assert pad_thin(strip).shape == (500, 2000, 3)
    assert pad_thin(np.zeros((600, 800, 3), np.uint8)).shape == (600, 800, 3)


def test_batches_group_crops_by_width_bucket_and_pad_to_allowed_sizes() -> None:
    bucketing = Bucketing(widths=(320, 640, 1280), batch_sizes=(1, 4, 16), max_pixels=16 * 640)
    widths = [100, 300, 700, 650, 2000, 330, 340, 350, 360, 370]
    batches = plan_batches(widths, bucketing)
    assert [(b.width, b.size, b.indices) for b in batches] == [
        (320, 4, (0, 1)),
        (640, 16, (5, 6, 7, 8, 9)),
        (1280, 4, (2, 3, 4)),  # 16 x 1280 is over the pixel budget; 2000 is squeezed into the widest bucket
    ]
    every = sorted(i for b in batches for i in b.indices)
    assert every == list(range(len(widths)))
    assert all(GPU_BUCKETING.bucket(w) >= min(w, GPU_BUCKETING.widths[-1]) for w in range(1, 5000, 37))


def test_a_batch_is_resized_crops_then_padding_that_normalizes_to_zero() -> None:
    rng = np.random.default_rng(1)
    crops = [rng.integers(0, 255, (20, 100, 3), dtype=np.uint8), rng.integers(0, 255, (24, 48, 3), dtype=np.uint8)]
    widths = [240, 96]
    batch = plan_batches(widths, Bucketing((MIN_WIDTH,), (1, 4), 4 * MIN_WIDTH))[0]
    pixels, content = fill_batch(crops, widths, batch)
    assert pixels.shape == (4, 48, 320, 3) and content.tolist() == [240, 96, 0, 0]
    x = normalize(pixels, content)
    assert x.shape == (4, 3, 48, 320)
    assert np.all(x[0, :, :, 240:] == 0) and np.all(x[2:] == 0)
    assert np.allclose(x[0, :, :, :240], pixels[0, :, :240].transpose(2, 0, 1) / 127.5 - 1, atol=1e-6)


def test_backend_choice_follows_the_gpu_and_the_override() -> None:
    assert choose_backend("auto", torch_cuda=True) == "torch"
    assert choose_backend("auto", torch_cuda=False) == "onnxruntime"
    assert choose_backend("onnxruntime", torch_cuda=True) == "onnxruntime"
    assert choose_backend("torch", torch_cuda=False) == "torch"
    with pytest.raises(ValueError, match="unknown OCR backend"):
        choose_backend("tensorrt", torch_cuda=True)


def test_the_engine_reads_its_backend_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIGHTLINE_OCR_BACKEND", "onnxruntime")
    monkeypatch.setenv("SIGHTLINE_OCR_DEVICE", "cuda:1")
    engine = OcrEngine()
    assert (engine.backend, engine.device) == ("onnxruntime", "cuda:1")
    assert OcrEngine(backend="torch").backend == "torch"


def test_accuracy_scoring_counts_split_lines_misreads_and_strays() -> None:
    truth = [TextTruth("File Edit", (0, 0, 100, 20)), TextTruth("Save", (0, 50, 40, 20))]

    def line(text: str, x: float, y: float, w: float) -> TextLine:
        return {"text": text, "box": {"x": x, "y": y, "width": w, "height": 20}, "confidence": 1.0}

    lines = [line("Edit", 55, 0, 45), line("File", 0, 0, 40), line("Sane", 0, 50, 40), line("x", 500, 500, 10)]
    accuracy = score_lines(lines, truth)
    assert (accuracy.found, accuracy.exact, accuracy.stray) == (2, 1, 1)
    assert accuracy.char_accuracy == pytest.approx((1 + 0.75) / 2)
    assert edit_distance("kitten", "sitting") == 3


def test_the_pipeline_reads_every_line_of_a_synthetic_screen_exactly() -> None:
    rgb, truth = text_screen(1920, 1080)
    region = rgb[:400, :1000]
    drawn = [t for t in truth if t.box[0] + t.box[2] <= 1000 and t.box[1] + t.box[3] <= 400]
    lines = OcrEngine(backend="onnxruntime").read(region)
    accuracy = score_lines(lines, drawn)
    assert accuracy.lines >= 8 and accuracy.found == accuracy.lines
    assert accuracy.exact >= accuracy.lines - 1 and accuracy.char_accuracy >= 0.99
