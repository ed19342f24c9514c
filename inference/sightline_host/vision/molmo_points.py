"""Molmo's pointing answers → points in image pixels.

Molmo (v1, e.g. Molmo-7B-D) points in XML-like tags with coordinates in percent of the image (0-100), one decimal:

    <point x="61.5" y="47.7" alt="Save button">Save</point>
    Counting the <points x1="10.0" y1="20.0" x2="30.0" y2="40.0" alt="tabs">tabs</points> shows a total of 2.

Molmo 2 writes `<points coords="1 1 098 629 2 162 629" …>label</points>`: an image index, then per point its
index and x, y in thousandths. Both are read. A coordinate outside 0-100 (0-1000) is an invalid answer and skipped,
as Molmo's own evaluation does; an answer with no tag ("There are none.") gives no points.
"""

import html
import re
from dataclasses import dataclass

_TAG = re.compile(r"<(points?)\b([^<>]*?)/?>(?:(.*?)</\1\s*>)?", re.DOTALL | re.IGNORECASE)
_ATTR = re.compile(r"""([A-Za-z_][\w-]*)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'<>/]+))""")
_INDEXED = re.compile(r"^([xy])(\d+)$", re.IGNORECASE)
_COORD_POINT = re.compile(r"(\d+) (\d{3,4}) (\d{3,4})")
_NUMBER = re.compile(r"^\s*[-+]?(?:\d+\.?\d*|\.\d+)\s*$")


@dataclass(frozen=True)
class MolmoPoint:
    """A point in pixels of the image Molmo saw; `label` is the tag's text, `alt` its alt attribute."""

    x: float
    y: float
    label: str
    alt: str


def _number(value: str | None) -> float | None:
    if value is None or not _NUMBER.match(value):
        return None
    return float(value)


def _to_pixels(x: float | None, y: float | None, scale: float, width: int, height: int) -> tuple[float, float] | None:
    if x is None or y is None or not (0 <= x <= scale and 0 <= y <= scale):
        return None
    return x / scale * width, y / scale * height


def parse_points(text: str, width: int, height: int) -> list[MolmoPoint]:
    """Every point in Molmo's answer `text`, mapped to pixels of a `width`x`height` image, in answer order."""
    if width <= 0 or height <= 0:
        raise ValueError(f"image is {width}x{height}: points need an image with pixels")
    points: list[MolmoPoint] = []
    for tag in _TAG.finditer(text):
        attrs: dict[str, str] = {}
        for match in _ATTR.finditer(tag.group(2)):
            value = match.group(2) if match.group(2) is not None else match.group(3) or match.group(4) or ""
            attrs[match.group(1).lower()] = html.unescape(value)
        label = html.unescape(re.sub(r"\s+", " ", tag.group(3) or "").strip())
        alt = attrs.get("alt", label)
        label = label or alt
        if "coords" in attrs:
            # Molmo 2: "image_index point_index x y point_index x y …" in thousandths.
            for match in _COORD_POINT.finditer(attrs["coords"].split(None, 1)[-1] if " " in attrs["coords"] else ""):
                pixel = _to_pixels(float(match.group(2)), float(match.group(3)), 1000.0, width, height)
                if pixel:
                    points.append(MolmoPoint(pixel[0], pixel[1], label, alt))
            continue
        if "x" in attrs or "y" in attrs:
            pixel = _to_pixels(_number(attrs.get("x")), _number(attrs.get("y")), 100.0, width, height)
            if pixel:
                points.append(MolmoPoint(pixel[0], pixel[1], label, alt))
            continue
        indexed: dict[int, dict[str, str]] = {}
        for name, value in attrs.items():
            key = _INDEXED.match(name)
            if key:
                indexed.setdefault(int(key.group(2)), {})[key.group(1).lower()] = value
        for index in sorted(indexed):
            pair = indexed[index]
            pixel = _to_pixels(_number(pair.get("x")), _number(pair.get("y")), 100.0, width, height)
            if pixel:
                points.append(MolmoPoint(pixel[0], pixel[1], label, alt))
    return points
