"""One element list: controls labelled by their text, duplicates collapsed, ids in reading order."""

import re
from pathlib import Path
from typing import get_args

from sightline_host.protocol import host_problem, schema
from sightline_host.protocol import types as protocol_types
from sightline_host.protocol.types import Element, TextLine
from sightline_host.vision.detector import Detection
from sightline_host.vision.merge import merge_elements
from sightline_host.vision.reading_order import reading_order
from sightline_host.vision.vocabulary import ELEMENT_KINDS, UI_VOCABULARY, ElementKind, kind_of

ROOT = Path(__file__).resolve().parents[2]


def line(text: str, x: float, y: float, width: float, height: float = 16, confidence: float = 0.95) -> TextLine:
    return {"text": text, "box": {"x": x, "y": y, "width": width, "height": height}, "confidence": confidence}


def det(kind: ElementKind, x: float, y: float, width: float, height: float, confidence: float = 0.8) -> Detection:
    return Detection(kind, kind, x, y, width, height, confidence)


def summary(elements: list[Element]) -> list[tuple[int, str, str]]:
    return [(e["id"], e["kind"], e["text"]) for e in elements]


def test_text_inside_a_control_labels_it_and_the_rest_stays_text() -> None:
    elements = merge_elements(
        [det("button", 500, 300, 120, 36), det("text_field", 100, 300, 300, 36), det("icon", 20, 20, 24, 24)],
        [line("Save", 530, 310, 50), line("Search files", 110, 310, 120), line("Recent documents", 60, 24, 160)],
    )
    assert summary(elements) == [
        (1, "icon", ""),
        (2, "text", "Recent documents"),
        (3, "text_field", "Search files"),
        (4, "button", "Save"),
    ]
    # The control keeps its own box and confidence.
    assert elements[3]["box"] == {"x": 500, "y": 300, "width": 120, "height": 36}
    assert elements[3]["confidence"] == 0.8


def test_the_smallest_control_around_the_text_takes_it() -> None:
    # A toolbar-sized "other" box around a button: the caption belongs to the button.
    elements = merge_elements(
        [det("other", 0, 0, 800, 60, 0.9), det("button", 300, 10, 100, 40)], [line("Export", 320, 22, 60)]
    )
    assert [(e["kind"], e["text"]) for e in elements] == [("other", ""), ("button", "Export")]


def test_a_control_with_two_lines_reads_them_in_order() -> None:
    elements = merge_elements([det("button", 0, 0, 200, 80)], [line("to PDF", 10, 40, 60), line("Export", 10, 10, 60)])
    assert summary(elements) == [(1, "button", "Export to PDF")]


def test_a_checkbox_takes_its_label_from_the_right() -> None:
    elements = merge_elements(
        [det("checkbox", 100, 200, 16, 16), det("radio", 100, 260, 16, 16)],
        [line("Remember me", 124, 200, 110), line("Far away text", 600, 262, 110), line("Heading", 100, 150, 80)],
    )
    assert summary(elements) == [
        (1, "text", "Heading"),
        (2, "checkbox", "Remember me"),
        (3, "radio", ""),
        (4, "text", "Far away text"),
    ]


def test_a_checkbox_the_ocr_read_into_its_label_takes_the_label_without_it() -> None:
    # PP-OCR reads a filled checkbox as "1" (a radio button as "O") and joins it to the label on its right.
    elements = merge_elements(
        [det("checkbox", 84, 308, 16, 16), det("radio", 84, 368, 16, 16), det("checkbox", 84, 428, 16, 16)],
        [
            line("1 Remember my choice", 95, 304, 250, 24),
            line("O Send me a copy", 79, 362, 200, 30),  # padded: starts left of the box
            line("2 items selected", 110, 424, 180, 24),  # starts right of the box: "2" is the label's own
        ],
    )
    assert summary(elements) == [
        (1, "checkbox", "Remember my choice"),
        (2, "radio", "Send me a copy"),
        (3, "checkbox", "2 items selected"),
    ]


