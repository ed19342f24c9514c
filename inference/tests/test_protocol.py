import base64
import io
import json
import struct
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection

from sightline_host.images import ImageRejected, decode_base64_image, decode_raw_base64, decode_raw_image
from sightline_host.protocol import MAX_FRAME_BYTES, MAX_IMAGE_BYTES, MAX_IMAGE_PIXELS, client_problem, host_problem
from sightline_host.protocol.frames import BadFrame, split_binary_frame
from tests.messaging import exchange, png_base64, png_header_only, render_words

VECTORS: list[dict[str, Any]] = json.loads(
    (Path(__file__).resolve().parents[2] / "protocol-vectors" / "messages.json").read_text("utf-8")
)


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_vectors_match_the_typescript_side(vector: dict[str, Any]) -> None:
    problem = (client_problem if vector["direction"] == "client" else host_problem)(vector["message"])
    assert (problem is None) == vector["valid"], problem


def assert_still_alive(ws: ClientConnection) -> None:
    assert exchange(ws, {"type": "ping", "id": "alive"}) == {"type": "pong", "id": "alive"}


def test_hello_handshake(ws: ClientConnection) -> None:
    reply = exchange(ws, {"type": "hello", "id": "h", "protocol": 1, "client": "pytest"})
    assert reply["type"] == "hello_ok" and reply["protocol"] == 1
    assert {"ocr", "raw_image"} <= set(reply["capabilities"])


def test_hello_with_another_protocol_is_refused_plainly(ws: ClientConnection) -> None:
    reply = exchange(ws, {"type": "hello", "id": "h", "protocol": 99, "client": "pytest"})
    assert reply["code"] == "unsupported_protocol" and "protocol 1" in reply["message"]
    assert_still_alive(ws)


@pytest.mark.parametrize(
    ("message", "code", "echoed_id"),
    [
        ("{not json", "bad_request", None),
        ('["ping"]', "bad_request", None),
        (json.dumps({"type": "observe", "id": "o", "image": {"format": "bmp", "data": "AA=="}}), "bad_request", "o"),
        (json.dumps({"type": "ping", "id": "p", "extra": True}), "bad_request", "p"),
        (json.dumps({"type": "self_destruct", "id": "x"}), "unknown_type", "x"),
        (b"\x00\x01binary", "bad_request", None),
    ],
    ids=["not-json", "array", "schema-invalid", "extra-field", "unknown-type", "binary"],
)
def test_malformed_messages_get_a_typed_error_and_the_connection_stays(
    ws: ClientConnection, message: str | bytes, code: str, echoed_id: str | None
) -> None:
    reply = exchange(ws, message)
    assert reply["type"] == "error" and reply["code"] == code and reply["id"] == echoed_id
    assert reply["message"]
    assert_still_alive(ws)


def test_schema_errors_name_the_failing_field(ws: ClientConnection) -> None:
    reply = exchange(
        ws, {"type": "observe", "id": "o", "image": {"format": "png", "data": "AA=="}, "min_confidence": 3}
    )
    assert reply["code"] == "bad_request" and "min_confidence" in reply["message"]


def test_an_image_over_the_pixel_limit_is_refused_before_decoding(ws: ClientConnection) -> None:
    huge = Image.new("L", (8000, 8000), 255)  # 64 MP, compresses to a few kB
    assert MAX_IMAGE_PIXELS < 8000 * 8000
    reply = exchange(ws, {"type": "observe", "id": "big", "image": {"format": "png", "data": png_base64(huge)}})
    assert reply["code"] == "image_too_large" and "8000×8000" in reply["message"]
    assert_still_alive(ws)


@pytest.mark.parametrize(
    ("width", "height", "expected"),
    [
        (10000, 10000, "image is 10000×10000 = 100 MP; the limit is 33.2 MP"),
        # Over PIL's own hard limit, which refuses before telling anyone the size.
        (20000, 20000, "image is over 179 MP; the limit is 33.2 MP"),
    ],
)
def test_pixel_limit_messages_say_how_big(ws: ClientConnection, width: int, height: int, expected: str) -> None:
    data = png_header_only(width, height)
    reply = exchange(ws, {"type": "observe", "id": "hdr", "image": {"format": "png", "data": data}})
    assert (reply["code"], reply["id"], reply["message"]) == ("image_too_large", "hdr", expected)
    assert_still_alive(ws)


