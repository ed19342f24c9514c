"""Decoding of the images the app sends (PNG, JPEG, or raw 4-byte pixels), with the size limits checked before any
pixel is decoded or copied."""

import base64
import binascii
import io
import warnings
from typing import Literal

import cv2
import numpy as np
from numpy.typing import NDArray
from PIL import Image

from sightline_host.protocol import MAX_IMAGE_BYTES, MAX_IMAGE_PIXELS

_FORMATS = ("PNG", "JPEG")

#: Anything numpy can view without a copy: the bytes of a WebSocket frame, or a slice of them.
Buffer = bytes | bytearray | memoryview


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


RawFormat = Literal["rgba", "bgra"]
_BYTES_PER_PIXEL = 4


def _check_raw_size(width: int, height: int) -> int:
    """The byte length a raw image of this size must have, once it is known to be within the limits."""
    if width * height > MAX_IMAGE_PIXELS:
        raise _too_many_pixels(width, height)
    expected = width * height * _BYTES_PER_PIXEL
    if expected > MAX_IMAGE_BYTES:
        raise ImageRejected(
            "image_too_large",
            f"raw image of {width}×{height} is {expected / 2**20:.1f} MiB; "
            f"the limit is {MAX_IMAGE_BYTES / 2**20:.0f} MiB (send it as PNG)",
        )
    return expected


def decode_raw_image(pixel_format: RawFormat, width: int, height: int, pixels: Buffer) -> NDArray[np.uint8]:
    """Returns raw 4-byte pixels (rows top to bottom, no padding) as an RGB array of shape (height, width, 3).
    `pixels` is read in place; the only allocation is the RGB copy, made after every check."""
    expected = _check_raw_size(width, height)
    if len(pixels) != expected:
        raise ImageRejected(
            "bad_image",
            f"raw {pixel_format} image of {width}×{height} needs {expected} bytes (width × height × 4); "
            f"got {len(pixels)}",
        )
    quads = np.frombuffer(pixels, dtype=np.uint8).reshape(height, width, _BYTES_PER_PIXEL)
    # OpenCV's SIMD conversion: about 1 ms at 1080p where numpy's strided copy takes 35-55 ms on the same machine.
    code = cv2.COLOR_RGBA2RGB if pixel_format == "rgba" else cv2.COLOR_BGRA2RGB
    return np.asarray(cv2.cvtColor(quads, code), dtype=np.uint8)


def decode_raw_base64(pixel_format: RawFormat, width: int, height: int, data: str) -> NDArray[np.uint8]:
    """A raw image whose pixels came as base64 in the JSON: length checked before the base64 is decoded."""
    expected = _check_raw_size(width, height)
    # Padded base64 of n bytes is exactly 4·⌈n/3⌉ characters.
    if len(data) != 4 * -(-expected // 3):
        raise ImageRejected(
            "bad_image",
            f"raw {pixel_format} image of {width}×{height} needs {expected} bytes (width × height × 4), "
            f"{4 * -(-expected // 3)} base64 characters; got {len(data)} characters",
        )
    try:
        pixels = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError) as error:
        raise ImageRejected("bad_image", f"image data is not valid base64: {error}") from error
    return decode_raw_image(pixel_format, width, height, pixels)
