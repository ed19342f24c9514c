"""Letterboxing, YOLO output decoding and NMS: the numpy code between the image and the model, and back."""

import numpy as np
import pytest

from sightline_host.vision.letterbox import PAD_VALUE, BadImage, letterbox
from sightline_host.vision.nms import class_aware_nms, nms
from sightline_host.vision.yolo_decode import OutputLayoutError, decode


def test_letterbox_centres_the_image_and_maps_boxes_back_exactly() -> None:
    rgb = np.zeros((1080, 1920, 3), np.uint8)
    rgb[:, :, 0] = 200
    tensor, placement = letterbox(rgb, 640, 640)
    assert tensor.shape == (1, 3, 640, 640) and tensor.dtype == np.float32
    # 1920x1080 → 640x360, 140 rows of padding above and below.
    assert (placement.pad_x, placement.pad_y) == (0, 140)
    assert tensor[0, 0, 0, 0] == pytest.approx(PAD_VALUE / 255)
    assert tensor[0, 0, 140, 0] == pytest.approx(200 / 255)
    assert tensor[0, 0, 139 + 361, 0] == pytest.approx(PAD_VALUE / 255)
    screen = np.array([[100, 50, 300, 90], [0, 0, 1920, 1080]], np.float32)
    np.testing.assert_allclose(placement.to_source(placement.to_input(screen)), screen, atol=1e-3)


def test_letterbox_keeps_odd_sizes_exact_per_axis() -> None:
    tensor, placement = letterbox(np.zeros((7, 1001, 3), np.uint8), 640, 640)
    back = placement.to_source(
        np.array([[placement.pad_x, placement.pad_y, 640 - placement.pad_x, 640 - placement.pad_y]], np.float32)
    )
    np.testing.assert_allclose(back, [[0, 0, 1001, 7]], atol=1e-3)
    assert tensor.shape == (1, 3, 640, 640)


@pytest.mark.parametrize(
    ("shape", "dtype", "message"),
    [
        ((0, 10, 3), np.uint8, "no pixels"),
        ((10, 0, 3), np.uint8, "no pixels"),
        ((10, 10), np.uint8, "RGB"),
        ((10, 10, 4), np.uint8, "RGB"),
        ((10, 10, 3), np.float32, "uint8"),
    ],
)
def test_letterbox_refuses_unusable_images(shape: tuple[int, ...], dtype: type, message: str) -> None:
    with pytest.raises(BadImage, match=message):
        letterbox(np.zeros(shape, dtype), 640, 640)


def _output(anchors: list[tuple[float, float, float, float, list[float]]], num_classes: int) -> np.ndarray:
    out = np.zeros((1, 4 + num_classes, len(anchors) + 5), np.float32)
    for i, (cx, cy, w, h, scores) in enumerate(anchors):
        out[0, :4, i] = (cx, cy, w, h)
        out[0, 4:, i] = scores
    return out


def test_decode_reads_centre_size_boxes_and_the_best_class() -> None:
    out = _output([(100, 50, 20, 10, [0.1, 0.9, 0.3]), (300, 300, 40, 40, [0.6, 0.2, 0.1])], 3)
    (found,) = decode(out, 3, score_threshold=0.25)
    order = np.argsort(found.boxes[:, 0])
    np.testing.assert_allclose(found.boxes[order], [[90, 45, 110, 55], [280, 280, 320, 320]])
    assert found.class_ids[order].tolist() == [1, 0]
    np.testing.assert_allclose(found.scores[order], [0.9, 0.6])


def test_decode_drops_low_scores_and_suppresses_duplicates_within_a_class_only() -> None:
    out = _output(
        [
            (100, 100, 40, 40, [0.9, 0.0]),
            (102, 101, 40, 40, [0.8, 0.0]),  # same element, same class: suppressed
            (101, 100, 40, 40, [0.0, 0.7]),  # same place, other class: kept
            (400, 400, 40, 40, [0.2, 0.1]),  # below threshold
        ],
        2,
    )
    (found,) = decode(out, 2, score_threshold=0.25, iou_threshold=0.45)
    found_pairs = sorted((int(c), round(float(s), 2)) for c, s in zip(found.class_ids, found.scores, strict=True))
    assert found_pairs == [(0, 0.9), (1, 0.7)]


def test_decode_of_an_empty_screen_is_empty() -> None:
    (found,) = decode(np.zeros((1, 6, 8400), np.float32), 2)
    assert len(found) == 0 and found.boxes.shape == (0, 4)


@pytest.mark.parametrize(
    ("shape", "message"),
    [
        ((1, 84, 8400), "80 classes but the vocabulary names 2"),
        ((1, 8400, 6), "transposed"),
        ((6, 8400), "3 dimensions"),
    ],
)
def test_decode_refuses_other_layouts_naming_them(shape: tuple[int, ...], message: str) -> None:
    with pytest.raises(OutputLayoutError, match=message):
        decode(np.zeros(shape, np.float32), 2)


def test_nms_keeps_the_best_of_overlapping_boxes_in_score_order() -> None:
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30], [0, 0, 10, 10]], np.float32)
    scores = np.array([0.5, 0.9, 0.7, 0.1], np.float32)
    assert nms(boxes, scores, 0.5).tolist() == [1, 2]
    assert class_aware_nms(boxes, scores, np.array([0, 0, 0, 1]), 0.5).tolist() == [1, 2, 3]
    assert nms(np.zeros((0, 4), np.float32), np.zeros(0, np.float32), 0.5).tolist() == []
