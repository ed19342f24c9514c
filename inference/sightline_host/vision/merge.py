"""One element list from the detector's boxes and the OCR's text lines.

Text inside a control labels that control; a checkbox, radio button or toggle with no text inside takes the text
just to its right (that is where their labels sit). Duplicates collapse: detections of one element by two classes
or two tiles, and OCR lines read twice. What text no control claims becomes a "text" element. Ids count from 1
in reading order, so the same screen always gets the same ids.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass

from sightline_host.protocol.types import Element, TextLine
from sightline_host.vision.detector import Detection
from sightline_host.vision.reading_order import Box, reading_order
from sightline_host.vision.vocabulary import ElementKind

_LABELLED_BESIDE: frozenset[str] = frozenset({"checkbox", "radio", "toggle"})


@dataclass(frozen=True)
class MergeOptions:
    # Share of a text line's area that must lie inside a control for the text to label it.
    inside: float = 0.6
    # Detections overlapping more than this are one element, whatever their classes.
    duplicate_iou: float = 0.7
    # OCR lines with the same text overlapping more than this are one line.
    text_duplicate_iou: float = 0.5
    # A beside-label may start at most this many control heights to the right of the control.
    beside_gap: float = 1.5


@dataclass
class _Item:
    kind: ElementKind
    box: Box
    confidence: float
    texts: list[tuple[Box, str]]


def _area(box: Box) -> float:
    return max(0.0, box[2]) * max(0.0, box[3])


def _intersection(a: Box, b: Box) -> float:
    width = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    height = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    return max(0.0, width) * max(0.0, height)


def iou(a: Box, b: Box) -> float:
    inter = _intersection(a, b)
    union = _area(a) + _area(b) - inter
    return inter / union if union > 0 else 0.0


def _normal(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().casefold()


def _line_box(line: TextLine) -> Box:
    box = line["box"]
    return (float(box["x"]), float(box["y"]), float(box["width"]), float(box["height"]))


def _dedupe_detections(detections: Sequence[Detection], threshold: float) -> list[_Item]:
    kept: list[_Item] = []
    for det in sorted(detections, key=lambda d: (-d.confidence, d.y, d.x)):
        box = (det.x, det.y, det.width, det.height)
        if _area(box) <= 0 or any(iou(box, other.box) > threshold for other in kept):
            continue
        kept.append(_Item(det.kind, box, det.confidence, []))
    return kept


def _dedupe_lines(lines: Sequence[TextLine], threshold: float) -> list[TextLine]:
    kept: list[TextLine] = []
    for line in sorted(lines, key=lambda li: -li["confidence"]):
        box = _line_box(line)
        if _area(box) <= 0 or not line["text"].strip():
            continue
        text = _normal(line["text"])
        if any(_normal(k["text"]) == text and iou(box, _line_box(k)) > threshold for k in kept):
            continue
        kept.append(line)
    return kept


def _container(box: Box, controls: list[_Item], inside: float) -> _Item | None:
    """The smallest control holding most of `box`: a button's caption, not the toolbar around it."""
    area = _area(box)
    best: _Item | None = None
    for control in controls:
        if _intersection(box, control.box) >= inside * area and (best is None or _area(control.box) < _area(best.box)):
            best = control
    return best


def _beside(control: _Item, free: list[tuple[Box, TextLine]], gap: float) -> int | None:
    """The free line whose left edge is closest to the right of `control`, on the same row. The line may start over
    the control itself: the OCR often reads a checkbox as a character and joins it to its label."""
    x, y, width, height = control.box
    centre = y + height / 2
    best: tuple[float, int] | None = None
    for index, (box, _line) in enumerate(free):
        distance = box[0] - (x + width)
        same_row = box[1] <= centre <= box[1] + box[3]
        # The OCR's boxes are padded: a line that swallowed the box starts a few pixels left of it.
        starts_after_left_edge = box[0] >= x - width / 2
        near = distance <= gap * max(height, box[3])
        if same_row and starts_after_left_edge and near and (best is None or abs(distance) < abs(best[0])):
            best = (distance, index)
    return None if best is None else best[1]


# What the OCR makes of a checkbox, radio button or toggle it read together with the label: one mark or letter.
_BOX_GLYPH = re.compile(r"^\s*(?:[^\w\s]|[0-9IlLoOxXvV口□■☐☑☒])\s+(?=\S)")


def _label_text(text: str, line_box: Box, control: Box) -> str:
    """The label without the character the OCR read from the control, when the line starts over the control."""
    if line_box[0] < control[0] + control[2]:
        return _BOX_GLYPH.sub("", text, count=1)
    return text


def merge_elements(
    detections: Sequence[Detection], lines: Sequence[TextLine], options: MergeOptions | None = None
) -> list[Element]:
    opts = options or MergeOptions()
    controls = _dedupe_detections(detections, opts.duplicate_iou)
    free: list[tuple[Box, TextLine]] = []
    for line in _dedupe_lines(lines, opts.text_duplicate_iou):
        box = _line_box(line)
        owner = _container(box, controls, opts.inside)
        if owner is None:
            free.append((box, line))
        else:
            owner.texts.append((box, line["text"].strip()))
    for control in controls:
        if control.kind in _LABELLED_BESIDE and not control.texts:
            index = _beside(control, free, opts.beside_gap)
            if index is not None:
                box, line = free.pop(index)
                control.texts.append((box, _label_text(line["text"].strip(), box, control.box)))
    items = controls + [
        _Item("text", box, float(line["confidence"]), [(box, line["text"].strip())]) for box, line in free
    ]
    elements: list[Element] = []
    for number, index in enumerate(reading_order([item.box for item in items]), start=1):
        item = items[index]
        text_boxes = [box for box, _ in item.texts]
        text = " ".join(item.texts[i][1] for i in reading_order(text_boxes)) if text_boxes else ""
        x, y, width, height = item.box
        elements.append(
            {
                "id": number,
                "kind": item.kind,
                "text": text,
                "box": {"x": x, "y": y, "width": width, "height": height},
                "confidence": min(1.0, max(0.0, item.confidence)),
            }
        )
    return elements
