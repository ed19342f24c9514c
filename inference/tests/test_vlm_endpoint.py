"""The vlm role end to end: a tiny random LLaVA pulled through the real model store from a local hub, served by
the real host process, asked about a screenshot sent as a data URL over the OpenAI-compatible endpoint."""

from __future__ import annotations

import base64
import io
import json
import math
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from PIL import Image
from safetensors import safe_open

from sightline_host.models.catalog import load_catalog
from sightline_host.models.store import ModelStore
from sightline_host.planner.chat_types import ChatMessage, ChatRequest, Usage
from sightline_host.planner.external.launch import LaunchSpec
from sightline_host.planner.external.process import EngineProcess
from sightline_host.planner.external.running import free_port
from sightline_host.protocol import MAX_IMAGE_PIXELS
from sightline_host.vlm.data_url import image_from_pixels
from sightline_host.vlm.loading import load_vlm
from sightline_host.vlm.remote import VisionProxyChatEngine
from tests.conftest import RunningHost, start_host, stop_host
from tests.fake_hub import FakeHub, RepoFile
from tests.test_vlm_engine import screenshot

MODELS = Path(__file__).resolve().parents[2] / "models"
REPO = "sightline-test/tiny-llava"
COMMIT = "c" * 40
MODEL = "tiny-llava"


@dataclass
class Served:
    host: RunningHost
    hub: FakeHub
    store: ModelStore
    checkpoint: Path
    env: dict[str, str]  # what points a host at the test catalog, profile and store


def architecture(checkpoint: Path) -> dict[str, Any]:
    """The manifest's figures, read from the checkpoint as the catalog's own are read from the model's files."""
    text = json.loads((checkpoint / "config.json").read_text())["text_config"]
    with safe_open(checkpoint / "model.safetensors", "numpy") as weights:
        counts = {name: math.prod(weights.get_slice(name).get_shape()) for name in weights.keys()}  # noqa: SIM118
    vision = sum(n for name, n in counts.items() if "vision_tower" in name)
    return {
        "kind": "vlm-decoder",
        "params": sum(counts.values()),
        "layers": text["num_hidden_layers"],
        "hidden_size": text["hidden_size"],
        "intermediate_size": text["intermediate_size"],
        "attention_heads": text["num_attention_heads"],
        "kv_heads": text["num_key_value_heads"],
        "head_dim": text["hidden_size"] // text["num_attention_heads"],
        "vocab_size": text["vocab_size"],
        "max_context": text["max_position_embeddings"],
        "vision": {"encoder": "tiny CLIP ViT, 28 px, patch 14", "params": vision},
    }


def write_catalog(root: Path, checkpoint: Path) -> Path:
    (root / "catalog").mkdir(parents=True)
    (root / "profiles").mkdir()
    for schema in ("catalog.schema.json", "profile.schema.json"):
        shutil.copy(MODELS / schema, root / schema)
    # The embedded planner comes along as the profile's text-only model.
    for model in ("smollm2-135m-instruct-q4_1", "rapidocr-ppocrv4"):
        shutil.copy(MODELS / "catalog" / f"{model}.yaml", root / "catalog")
    manifest = {
        "id": MODEL,
        "name": "Tiny random LLaVA (tests)",
        "role": "vlm",
        "format": "safetensors",
        "source": {"hub": REPO, "revision": COMMIT},
        "files": [{"name": p.name, "sha256": None, "size_bytes": None} for p in sorted(checkpoint.iterdir())],
        "architecture": architecture(checkpoint),
        "quantization": {"method": "none", "bits": 32, "dtype": "float32"},
        "runtime": {"engine": "builtin", "device": "cpu"},
        "licence": {"id": "apache-2.0"},
    }
    (root / "catalog" / f"{MODEL}.yaml").write_text(yaml.safe_dump(manifest), "utf-8")
    profile = {
        "id": "vlm-test",
        "description": "A text-only planner and a tiny VLM, on the CPU.",
        "device": "cpu",
        "models": {
            "planner": {"model": "smollm2-135m-instruct-q4_1", "device": "cpu", "context": 4096},
            "vlm": {"model": MODEL, "device": "cpu", "context": 512},
            "ocr": {"model": "rapidocr-ppocrv4", "device": "cpu"},
        },
    }
    (root / "profiles" / "vlm-test.yaml").write_text(yaml.safe_dump(profile), "utf-8")
    return root


