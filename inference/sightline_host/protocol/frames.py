"""The protocol's one binary frame (see src-shared/protocol/binary-frame.ts): an observe or point with raw pixels.

[u32 big-endian: byte length N of the JSON] [N bytes: the observe message, UTF-8] [width * height * 4 bytes]
"""

import struct

HEADER_BYTES = 4


class BadFrame(Exception):
    """The binary frame's layout is broken; the message says how."""


def split_binary_frame(frame: bytes) -> tuple[str, memoryview]:
    """The frame's JSON text and a view (no copy) of the pixels after it."""
    if len(frame) < HEADER_BYTES:
        raise BadFrame("binary frame shorter than its 4-byte header; binary frames carry an observe with raw pixels")
    (length,) = struct.unpack_from(">I", frame)
    if HEADER_BYTES + length > len(frame):
        raise BadFrame(
            f"binary frame declares {length} bytes of JSON but holds {len(frame) - HEADER_BYTES}; "
            "binary frames carry an observe with raw pixels"
        )
    view = memoryview(frame)
    try:
        text = bytes(view[HEADER_BYTES : HEADER_BYTES + length]).decode("utf-8")
    except UnicodeDecodeError as error:
        raise BadFrame(f"binary frame's JSON is not UTF-8: {error}") from error
    return text, view[HEADER_BYTES + length :]
