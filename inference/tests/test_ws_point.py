"""`point` over the WebSocket: the real host process with a tiny random LLaVA as its vlm role (pulled through the
real model store from a local hub), and a host whose profile has no vlm."""

from __future__ import annotations

import json
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from PIL import Image

from sightline_host.models.catalog import load_catalog
from sightline_host.models.store import ModelStore
from sightline_host.protocol import MAX_IMAGE_PIXELS
from sightline_host.protocol.types import MAX_POINT_QUERY_CHARS, MAX_POINTS_PER_ANSWER
from sightline_host.vision.molmo_points import parse_points
from sightline_host.vlm.loading import load_vlm
from sightline_host.vlm.point_grammar import MAX_POINTS
from sightline_host.vlm.screen import ScreenVlm
from tests.conftest import RunningHost, start_host, stop_host
from tests.fake_hub import FakeHub, RepoFile
from tests.messaging import exchange, png_base64
from tests.test_vlm_endpoint import COMMIT, MODEL, REPO, write_catalog
from tests.test_vlm_engine import screenshot

# The answer budget for two points and 60-character labels exceeds the tiny model's 512 positions; its rotary
# embeddings need no more than the profile's word to run longer.
CONTEXT = 2048
MAX_POINTS_ASKED = 2


class PointHost:
    def __init__(self, host: RunningHost, store: ModelStore, checkpoint: Path) -> None:
        self.host, self.store, self.checkpoint = host, store, checkpoint

    def ask(self, message: dict[str, Any] | bytes) -> dict[str, Any]:
        return ask(self.host, message)


def ask(host: RunningHost, message: dict[str, Any] | bytes) -> dict[str, Any]:
    """One request on a connection of its own; a binary frame is sent as the bytes it is."""
    ws = host.connect()
    try:
        return exchange(ws, message, timeout=300)
    finally:
        ws.close()


