"""Set-of-marks: the screenshot with every element's box drawn and numbered, for a VLM to answer "click 12"."""

from collections.abc import Sequence
from functools import cache

from PIL import Image, ImageDraw, ImageFont

from sightline_host.protocol.types import Element

# One colour per kind, so a reader tells a button from a text line at a glance; all dark enough for white digits.
KIND_COLOURS: dict[str, tuple[int, int, int]] = {
    "text": (0, 114, 178),
    "button": (213, 94, 0),
    "icon": (0, 158, 115),
    "text_field": (204, 121, 167),
    "checkbox": (86, 60, 160),
    "radio": (86, 60, 160),
    "toggle": (86, 60, 160),
    "dropdown": (170, 51, 119),
    "menu_item": (153, 102, 0),
    "tab": (68, 119, 170),
    "link": (0, 90, 200),
    "slider": (120, 120, 0),
    "scrollbar": (100, 100, 100),
    "window_control": (180, 0, 0),
    "other": (60, 60, 60),
}
_FONT_PATHS = ("DejaVuSans-Bold.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf", "Arial Bold.ttf")


@cache
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for path in _FONT_PATHS:
        try:
            return ImageFont.truetype(path, size)
        except OSError:
            continue
    return ImageFont.load_default()


def draw_marks(image: Image.Image, elements: Sequence[Element], line_width: int | None = None) -> Image.Image:
    """A copy of `image` (RGB) with each element's box outlined in its kind's colour and its id on a tag at the
    box's top-left corner, moved inside the image where the corner is at an edge. The input is left untouched."""
    if image.width == 0 or image.height == 0:
        raise ValueError(f"image is {image.width}x{image.height}: nothing to draw on")
    marked = image.convert("RGB")
    if marked is image:
        marked = image.copy()
    draw = ImageDraw.Draw(marked)
    # Marks scale with the screen: a 4K screenshot shrunk for a VLM still shows readable numbers.
    scale = max(1.0, max(marked.size) / 1920)
    width = line_width or max(1, round(2 * scale))
    font = _font(max(10, round(14 * scale)))
    for element in elements:
        box = element["box"]
        colour = KIND_COLOURS.get(element["kind"], KIND_COLOURS["other"])
        x1, y1 = box["x"], box["y"]
        x2, y2 = x1 + max(box["width"], 1), y1 + max(box["height"], 1)
        draw.rectangle((x1, y1, x2, y2), outline=colour, width=width)
        label = str(element["id"])
        left, top, right, bottom = draw.textbbox((0, 0), label, font=font)
        tag_w, tag_h = right - left + 2 * width + 2, bottom - top + 2 * width + 2
        # Above the box where there is room, else inside it; never past the image's edges.
        tag_x = min(max(0.0, x1), marked.width - tag_w)
        tag_y = y1 - tag_h if y1 - tag_h >= 0 else min(max(0.0, y1), marked.height - tag_h)
        draw.rectangle((tag_x, tag_y, tag_x + tag_w, tag_y + tag_h), fill=colour)
        draw.text((tag_x + width + 1 - left, tag_y + width + 1 - top), label, fill=(255, 255, 255), font=font)
    return marked
