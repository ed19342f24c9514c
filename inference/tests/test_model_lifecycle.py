"""Loading and unloading the profile's models: the host's memory accounting follows, and a model that does not
fit is a clear out-of-memory error while the host keeps serving."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from sightline_host.app import create_app
from sightline_host.models.catalog import Catalog, load_catalog
from sightline_host.planner.chat_types import ChatEngine, EngineError
from sightline_host.planner.registry import FACTORIES, ChatModels, ServedModel
from sightline_host.telemetry.accounting import ACCOUNTING

TOKEN = "t" * 32


@pytest.fixture(autouse=True)
def clean_accounting() -> Iterator[None]:
    ACCOUNTING.clear()
    yield
    ACCOUNTING.clear()


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


def _held(role: str) -> list[tuple[str, str, int]]:
    return [(h["model_id"], h["device"], h["bytes"]) for h in ACCOUNTING.holdings() if h["role"] == role]


def test_load_and_unload_move_the_hosts_accounting(catalog: Catalog) -> None:
    models = ChatModels(catalog, catalog.profile("embedded"))
    manifest = catalog.model("smollm2-135m-instruct-q4_1")
    size = sum(f.size_bytes or 0 for f in manifest.files)
    assert size > 50_000_000
    assert _held("planner") == []
    models.load("planner")
    assert models.loaded() == [manifest.id]
    assert _held("planner") == [(manifest.id, "cpu", size)]
    assert models.unload("planner") is True
    assert models.loaded() == [] and _held("planner") == []
    assert models.unload("planner") is False


def _oom_factory(model: ServedModel, path: Path) -> ChatEngine:
    raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 23.65 GiB total capacity)")


def test_a_model_that_does_not_fit_is_a_clear_error_and_the_host_keeps_serving(catalog: Catalog) -> None:
    models = ChatModels(catalog, catalog.profile("embedded"), factories={**FACTORIES, "llama.cpp": _oom_factory})
    with pytest.raises(EngineError) as failed:
        models.load("planner")
    assert failed.value.code == "out_of_memory" and failed.value.status == 503
    assert "Tried to allocate 2.00 GiB" in str(failed.value) and "models plan" in str(failed.value)
    assert models.loaded() == [] and _held("planner") == []

    app = create_app(TOKEN, chat_models=models)
    with TestClient(app) as client:
        auth = {"Authorization": f"Bearer {TOKEN}"}
        answer = client.post("/models/planner/load", headers=auth)
        assert answer.status_code == 503 and answer.json()["error"]["code"] == "out_of_memory"
        assert client.get("/healthz", headers=auth).status_code == 200
        assert client.get("/models", headers=auth).json()["models"][0]["loaded"] is False


def test_load_and_unload_over_http_need_the_token(catalog: Catalog) -> None:
    app = create_app(TOKEN, chat_models=ChatModels(catalog, catalog.profile("embedded")))
    with TestClient(app) as client:
        assert client.post("/models/planner/load").status_code == 401
        auth = {"Authorization": f"Bearer {TOKEN}"}
        assert client.post("/models/planner/load", headers=auth).json() == {
            "id": "smollm2-135m-instruct-q4_1",
            "role": "planner",
            "loaded": True,
        }
        assert [h["role"] for h in ACCOUNTING.holdings()] == ["planner"]
        unloaded = client.post("/models/smollm2-135m-instruct-q4_1/unload", headers=auth).json()
        assert unloaded["loaded"] is False and unloaded["was_loaded"] is True
        assert ACCOUNTING.holdings() == ()
        assert client.post("/models/nope/load", headers=auth).status_code == 404
