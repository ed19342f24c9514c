import base64
import io
import json
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection

from sightline_host.protocol import MAX_FRAME_BYTES, MAX_IMAGE_BYTES, MAX_IMAGE_PIXELS, client_problem, host_problem
from tests.messaging import exchange, png_base64, png_header_only

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
    assert reply["type"] == "hello_ok" and reply["protocol"] == 1 and "ocr" in reply["capabilities"]


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