@pytest.fixture(scope="module")
def served(tiny_vlm_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    root = tmp_path_factory.mktemp("vlm-endpoint")
    catalog_dir = write_catalog(root / "models", tiny_vlm_dir)
    files = {p.name: RepoFile(p.read_bytes(), lfs=p.suffix == ".safetensors") for p in tiny_vlm_dir.iterdir()}
    hub = FakeHub(REPO, {COMMIT: files}, {"main": COMMIT}).start()
    store = ModelStore(load_catalog(catalog_dir), root / "store", endpoint=hub.endpoint, token=False)
    env = {
        "SIGHTLINE_CATALOG_DIR": str(catalog_dir),
        "SIGHTLINE_PROFILE": "vlm-test",
        "SIGHTLINE_MODELS_DIR": str(store.root),
    }
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        host = start_host()
    try:
        yield Served(host, hub, store, tiny_vlm_dir, env)
    finally:
        stop_host(host)
        hub.stop()


@pytest.fixture
def pulled(served: Served) -> Served:
    served.store.pull(MODEL)
    return served


def client(host: RunningHost) -> httpx.Client:
    return httpx.Client(base_url=f"{host.url}/v1", headers={"authorization": f"Bearer {host.token}"}, timeout=120)


def data_url(image: Image.Image, kind: str = "PNG") -> str:
    buffer = io.BytesIO()
    image.save(buffer, format=kind)
    return f"data:image/{kind.lower()};base64,{base64.b64encode(buffer.getvalue()).decode()}"


def vision_request(url: str | None, model: str = "vlm", **extra: Any) -> dict[str, Any]:
    parts: list[dict[str, Any]] = [{"type": "image_url", "image_url": {"url": url}}] if url else []
    parts.append({"type": "text", "text": "Describe this screenshot."})
    return {"model": model, "messages": [{"role": "user", "content": parts}], "max_tokens": 12, **extra}


def sse_events(response: httpx.Response) -> list[str]:
    return [line[len("data: ") :] for line in response.iter_lines() if line.startswith("data: ")]


def test_the_vlm_is_listed_as_reading_images(served: Served) -> None:
    listed = {m["id"]: m for m in client(served.host).get("/models").json()["data"]}
    assert listed[MODEL]["role"] == "vlm" and listed[MODEL]["input_modalities"] == ["text", "image"]
    assert listed[MODEL]["context_length"] == 512
    assert listed["smollm2-135m-instruct-q4_1"]["input_modalities"] == ["text"]


def test_a_missing_model_names_the_pull_command_until_it_is_pulled(served: Served) -> None:
    http = client(served.host)
    http.post(f"{served.host.url}/models/vlm/unload")
    served.store.remove(MODEL)
    missing = http.post("/chat/completions", json=vision_request(data_url(screenshot())))
    assert missing.status_code == 503
    error = missing.json()["error"]
    assert error["code"] == "model_unavailable" and f"sightline-host models pull {MODEL}" in error["message"]

    served.store.pull(MODEL)
    answered = http.post("/chat/completions", json=vision_request(data_url(screenshot())))
    assert answered.status_code == 200 and answered.json()["usage"]["completion_tokens"] == 12


def test_the_answer_is_the_models_own_answer_about_that_image(pulled: Served) -> None:
    image = screenshot(320, 200, button=(60, 40))
    body = client(pulled.host).post("/chat/completions", json=vision_request(data_url(image))).json()
    choice = body["choices"][0]
    assert body["model"] == MODEL and choice["finish_reason"] == "length"
    # The same checkpoint, loaded here, given the same pixels and words, answers the same (greedy decoding):
    # the image survived the data URL and reached the model, and the prompt is the one the host built.
    local = load_vlm(MODEL, pulled.checkpoint, {}, "cpu", 512)
    usage = Usage()
    message = ChatMessage("user", "Describe this screenshot.", (image_from_pixels(image),))
    expected = "".join(d.text for d in local.stream(ChatRequest([message], max_tokens=12), usage, lambda: False))
    assert choice["message"]["content"] == expected
    assert body["usage"]["prompt_tokens"] == usage.prompt_tokens
    assert body["usage"]["total_tokens"] == usage.prompt_tokens + 12

    text_only = client(pulled.host).post("/chat/completions", json=vision_request(None)).json()
    assert text_only["usage"]["prompt_tokens"] < usage.prompt_tokens  # the image's patch tokens count


def test_streaming_sends_the_same_answer_in_pieces_then_usage(pulled: Served) -> None:
    request = vision_request(data_url(screenshot(), "JPEG"))
    whole = client(pulled.host).post("/chat/completions", json=request).json()
    streamed = {**request, "stream": True, "stream_options": {"include_usage": True}}
    with client(pulled.host).stream("POST", "/chat/completions", json=streamed) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        events = sse_events(response)
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"] == whole["usage"]
    pieces = [c["choices"][0]["delta"].get("content", "") for c in chunks[:-1]]
    assert sum(1 for p in pieces if p) > 1
    assert "".join(pieces) == whole["choices"][0]["message"]["content"]
    assert chunks[-2]["choices"][0]["finish_reason"] == "length"


def test_a_text_only_model_still_refuses_images(served: Served) -> None:
    response = client(served.host).post("/chat/completions", json=vision_request(data_url(screenshot()), "planner"))
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "unsupported_content"


def test_a_remote_image_url_is_refused_and_never_fetched(served: Served) -> None:
    before = len(served.hub.requests)
    for url in (f"{served.hub.endpoint}/screen.png", "file:///etc/hostname"):
        response = client(served.host).post("/chat/completions", json=vision_request(url))
        assert response.status_code == 400
        error = response.json()["error"]
        assert error["code"] == "unsupported_image_url" and "data URL" in error["message"]
        assert error["param"] == "messages.0.content.0.image_url.url"
        assert error["type"] == "invalid_request_error"
    assert len(served.hub.requests) == before


def too_many_pixels() -> str:
    side = int(MAX_IMAGE_PIXELS**0.5) + 8
    return data_url(Image.new("RGB", (side, side), "white"))


@pytest.mark.parametrize(
    ("url", "code", "words"),
    [
        ("data:image/png;base64,@@not base64@@", "bad_image", "base64"),
        ("data:image/png,iVBORw0KGgo=", "bad_image", "base64 data URL"),
        ("data:text/plain;base64,aGVsbG8=", "bad_image", "image/png or image/jpeg"),
        ("data:image/png;base64,aGVsbG8gd29ybGQ=", "bad_image", "PNG or JPEG"),
        ("too many pixels", "image_too_large", "the limit is"),
    ],
)
def test_bad_images_get_openai_style_errors(served: Served, url: str, code: str, words: str) -> None:
    url = too_many_pixels() if url == "too many pixels" else url
    response = client(served.host).post("/chat/completions", json=vision_request(url))
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == code and words in error["message"]
    assert error["param"] == "messages.0.content.0.image_url.url"


def test_more_images_than_a_request_may_carry_are_refused(served: Served) -> None:
    url = data_url(Image.new("RGB", (8, 8), "white"))
    request = vision_request(url)
    request["messages"][0]["content"] = [{"type": "image_url", "image_url": {"url": url}}] * 5
    response = client(served.host).post("/chat/completions", json=request)
    assert response.status_code == 400 and response.json()["error"]["code"] == "too_many_images"


def test_an_external_vision_engine_gets_the_images_forwarded(pulled: Served) -> None:
    """The vlm served through an external OpenAI-compatible engine: here a second host process stands in for vLLM
    (same wire format), started and health-checked as the host starts its external engines."""
    port, key = free_port(), "k" * 32
    spec = LaunchSpec(
        kind="vllm",
        argv=(sys.executable, "-m", "sightline_host", "serve", "--port", str(port)),
        base_url=f"http://127.0.0.1:{port}/v1",
        health_url=f"http://127.0.0.1:{port}/healthz",
        served_name=MODEL,
        api_key=key,
        env={**pulled.env, "SIGHTLINE_HOST_TOKEN": key},
    )
    process = EngineProcess(spec, startup_timeout_s=60)
    process.start()
    try:
        engine = VisionProxyChatEngine(MODEL, process)
        image = screenshot(200, 120, button=(150, 90))
        message = ChatMessage("user", "Describe this screenshot.", (image_from_pixels(image),))
        usage = Usage()
        forwarded = "".join(d.text for d in engine.stream(ChatRequest([message], max_tokens=12), usage, lambda: False))
    finally:
        process.stop()
    direct = client(pulled.host).post("/chat/completions", json=vision_request(data_url(image))).json()
    assert forwarded == direct["choices"][0]["message"]["content"]
    assert usage.prompt_tokens == direct["usage"]["prompt_tokens"] and usage.completion_tokens == 12
