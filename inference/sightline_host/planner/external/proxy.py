"""A chat engine that forwards to an external engine's OpenAI endpoint, so the app keeps one endpoint and one
token whichever engine runs the planner. The JSON schema goes along as `response_format`, which vLLM
(xgrammar), llama.cpp's servers (a grammar) and TensorRT-LLM enforce while decoding."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any, cast

import httpx

from sightline_host.planner.chat_types import ChatDelta, ChatRequest, EngineError, FinishReason, Usage
from sightline_host.planner.external.process import EngineProcess, EngineProcessError


class ProxyChatEngine:
    def __init__(self, model_id: str, process: EngineProcess, timeout_s: float = 300.0) -> None:
        self.model_id = model_id
        self.process = process
        self._timeout = httpx.Timeout(timeout_s, connect=5.0)

    def body(self, request: ChatRequest) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.process.spec.served_name,
            "messages": [{"role": m.role, "content": m.content} for m in request.messages],
            "max_tokens": request.max_tokens,
            "temperature": request.temperature,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        if request.seed is not None:
            body["seed"] = request.seed
        if request.stop:
            body["stop"] = request.stop
        if request.json_schema is not None and self.process.spec.kind == "llama-cpp-python":
            # llama-cpp-python's server takes the schema on a json_object format and turns it into a grammar.
            body["response_format"] = {"type": "json_object", "schema": request.json_schema}
        elif request.json_schema is not None:
            body["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "answer", "schema": request.json_schema, "strict": True},
            }
        return body

    def stream(self, request: ChatRequest, usage: Usage, cancelled: Callable[[], bool]) -> Iterator[ChatDelta]:
        try:
            self.process.ensure_running()
        except EngineProcessError as error:
            raise EngineError("engine_unavailable", str(error), 503) from error
        headers = {"Authorization": f"Bearer {self.process.spec.api_key}"}
        url = f"{self.process.spec.base_url}/chat/completions"
        try:
            with (
                httpx.Client(timeout=self._timeout) as client,
                client.stream("POST", url, json=self.body(request), headers=headers) as response,
            ):
                if response.status_code != 200:
                    raise EngineError(
                        "engine_error",
                        f"the {self.process.spec.kind} engine answered {response.status_code}: "
                        f"{response.read().decode(errors='replace')[:500]}",
                        502,
                    )
                yield from self._deltas(response.iter_lines(), usage, cancelled)
        except httpx.HTTPError as error:
            raise EngineError(
                "engine_unavailable", f"the {self.process.spec.kind} engine did not answer: {error}", 503
            ) from error

    @staticmethod
    def _deltas(lines: Iterator[str], usage: Usage, cancelled: Callable[[], bool]) -> Iterator[ChatDelta]:
        for line in lines:
            if cancelled():
                return
            if not line.startswith("data:"):
                continue
            data = line[5:].strip()
            if data == "[DONE]":
                return
            chunk = cast(dict[str, Any], json.loads(data))
            if chunk.get("usage"):
                usage.prompt_tokens = int(chunk["usage"].get("prompt_tokens") or 0)
                usage.completion_tokens = int(chunk["usage"].get("completion_tokens") or 0)
                details = chunk["usage"].get("prompt_tokens_details") or {}
                usage.cached_prompt_tokens = int(details.get("cached_tokens") or 0)
            for choice in chunk.get("choices") or []:
                text = (choice.get("delta") or {}).get("content") or ""
                finish = choice.get("finish_reason")
                reason: FinishReason | None = "length" if finish == "length" else "stop" if finish else None
                if text or reason:
                    yield ChatDelta(text, reason)