def test_duplicates_collapse() -> None:
    elements = merge_elements(
        [
            det("button", 100, 100, 80, 30, 0.9),
            det("button", 102, 101, 80, 30, 0.6),
            det("icon", 101, 100, 80, 30, 0.5),
        ],
        [
            line("OK", 120, 107, 30),
            line("ok", 121, 107, 30, confidence=0.7),
            line("Cancel", 400, 107, 60),
            line("Cancel", 400, 300, 60),
        ],
    )
    # One button (the most confident), one "OK"; the two "Cancel"s are at different places, so both stay.
    assert summary(elements) == [(1, "button", "OK"), (2, "text", "Cancel"), (3, "text", "Cancel")]


def test_reading_order_is_per_column_under_a_full_width_header() -> None:
    boxes = [
        (0, 0, 1000, 20),  # 0 title bar, full width
        (20, 60, 150, 16),  # 1 sidebar item 1
        (400, 62, 300, 16),  # 2 content line 1 (level with sidebar item 1)
        (20, 90, 150, 16),  # 3 sidebar item 2
        (400, 88, 300, 16),  # 4 content line 2
        (20, 120, 150, 16),  # 5 sidebar item 3
        (0, 400, 1000, 20),  # 6 status bar, full width
    ]
    assert reading_order(boxes) == [0, 1, 3, 5, 2, 4, 6]


def test_reading_order_reads_a_row_left_to_right_and_rows_top_to_bottom() -> None:
    # A menu bar (tight gaps) above two rows of a form.
    boxes = [(90, 5, 30, 16), (10, 4, 30, 16), (50, 6, 30, 16), (10, 50, 60, 16), (10, 80, 60, 16)]
    assert reading_order(boxes) == [1, 2, 0, 3, 4]
    assert reading_order([]) == []


def test_elements_follow_the_protocol_and_the_kinds_match_the_app() -> None:
    elements = merge_elements([det("window_control", 980, 0, 20, 20)], [line("Title", 400, 2, 50)])
    message = {
        "type": "observe_result",
        "id": "o",
        "image_width": 1000,
        "image_height": 600,
        "lines": [],
        "elements": elements,
        "timings_ms": {"decode": 1, "ocr": 1, "detect": 0, "merge": 0.1},
    }
    assert host_problem(message) is None


def test_the_element_kinds_are_the_generated_protocols() -> None:
    """One source: `ElementKind` in src-shared/bridge-api.ts. The vocabulary's kinds are the generated Literal
    (types.py), which names the same kinds, in the same order, as the generated schema (schema.json) and the zod
    source itself; `npm run gen:protocol -- --check` and tests/unit/protocol.test.ts keep both files current."""
    assert ElementKind is protocol_types.ElementKind
    assert get_args(protocol_types.ElementKind) == ELEMENT_KINDS
    defs = schema()["$defs"]
    assert tuple(defs["ElementKind"]["enum"]) == ELEMENT_KINDS
    assert tuple(defs["Element"]["properties"]["kind"]["enum"]) == ELEMENT_KINDS
    source = (ROOT / "src-shared" / "bridge-api.ts").read_text("utf-8")
    enum = re.search(r"export const ElementKind = z\.enum\(\[(.*?)\]\)", source, re.DOTALL)
    assert enum is not None
    assert tuple(re.findall(r'"([a-z_]+)"', enum.group(1))) == ELEMENT_KINDS


def test_every_detector_prompt_means_a_control_kind_and_every_control_kind_has_a_prompt() -> None:
    kinds = [kind_of(prompt) for prompt in UI_VOCABULARY]
    assert all(kind in ELEMENT_KINDS for kind in kinds)
    # "text" is OCR's (a line no control claimed), "other" a class outside the vocabulary; the rest are prompts.
    assert sorted(kinds) == sorted(k for k in ELEMENT_KINDS if k not in ("text", "other"))


def test_nothing_in_nothing_out() -> None:
    assert merge_elements([], []) == []
    assert merge_elements([det("button", 0, 0, 0, 10)], [line("   ", 0, 0, 10)]) == []
