import base64
import io
import json

import httpx
import numpy as np
import pytest
from PIL import Image
from websockets.sync.client import ClientConnection

from sightline_host.ocr import OcrEngine
from tests.conftest import RunningHost
from tests.messaging import exchange, iou, png_base64, render_words

WORDS = [("Quarterly Report", (60, 60)), ("Export as PDF", (420, 260))]


def test_observe_reads_the_words_where_they_are(ws: ClientConnection) -> None:
    image, truth = render_words(WORDS)
    reply = exchange(ws, {"type": "observe", "id": "o1", "image": {"format": "png", "data": png_base64(image)}})
    assert reply["type"] == "observe_result"
    assert (reply["image_width"], reply["image_height"]) == image.size
    for (word, _), true_box in zip(WORDS, truth, strict=True):
        matches = [
            line for line in reply["lines"] if line["text"].lower().replace(" ", "") == word.lower().replace(" ", "")
        ]
        assert matches, f"{word!r} not in {[line['text'] for line in reply['lines']]}"
        box = matches[0]["box"]
        assert iou((box["x"], box["y"], box["width"], box["height"]), true_box) >= 0.5
        assert 0.5 <= matches[0]["confidence"] <= 1
    assert reply["timings_ms"]["ocr"] > 0


def test_min_confidence_one_drops_everything(ws: ClientConnection) -> None:
    image, _ = render_words(WORDS)
    reply = exchange(
        ws, {"type": "observe", "id": "o2", "image": {"format": "png", "data": png_base64(image)}, "min_confidence": 1}
    )
    assert reply["type"] == "observe_result" and reply["lines"] == []


def test_blank_screen_has_no_lines() -> None:
    assert OcrEngine().read(np.full((200, 300, 3), 255, dtype=np.uint8)) == []


def test_engine_reports_its_state() -> None:
    engine = OcrEngine()
    before = engine.state
    engine.load()
    assert (before, engine.state) == ("not_loaded", "ready")


def test_concurrent_requests_on_one_socket_get_their_own_replies(ws: ClientConnection) -> None:
    image, _ = render_words(WORDS[:1], size=(600, 200))
    ws.send(json.dumps({"type": "observe", "id": "slow", "image": {"format": "png", "data": png_base64(image)}}))
    ws.send(json.dumps({"type": "ping", "id": "fast"}))
    replies = [json.loads(ws.recv(timeout=60)) for _ in range(2)]
    assert {r["id"] for r in replies} == {"slow", "fast"}
    # The ping does not wait behind the OCR.
    assert replies[0]["id"] == "fast"


@pytest.mark.parametrize("size", [(1, 1), (3, 5000), (5000, 3)])
def test_degenerate_images_do_not_crash(ws: ClientConnection, size: tuple[int, int]) -> None:
    reply = exchange(
        ws,
        {"type": "observe", "id": "d", "image": {"format": "png", "data": png_base64(Image.new("RGB", size, "white"))}},
    )
    assert reply["type"] == "observe_result"


def test_jpeg_is_read_too(ws: ClientConnection) -> None:
    image, _ = render_words(WORDS)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    data = base64.b64encode(buffer.getvalue()).decode()
    reply = exchange(ws, {"type": "observe", "id": "j", "image": {"format": "jpeg", "data": data}})
    texts = {line["text"].lower().replace(" ", "") for line in reply["lines"]}
    assert {"quarterlyreport", "exportaspdf"} <= texts


def test_health_reports_the_model_ready_after_an_observe(host: RunningHost, ws: ClientConnection) -> None:
    image, _ = render_words(WORDS[:1], size=(600, 200))
    exchange(ws, {"type": "observe", "id": "warm", "image": {"format": "png", "data": png_base64(image)}})
    health = httpx.get(f"{host.url}/healthz", headers={"Authorization": f"Bearer {host.token}"}).json()
    assert health["models"] == {"ocr": "ready"}


def test_a_thin_strip_is_read_quickly_where_it_is(ws: ClientConnection) -> None:
    # A toolbar-shaped crop: RapidOCR alone would upscale it to tens of thousands of pixels wide.
    words = [("File", (10, 4)), ("Settings", (1500, 4))]
    image, truth = render_words(words, size=(1900, 56))
    reply = exchange(ws, {"type": "observe", "id": "strip", "image": {"format": "png", "data": png_base64(image)}})
    assert reply["timings_ms"]["ocr"] < 20_000
    for (word, _), true_box in zip(words, truth, strict=True):
        matches = [line for line in reply["lines"] if line["text"].lower() == word.lower()]
        assert matches, f"{word!r} not in {[line['text'] for line in reply['lines']]}"
        box = matches[0]["box"]
        assert iou((box["x"], box["y"], box["width"], box["height"]), true_box) >= 0.5


def test_a_flood_of_observes_is_refused_as_busy_and_nothing_is_lost(ws: ClientConnection) -> None:
    image, _ = render_words(WORDS, size=(1000, 400))
    data = png_base64(image)
    for i in range(5):
        ws.send(json.dumps({"type": "observe", "id": f"f{i}", "image": {"format": "png", "data": data}}))
    replies = {r["id"]: r for r in (json.loads(ws.recv(timeout=120)) for _ in range(5))}
    assert sorted(replies) == [f"f{i}" for i in range(5)]
    busy = [i for i, r in replies.items() if r["type"] == "error" and r["code"] == "busy"]
    done = [i for i, r in replies.items() if r["type"] == "observe_result"]
    assert sorted(done) == ["f0", "f1"] and sorted(busy) == ["f2", "f3", "f4"]
    assert exchange(ws, {"type": "ping", "id": "after"})["type"] == "pong"
