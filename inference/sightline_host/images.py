"""Decoding of the images the app sends, with the size limits checked before any pixel is decoded."""

import base64
import binascii
import io
import warnings

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from sightline_host.protocol import MAX_IMAGE_BYTES, MAX_IMAGE_PIXELS

_FORMATS = ("PNG", "JPEG")


class ImageRejected(Exception):
    """The image cannot be used; `code` is the protocol's error code for why."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def _megapixels(pixels: int) -> str:
    return f"{pixels / 1e6:.3g} MP"


def _too_many_pixels(width: int, height: int) -> ImageRejected:
    return ImageRejected(
        "image_too_large",
        f"image is {width}×{height} = {_megapixels(width * height)}; the limit is {_megapixels(MAX_IMAGE_PIXELS)}",
    )


def decode_base64_image(data: str) -> NDArray[np.uint8]:
    """Returns the image as an RGB array of shape (height, width, 3)."""
    # Four base64 characters carry three bytes; refuse before allocating the decoded buffer.
    encoded_bytes = len(data) * 3 // 4
    if encoded_bytes > MAX_IMAGE_BYTES:
        raise ImageRejected(
            "image_too_large",
            f"image file is {encoded_bytes / 2**20:.1f} MiB; the limit is {MAX_IMAGE_BYTES / 2**20:.0f} MiB",
        )
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError) as error:
        raise ImageRejected("bad_image", f"image data is not valid base64: {error}") from error
    try:
        with warnings.catch_warnings():
            # PIL warns from 89 MP on; our own, lower limit below answers with the image's real size instead.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            # Only the formats the protocol names: every other PIL parser is attack surface we do not need.
            image = Image.open(io.BytesIO(raw), formats=_FORMATS)
        # Image.open reads only the header, so this runs before any pixel is decoded.
        width, height = image.size
        if width * height > MAX_IMAGE_PIXELS:
            raise _too_many_pixels(width, height)
        rgb = image.convert("RGB")
    except ImageRejected:
        raise
    except Image.DecompressionBombError as error:
        # PIL refuses to even open images over twice its own limit, before we learn their size.
        raise ImageRejected(
            "image_too_large",
            f"image is over {_megapixels(2 * (Image.MAX_IMAGE_PIXELS or 0))}; "
            f"the limit is {_megapixels(MAX_IMAGE_PIXELS)}",
        ) from error
    except Exception as error:
        raise ImageRejected("bad_image", f"cannot decode the image as PNG or JPEG: {error}") from error
    return np.asarray(rgb, dtype=np.uint8)