@pytest.fixture(scope="module")
def vlm_host(tiny_vlm_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[PointHost]:
    root = tmp_path_factory.mktemp("ws-point")
    catalog_dir = write_catalog(root / "models", tiny_vlm_dir)
    manifest_path = catalog_dir / "catalog" / f"{MODEL}.yaml"
    manifest = yaml.safe_load(manifest_path.read_text("utf-8"))
    manifest["architecture"]["max_context"] = CONTEXT
    manifest_path.write_text(yaml.safe_dump(manifest), "utf-8")
    profile_path = catalog_dir / "profiles" / "vlm-test.yaml"
    profile = yaml.safe_load(profile_path.read_text("utf-8"))
    profile["models"]["vlm"]["context"] = CONTEXT
    profile_path.write_text(yaml.safe_dump(profile), "utf-8")
    files = {p.name: RepoFile(p.read_bytes(), lfs=p.suffix == ".safetensors") for p in tiny_vlm_dir.iterdir()}
    hub = FakeHub(REPO, {COMMIT: files}, {"main": COMMIT}).start()
    store = ModelStore(load_catalog(catalog_dir), root / "store", endpoint=hub.endpoint, token=False)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SIGHTLINE_CATALOG_DIR", str(catalog_dir))
        patch.setenv("SIGHTLINE_PROFILE", "vlm-test")
        patch.setenv("SIGHTLINE_MODELS_DIR", str(store.root))
        host = start_host()
    try:
        yield PointHost(host, store, tiny_vlm_dir)
    finally:
        stop_host(host)
        hub.stop()


@pytest.fixture
def pulled(vlm_host: PointHost) -> PointHost:
    vlm_host.store.pull(MODEL)
    return vlm_host


def point_request(image: dict[str, Any], query: str = "the Save button", **extra: Any) -> dict[str, Any]:
    return {"type": "point", "id": "pt", "image": image, "query": query, **extra}


def png(image: Image.Image) -> dict[str, Any]:
    return {"format": "png", "data": png_base64(image)}


def hello(ws_host: RunningHost) -> dict[str, Any]:
    return ask(ws_host, {"type": "hello", "id": "h", "protocol": 1, "client": "test"})


def test_a_host_with_a_vlm_announces_point(vlm_host: PointHost, host: RunningHost) -> None:
    assert "point" in hello(vlm_host.host)["capabilities"]
    assert "point" not in hello(host)["capabilities"]


def test_the_protocol_bounds_match_the_point_grammar() -> None:
    # The schema admits every answer the grammar admits: no valid answer of the model is refused on the way out.
    assert MAX_POINTS_PER_ANSWER == MAX_POINTS


def test_a_vlm_not_yet_downloaded_names_the_pull_command(vlm_host: PointHost) -> None:
    vlm_host.store.remove(MODEL)
    reply = vlm_host.ask(point_request(png(screenshot())))
    assert reply["type"] == "error" and reply["id"] == "pt" and reply["code"] == "model_unavailable"
    assert f"sightline-host models pull {MODEL}" in reply["message"]


def test_points_are_the_models_own_answer_in_pixels_of_the_image(pulled: PointHost) -> None:
    image = screenshot(320, 200, button=(60, 40))
    reply = pulled.ask(point_request(png(image), max_points=MAX_POINTS_ASKED))
    assert reply["type"] == "point_result" and reply["id"] == "pt"
    assert (reply["image_width"], reply["image_height"]) == (320, 200)
    # Greedy decoding: the same checkpoint here, given the same pixels and query, writes the same answer, so the
    # image reached the model intact and the points are that answer's, scaled to the image's pixels.
    local = ScreenVlm(load_vlm(MODEL, pulled.checkpoint, {}, "cpu", CONTEXT)).ask_point(
        image, "the Save button", max_points=MAX_POINTS_ASKED
    )
    assert reply["text"] == local.text
    expected = parse_points(local.text, 320, 200)
    assert [(p["x"], p["y"]) for p in reply["points"]] == [(p.x, p.y) for p in expected]
    assert len(reply["points"]) <= MAX_POINTS_ASKED
    assert all(0 <= p["x"] <= 320 and 0 <= p["y"] <= 200 for p in reply["points"])


def test_raw_pixels_in_a_binary_frame_get_the_same_answer_as_their_png(pulled: PointHost) -> None:
    image = screenshot(160, 100, button=(120, 70))
    by_png = pulled.ask(point_request(png(image), max_points=MAX_POINTS_ASKED))
    rgba = np.asarray(image.convert("RGBA"), dtype=np.uint8).tobytes()
    message = json.dumps(point_request({"format": "rgba", "width": 160, "height": 100}, max_points=MAX_POINTS_ASKED))
    frame = struct.pack(">I", len(message.encode())) + message.encode() + rgba
    by_raw = pulled.ask(frame)
    assert by_raw["type"] == "point_result" and by_raw["text"] == by_png["text"]
    assert by_raw["points"] == by_png["points"]


def too_many_pixels() -> dict[str, Any]:
    side = int(MAX_IMAGE_PIXELS**0.5) + 8
    return png(Image.new("RGB", (side, side), "white"))


@pytest.mark.parametrize(
    ("make", "code", "words"),
    [
        (lambda: point_request(png(screenshot()), "x" * (MAX_POINT_QUERY_CHARS + 1)), "bad_request", "query"),
        (lambda: point_request(png(screenshot()), "   "), "bad_request", "query"),
        (lambda: point_request(png(screenshot()), max_points=MAX_POINTS + 1), "bad_request", "max_points"),
        (lambda: {k: v for k, v in point_request(png(screenshot())).items() if k != "query"}, "bad_request", "query"),
        (lambda: point_request({"format": "png", "data": "aGVsbG8gd29ybGQ="}), "bad_image", "PNG"),
        (lambda: point_request(too_many_pixels()), "image_too_large", "limit"),
        (lambda: point_request({"format": "rgba", "width": 4, "height": 4}), "bad_request", "data"),
    ],
    ids=["query too long", "blank query", "too many points", "no query", "not an image", "too many pixels", "no data"],
)
def test_bad_point_requests_get_typed_errors(vlm_host: PointHost, make: Any, code: str, words: str) -> None:
    reply = vlm_host.ask(make())
    assert reply["type"] == "error" and reply["id"] == "pt"
    assert reply["code"] == code and words in reply["message"], reply


def test_a_host_without_a_vlm_says_which_profile_has_one_and_how_to_get_it(host: RunningHost) -> None:
    reply = ask(host, point_request(png(screenshot())))
    assert reply["type"] == "error" and reply["code"] == "model_unavailable"
    assert "no vlm model" in reply["message"]
    assert "SIGHTLINE_PROFILE=" in reply["message"] and "sightline-host models pull " in reply["message"]