def test_a_header_within_limits_but_no_pixels_is_a_bad_image(ws: ClientConnection) -> None:
    reply = exchange(ws, {"type": "observe", "id": "hdr", "image": {"format": "png", "data": png_header_only(64, 64)}})
    assert reply["code"] == "bad_image"


def test_formats_other_than_png_and_jpeg_are_bad_images(ws: ClientConnection) -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(buffer, "GIF")
    data = base64.b64encode(buffer.getvalue()).decode()
    reply = exchange(ws, {"type": "observe", "id": "gif", "image": {"format": "png", "data": data}})
    assert reply["code"] == "bad_image"


def test_an_image_over_the_byte_limit_is_refused(ws: ClientConnection) -> None:
    data = base64.b64encode(b"\x89PNG" + b"\0" * (MAX_IMAGE_BYTES + 2**20)).decode()
    reply = exchange(ws, {"type": "observe", "id": "bytes", "image": {"format": "png", "data": data}})
    assert reply["code"] == "image_too_large" and "MiB" in reply["message"]
    assert_still_alive(ws)


def test_garbage_image_bytes_are_a_bad_image(ws: ClientConnection) -> None:
    data = base64.b64encode(b"definitely not a png").decode()
    reply = exchange(ws, {"type": "observe", "id": "junk", "image": {"format": "png", "data": data}})
    assert reply["code"] == "bad_image"
    reply = exchange(ws, {"type": "observe", "id": "b64", "image": {"format": "png", "data": "@@@@"}})
    assert reply["code"] == "bad_image" and "base64" in reply["message"]
    assert_still_alive(ws)


def test_a_frame_over_the_socket_limit_closes_with_a_reason(host: Any) -> None:
    with host.connect() as ws:
        ws.send("x" * (MAX_FRAME_BYTES + 16))
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=30)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009


def test_png_roundtrip_helper_is_a_real_png() -> None:
    image = Image.open(io.BytesIO(base64.b64decode(png_base64(Image.new("RGB", (3, 2))))))
    assert image.size == (3, 2)


# ------------------------------------------------------------------------------------------ raw pixels


def raw_frame(message: dict[str, Any], pixels: bytes) -> bytes:
    """The binary frame of src-shared/protocol/binary-frame.ts, built independently of the host's parser."""
    text = json.dumps(message).encode()
    return struct.pack(">I", len(text)) + text + pixels


def rgba_of(image: Image.Image, pixel_format: str = "rgba") -> bytes:
    quads = np.asarray(image.convert("RGBA"))
    return (quads if pixel_format == "rgba" else quads[..., [2, 1, 0, 3]]).tobytes()


def raw_observe(request_id: str, width: int, height: int, pixel_format: str = "rgba") -> dict[str, Any]:
    return {"type": "observe", "id": request_id, "image": {"format": pixel_format, "width": width, "height": height}}


@pytest.mark.parametrize("pixel_format", ["rgba", "bgra"])
def test_raw_pixels_decode_to_the_same_rgb_as_the_png(pixel_format: str) -> None:
    rng = np.random.default_rng(7)
    image = Image.fromarray(rng.integers(0, 256, (5, 7, 3), dtype=np.uint8))
    from_png = decode_base64_image(png_base64(image))
    pixels = rgba_of(image, pixel_format)
    from_raw = decode_raw_image(pixel_format, 7, 5, memoryview(pixels))  # type: ignore[arg-type]
    from_b64 = decode_raw_base64(pixel_format, 7, 5, base64.b64encode(pixels).decode())  # type: ignore[arg-type]
    for decoded in (from_raw, from_b64):
        assert decoded.shape == (5, 7, 3) and decoded.flags.c_contiguous
        assert np.array_equal(decoded, from_png)


