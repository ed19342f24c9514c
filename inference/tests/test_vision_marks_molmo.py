"""Set-of-marks drawing, and Molmo's point syntax parsed from answers in Molmo's own output format."""

import numpy as np
import pytest
from PIL import Image

from sightline_host.protocol.types import Element
from sightline_host.vision.molmo_points import MolmoPoint, parse_points
from sightline_host.vision.set_of_marks import KIND_COLOURS, draw_marks
from sightline_host.vision.vocabulary import ElementKind


def element(number: int, kind: ElementKind, x: float, y: float, width: float, height: float) -> Element:
    return {
        "id": number,
        "kind": kind,
        "text": "",
        "box": {"x": x, "y": y, "width": width, "height": height},
        "confidence": 0.9,
    }


def test_marks_outline_each_box_in_its_kind_colour_with_its_number() -> None:
    screen = Image.new("RGB", (400, 300), "white")
    marked = draw_marks(screen, [element(1, "button", 100, 100, 120, 40), element(2, "text", 0, 0, 80, 20)])
    pixels = np.asarray(marked)
    assert marked.size == screen.size and np.asarray(screen).min() == 255  # the input is untouched
    # The button's outline, on its bottom edge away from the tag.
    assert tuple(pixels[140, 160]) == KIND_COLOURS["button"]
    # Its tag sits above the box's top-left corner and carries white digits on the kind's colour.
    tag = pixels[84:100, 100:115].reshape(-1, 3)
    assert (tag == KIND_COLOURS["button"]).all(axis=1).sum() > 20 and (tag == 255).all(axis=1).sum() > 3
    # Inside the box nothing is drawn.
    assert (pixels[110:130, 110:210] == 255).all()
    # The element at the top edge gets its tag inside the image, not cut off above it.
    assert (pixels[0:12, 0:12] == KIND_COLOURS["text"]).all(axis=2).sum() > 20


def test_marks_on_no_elements_is_a_copy_and_empty_images_are_refused() -> None:
    screen = Image.new("RGB", (50, 40), (10, 20, 30))
    copy = draw_marks(screen, [])
    assert copy is not screen and np.array_equal(np.asarray(copy), np.asarray(screen))
    with pytest.raises(ValueError, match="nothing to draw on"):
        draw_marks(Image.new("RGB", (0, 10)), [])


# Answers as Molmo writes them (olmo/data/data_formatter.py: `points_to_text`, one decimal, percent of the image,
# several points sorted by x as x1/y1, x2/y2 …), including its counting template.
SINGLE = '<point x="61.5" y="47.7" alt="Save button">Save</point>'
COUNTED = (
    'Counting the <points x1="12.3" y1="4.0" x2="40.0" y2="4.0" x3="87.5" y3="95.2" alt="tabs">tabs</points> '
    "shows a total of 3."
)


def test_a_single_point_maps_percent_to_pixels() -> None:
    (point,) = parse_points(SINGLE, 1920, 1080)
    assert (point.x, point.y) == pytest.approx((1180.8, 515.16))
    assert (point.label, point.alt) == ("Save", "Save button")


def test_several_points_in_index_order() -> None:
    points = parse_points(COUNTED, 1000, 500)
    assert [(round(p.x, 1), round(p.y, 1)) for p in points] == [(123.0, 20.0), (400.0, 20.0), (875.0, 476.0)]
    assert {p.label for p in points} == {"tabs"} and {p.alt for p in points} == {"tabs"}


def test_answers_without_points_or_with_invalid_ones() -> None:
    assert parse_points("There are none.", 100, 100) == []
    assert parse_points("This isn't in the image.", 100, 100) == []
    # Over 100 percent is an invalid answer (Molmo's own evaluation skips it); so is a half pair or a non-number.
    assert parse_points('<point x="120.0" y="5.0" alt="a">a</point>', 100, 100) == []
    assert parse_points('<points x1="10.0" y1="10.0" x2="20.0" alt="b">b</points>', 100, 100) == [
        MolmoPoint(10.0, 10.0, "b", "b")
    ]
    assert parse_points('<point x="abc" y="5" alt="c">c</point>', 100, 100) == []
    with pytest.raises(ValueError, match="pixels"):
        parse_points(SINGLE, 0, 100)


def test_two_tags_in_one_answer_and_escaped_text() -> None:
    text = (
        'Click <point x="10.0" y="20.0" alt="&quot;OK&quot; button">OK</point> then '
        "<point x='90.0' y='20.0' alt='Cancel'>Cancel</point>."
    )
    assert parse_points(text, 200, 100) == [
        MolmoPoint(20.0, 20.0, "OK", '"OK" button'),
        MolmoPoint(180.0, 20.0, "Cancel", "Cancel"),
    ]


def test_molmo2_coords_in_thousandths() -> None:
    # Molmo 2: image index 1, then point index, x, y in thousandths.
    points = parse_points('<points coords="1 1 098 629 2 162 629" alt="boats">boats</points>', 1000, 500)
    assert [(round(p.x, 1), round(p.y, 1)) for p in points] == [(98.0, 314.5), (162.0, 314.5)]
