"""Observe through the real host process: OCR lines as text elements, plus detector boxes when a model is set."""

from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont
from websockets.sync.client import ClientConnection

from sightline_host.vision.synthetic import square_finder
from tests.conftest import FONT, start_host, stop_host
from tests.messaging import exchange, png_base64, render_words


def test_without_a_detector_every_ocr_line_is_a_text_element(ws: ClientConnection) -> None:
    image, _ = render_words([("Quarterly Report", (60, 60)), ("Export as PDF", (420, 260))])
    reply = exchange(ws, {"type": "observe", "id": "e1", "image": {"format": "png", "data": png_base64(image)}})
    assert reply["type"] == "observe_result"
    assert [(e["id"], e["kind"]) for e in reply["elements"]] == [(1, "text"), (2, "text")]
    assert [e["text"] for e in reply["elements"]] == [
        line["text"] for line in sorted(reply["lines"], key=lambda li: li["box"]["y"])
    ]
    assert reply["timings_ms"]["detect"] == 0 and reply["timings_ms"]["merge"] >= 0


def test_with_a_detector_the_checkbox_takes_its_label(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = square_finder(tmp_path / "ui.onnx", classes=("checkbox", "icon"))
    monkeypatch.setenv("SIGHTLINE_DETECTOR_ONNX", str(model))
    host = start_host()
    try:
        # The toy model fires on any dark 4x4 block, thick black glyphs included: grey text keeps it to the box.
        image = Image.new("RGB", (640, 400), "white")
        draw = ImageDraw.Draw(image)
        font = ImageFont.truetype(FONT, 32)
        draw.text((60, 100), "Remember me", fill=(110, 110, 110), font=font)
        draw.text((60, 250), "Sign in", fill=(110, 110, 110), font=font)
        draw.rectangle((30, 112, 37, 119), fill="black")  # an 8 px checkbox left of its label
        ws = host.connect()
        with ws:
            hello = exchange(ws, {"type": "hello", "id": "h", "protocol": 1, "client": "test"})
            assert "detector" in hello["capabilities"]
            reply = exchange(ws, {"type": "observe", "id": "e2", "image": {"format": "png", "data": png_base64(image)}})
        assert reply["type"] == "observe_result", reply
        kinds = [(e["kind"], e["text"].replace(" ", "").lower()) for e in reply["elements"]]
        assert kinds == [("checkbox", "rememberme"), ("text", "signin")]
        box = reply["elements"][0]["box"]
        assert (box["x"], box["y"]) == pytest.approx((30, 112), abs=2)
        assert reply["timings_ms"]["detect"] > 0
    finally:
        stop_host(host)


def test_a_missing_detector_model_says_how_to_get_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIGHTLINE_DETECTOR_ONNX", str(tmp_path / "absent.onnx"))
    host = start_host()
    try:
        image, _ = render_words([("Hello", (10, 10))], size=(300, 100))
        ws = host.connect()
        with ws:
            reply = exchange(ws, {"type": "observe", "id": "e3", "image": {"format": "png", "data": png_base64(image)}})
            assert reply["type"] == "error" and reply["code"] == "model_unavailable"
            assert "does not exist" in reply["message"] and "sightline_host.vision.export" in reply["message"]
            # The host is still there.
            assert exchange(ws, {"type": "ping", "id": "p"})["type"] == "pong"
    finally:
        stop_host(host)