@pytest.mark.parametrize(
    ("width", "height", "length", "code", "words"),
    [
        (4, 3, 4 * 3 * 4 - 1, "bad_image", "needs 48 bytes (width × height × 4); got 47"),
        (4, 3, 4 * 3 * 3, "bad_image", "got 36"),
        (4, 3, 0, "bad_image", "got 0"),
        (8000, 8000, 16, "image_too_large", "image is 8000×8000 = 64 MP; the limit is 33.2 MP"),
        # Within the pixel limit, but 4 bytes a pixel is over the byte limit: the app should send PNG.
        (
            7680,
            4320,
            16,
            "image_too_large",
            "raw image of 7680×4320 is 126.6 MiB; the limit is 40 MiB (send it as PNG)",
        ),
    ],
)
def test_raw_sizes_are_checked_before_anything_is_allocated(
    width: int, height: int, length: int, code: str, words: str
) -> None:
    assert MAX_IMAGE_PIXELS >= 7680 * 4320 and MAX_IMAGE_BYTES < 7680 * 4320 * 4
    with pytest.raises(ImageRejected) as raw:
        decode_raw_image("rgba", width, height, b"\0" * length)
    with pytest.raises(ImageRejected) as b64:
        decode_raw_base64("bgra", width, height, base64.b64encode(b"\0" * length).decode())
    assert (raw.value.code, b64.value.code) == (code, code)
    assert words in str(raw.value)
    if code == "bad_image":
        assert f"needs {width * height * 4} bytes" in str(b64.value)


def test_binary_frames_split_without_copying_the_pixels() -> None:
    frame = raw_frame({"type": "ping", "id": "p"}, b"\1\2\3")
    text, pixels = split_binary_frame(frame)
    assert json.loads(text) == {"type": "ping", "id": "p"} and bytes(pixels) == b"\1\2\3"
    assert pixels.obj is frame
    for broken in (b"", b"\0\0", struct.pack(">I", 99) + b"{}", struct.pack(">I", 2) + b"\xff\xfe"):
        with pytest.raises(BadFrame):
            split_binary_frame(broken)


def test_raw_pixels_in_a_binary_frame_are_read(ws: ClientConnection) -> None:
    image, _ = render_words([("Quarterly Report", (40, 30))], size=(520, 120))
    reply = exchange(ws, raw_frame(raw_observe("raw", 520, 120, "bgra"), rgba_of(image, "bgra")))
    assert (reply["type"], reply["id"], reply["image_width"], reply["image_height"]) == (
        "observe_result",
        "raw",
        520,
        120,
    )
    assert "Quarterly Report" in [line["text"] for line in reply["lines"]]


def test_raw_pixels_as_base64_in_text_are_read(ws: ClientConnection) -> None:
    image, _ = render_words([("Export", (20, 20))], size=(200, 90))
    message = raw_observe("b64", 200, 90)
    message["image"]["data"] = base64.b64encode(rgba_of(image)).decode()
    reply = exchange(ws, message)
    assert (reply["type"], reply["image_width"]) == ("observe_result", 200)
    assert "Export" in [line["text"] for line in reply["lines"]]


@pytest.mark.parametrize(
    ("frame", "code", "words"),
    [
        (raw_frame(raw_observe("short", 64, 64), b"\0" * (64 * 64 * 4 - 4)), "bad_image", "needs 16384 bytes"),
        (raw_frame(raw_observe("long", 2, 2), b"\0" * 17), "bad_image", "got 17"),
        (raw_frame(raw_observe("huge", 9000, 9000), b"\0" * 64), "image_too_large", "9000×9000"),
        (raw_frame({"type": "ping", "id": "ping"}, b""), "bad_request", "only an observe with a raw"),
        (
            raw_frame({"type": "observe", "id": "png", "image": {"format": "png", "data": "AA=="}}, b""),
            "bad_request",
            "only an observe with a raw",
        ),
        (
            raw_frame(
                {**raw_observe("both", 1, 1), "image": {"format": "rgba", "width": 1, "height": 1, "data": "AAAA/w=="}},
                b"\0" * 4,
            ),
            "bad_request",
            "leave out `data`",
        ),
        (json.dumps(raw_observe("nodata", 1, 1)), "bad_request", "needs `data`"),
        (raw_frame(raw_observe("bad", 0, 1), b""), "bad_request", "width"),
        (struct.pack(">I", 1000) + b"{}", "bad_request", "declares 1000 bytes of JSON"),
    ],
    ids=[
        "too-few-bytes",
        "too-many-bytes",
        "over-pixel-limit",
        "ping",
        "png",
        "data-and-pixels",
        "text-without-data",
        "zero-width",
        "short-header",
    ],
)
def test_misshapen_raw_images_get_a_clear_error_and_the_connection_stays(
    ws: ClientConnection, frame: bytes | str, code: str, words: str
) -> None:
    reply = exchange(ws, frame)
    assert (reply["type"], reply["code"]) == ("error", code), reply
    assert words in reply["message"]
    assert_still_alive(ws)
