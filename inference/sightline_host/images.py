"""Decoding of the images the app sends, with the size limits checked before any pixel is decoded."""

import base64
import binascii
import io
import warnings

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from sightline_host.protocol import MAX_IMAGE_BYTES, MAX_IMAGE_PIXELS


class ImageRejected(Exception):
    """The image cannot be used; `code` is the protocol's error code for why."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


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
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(raw))
            width, height = image.size
            if width * height > MAX_IMAGE_PIXELS:
                raise ImageRejected(
                    "image_too_large",
                    f"image is {width}×{height} = {width * height / 1e6:.1f} MP; "
                    f"the limit is {MAX_IMAGE_PIXELS / 1e6:.1f} MP",
                )
            rgb = image.convert("RGB")
    except ImageRejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise ImageRejected("image_too_large", str(error)) from error
    except Exception as error:
        raise ImageRejected("bad_image", f"cannot decode the image: {error}") from error
    return np.asarray(rgb, dtype=np.uint8)
