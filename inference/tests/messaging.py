"""Request/response helpers for tests that speak the protocol by hand."""

import base64
import io
import json
import struct
import zlib
from typing import Any

from PIL import Image, ImageDraw, ImageFont
from websockets.sync.client import ClientConnection

from sightline_host.protocol import host_problem
from tests.conftest import FONT


def exchange(ws: ClientConnection, message: Any, timeout: float = 60) -> dict[str, Any]:
    ws.send(message if isinstance(message, (str, bytes)) else json.dumps(message))
    reply: dict[str, Any] = json.loads(ws.recv(timeout=timeout))
    # Every reply of the host must itself follow the protocol.
    assert host_problem(reply) is None, host_problem(reply)
    return reply


def png_base64(image: Image.Image) -> str:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def render_words(
    words: list[tuple[str, tuple[int, int]]], size: tuple[int, int] = (1000, 400)
) -> tuple[Image.Image, list[tuple[float, float, float, float]]]:
    """Draws words at known places; returns the image and each word's true box (x, y, width, height)."""
    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(FONT, 40)
    boxes = []
    for text, (x, y) in words:
        draw.text((x, y), text, fill="black", font=font)
        left, top, right, bottom = draw.textbbox((x, y), text, font=font)
        boxes.append((float(left), float(top), float(right - left), float(bottom - top)))
    return image, boxes


def iou(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    ax2, ay2, bx2, by2 = a[0] + a[2], a[1] + a[3], b[0] + b[2], b[1] + b[3]
    inter_w = max(0.0, min(ax2, bx2) - max(a[0], b[0]))
    inter_h = max(0.0, min(ay2, by2) - max(a[1], b[1]))
    inter = inter_w * inter_h
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0


def png_header_only(width: int, height: int) -> str:
    """A PNG that declares its size and has no pixel data: enough for a size check, cheap at any size."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")
    return base64.b64encode(data).decode()
