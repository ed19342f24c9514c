"""The app in-process, for what the real host process cannot easily be made to do (a model that fails to load)."""

import sys
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from sightline_host.app import create_app
from sightline_host.ocr import ModelUnavailable, OcrEngine
from sightline_host.protocol import host_problem
from tests.messaging import png_base64, render_words

TOKEN = "in-process-test-token-0123456789"


@pytest.fixture
def broken_ocr(monkeypatch: pytest.MonkeyPatch) -> OcrEngine:
    # A None entry in sys.modules makes the import fail, as a broken install would.
    monkeypatch.setitem(sys.modules, "rapidocr_onnxruntime", None)
    return OcrEngine()


@pytest.fixture
def client(broken_ocr: OcrEngine) -> Iterator[TestClient]:
    with TestClient(create_app(TOKEN, broken_ocr)) as test_client:
        yield test_client


def test_a_model_that_fails_to_load_is_reported(broken_ocr: OcrEngine) -> None:
    with pytest.raises(ModelUnavailable, match="OCR model failed to load"):
        broken_ocr.load()
    assert broken_ocr.state == "error"


def test_observe_answers_model_unavailable_and_health_says_error(client: TestClient) -> None:
    auth = {"Authorization": f"Bearer {TOKEN}"}
    assert client.get("/healthz", headers=auth).json()["models"] == {"ocr": "not_loaded"}
    image, _ = render_words([("Hi", (10, 10))], size=(200, 80))
    with client.websocket_connect("/ws", headers=auth) as ws:
        ws.send_json({"type": "observe", "id": "m", "image": {"format": "png", "data": png_base64(image)}})
        reply = ws.receive_json()
        assert host_problem(reply) is None
        assert (reply["type"], reply["id"], reply["code"]) == ("error", "m", "model_unavailable")
        assert "OCR model failed to load" in reply["message"]
        ws.send_json({"type": "ping", "id": "p"})
        assert ws.receive_json() == {"type": "pong", "id": "p"}
    assert client.get("/healthz", headers=auth).json()["models"] == {"ocr": "error"}


def test_bearer_scheme_and_token_must_both_match(client: TestClient) -> None:
    for header in [TOKEN, f"Basic {TOKEN}", f"Bearer {TOKEN}x", f"Bearer {TOKEN[:-1]}", "Bearer "]:
        assert client.get("/healthz", headers={"Authorization": header}).status_code == 401
