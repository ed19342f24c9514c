"""Images as OpenAI's `image_url` parts carry them: data URLs only, decoded with the WebSocket's own size limits.

A remote URL is refused, never fetched: the host answers from what is on the user's machine and reaches nothing
else (and a URL would let any page the app shows make the host open connections).
"""

from __future__ import annotations

import base64
import io
import re

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from sightline_host.images import ImageRejected, decode_base64_image
from sightline_host.planner.chat_types import ChatImage, EngineError

# RFC 2397: data:[<media type>][;parameter=value]*;base64,<data>. Only the formats images.py decodes.
_DATA_URL = re.compile(r"^data:(?P<type>[^;,]*)(?P<params>(?:;[^;,]*)*?);base64,(?P<data>.*)$", re.DOTALL)
_MEDIA_TYPES = ("image/png", "image/jpeg", "image/jpg")


def image_from_data_url(url: str, param: str) -> ChatImage:
    """The image of a `data:image/png;base64,…` URL; an EngineError naming `param` for anything else."""
    if not url.startswith("data:"):
        scheme = url.split(":", 1)[0] if ":" in url else "no scheme"
        raise EngineError(
            "unsupported_image_url",
            f"image_url must be a data URL (data:image/png;base64,…); this host never fetches images "
            f"from elsewhere ({scheme[:16]!r} URL refused)",
            400,
            param,
        )
    match = _DATA_URL.match(url)
    if match is None:
        raise EngineError("bad_image", "image_url is not a base64 data URL (data:image/png;base64,…)", 400, param)
    media_type = match.group("type").strip().lower()
    if media_type not in _MEDIA_TYPES:
        raise EngineError(
            "bad_image", f"image_url has media type {media_type or 'none'!r}; send image/png or image/jpeg", 400, param
        )
    try:
        pixels = decode_base64_image(match.group("data"))
    except ImageRejected as error:
        raise EngineError(error.code, str(error), 400, param) from error
    return ChatImage(pixels, url)


def image_from_pixels(pixels: NDArray[np.uint8] | Image.Image) -> ChatImage:
    """A ChatImage of an RGB image the host already holds (a capture), PNG-encoded for engines that need a URL."""
    rgb = pixels.convert("RGB") if isinstance(pixels, Image.Image) else Image.fromarray(_rgb_array(pixels))
    buffer = io.BytesIO()
    rgb.save(buffer, format="PNG")
    encoded = base64.b64encode(buffer.getvalue()).decode("ascii")
    return ChatImage(np.asarray(rgb, dtype=np.uint8), f"data:image/png;base64,{encoded}")


def _rgb_array(pixels: NDArray[np.uint8]) -> NDArray[np.uint8]:
    if pixels.dtype != np.uint8 or pixels.ndim != 3 or pixels.shape[2] != 3:
        raise ValueError(f"expected an RGB uint8 array of shape (height, width, 3), got {pixels.dtype} {pixels.shape}")
    if pixels.shape[0] == 0 or pixels.shape[1] == 0:
        raise ValueError("the image has no pixels")
    return pixels
