"""The host's OpenAI-compatible endpoint: /v1/models and /v1/chat/completions, streamed over SSE or not."""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sightline_host.planner.chat_types import ChatDelta, ChatImage, ChatMessage, ChatRequest, EngineError, Usage
from sightline_host.planner.registry import ChatModels
from sightline_host.vlm.data_url import image_from_data_url

MAX_COMPLETION_TOKENS = 4096
# Each image may be as large as one the WebSocket takes (protocol MAX_IMAGE_BYTES / MAX_IMAGE_PIXELS); a screen
# assistant asks about one screenshot at a time, and a few decoded 8K frames are already hundreds of MB.
MAX_IMAGES_PER_REQUEST = 4


class _ImageUrl(BaseModel):
    url: str


class _ContentPart(BaseModel):
    type: Literal["text", "image_url"]
    text: str | None = None
    image_url: _ImageUrl | None = None


class _Message(BaseModel):
    role: Literal["system", "user", "assistant", "developer"]
    content: str | list[_ContentPart]


class _JsonSchemaSpec(BaseModel):
    name: str
    schema_: dict[str, Any] = Field(alias="schema")
    strict: bool | None = None


class _ResponseFormat(BaseModel):
    type: Literal["text", "json_object", "json_schema"]
    json_schema: _JsonSchemaSpec | None = None


class _StreamOptions(BaseModel):
    include_usage: bool = False


class _ChatCompletionBody(BaseModel):
    # Parameters this host does not implement (top_p, user …) are accepted and ignored: OpenAI clients send them.
    model_config = ConfigDict(extra="ignore")

    model: str
    messages: list[_Message] = Field(min_length=1)
    stream: bool = False
    stream_options: _StreamOptions | None = None
    max_tokens: int | None = Field(default=None, ge=1, le=MAX_COMPLETION_TOKENS)
    max_completion_tokens: int | None = Field(default=None, ge=1, le=MAX_COMPLETION_TOKENS)
    temperature: float = Field(default=0.0, ge=0.0, le=2.0)
    seed: int | None = None
    stop: str | list[str] | None = None
    response_format: _ResponseFormat | None = None


def openai_error(status: int, code: str, message: str, param: str | None = None) -> JSONResponse:
    kind = "invalid_request_error" if status < 500 else "server_error"
    return JSONResponse({"error": {"message": message, "type": kind, "param": param, "code": code}}, status_code=status)


def _check_image_parts(body: _ChatCompletionBody, reads_images: bool) -> None:
    """Refuses images before any is decoded: for a text-only model, or more than a request may carry."""
    count = sum(
        1 for m in body.messages if not isinstance(m.content, str) for part in m.content if part.type == "image_url"
    )
    if count and not reads_images:
        raise EngineError("unsupported_content", "this model reads text only; send images to the vlm role")
    if count > MAX_IMAGES_PER_REQUEST:
        raise EngineError(
            "too_many_images", f"{count} images in one request; the limit is {MAX_IMAGES_PER_REQUEST}", 400, "messages"
        )


def _message(index: int, message: _Message) -> ChatMessage:
    role: Literal["system", "user", "assistant"] = "system" if message.role == "developer" else message.role
    if isinstance(message.content, str):
        return ChatMessage(role, message.content)
    texts: list[str] = []
    images: list[ChatImage] = []
    for number, part in enumerate(message.content):
        where = f"messages.{index}.content.{number}"
        if part.type == "text":
            texts.append(part.text or "")
        elif part.image_url is None:
            raise EngineError("bad_request", "a part of type image_url needs an image_url", 400, f"{where}.image_url")
        else:
            images.append(image_from_data_url(part.image_url.url, f"{where}.image_url.url"))
    return ChatMessage(role, "".join(texts), tuple(images))


def _chat_request(body: _ChatCompletionBody, reads_images: bool) -> ChatRequest:
    """The engine's request; decodes the images (CPU work: call it off the event loop)."""
    _check_image_parts(body, reads_images)
    schema: dict[str, Any] | None = None
    if body.response_format and body.response_format.type == "json_schema":
        if body.response_format.json_schema is None:
            raise EngineError("bad_request", "response_format of type json_schema needs a json_schema")
        schema = body.response_format.json_schema.schema_
    elif body.response_format and body.response_format.type == "json_object":
        schema = {"type": "object"}
    stops = [body.stop] if isinstance(body.stop, str) else list(body.stop or [])
    messages = [_message(index, m) for index, m in enumerate(body.messages)]
    return ChatRequest(
        messages=messages,
        max_tokens=body.max_completion_tokens or body.max_tokens or 512,
        temperature=body.temperature,
        seed=body.seed,
        json_schema=schema,
        stop=stops,
    )


def _usage_json(usage: Usage) -> dict[str, Any]:
    return {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.prompt_tokens + usage.completion_tokens,
        "prompt_tokens_details": {"cached_tokens": usage.cached_prompt_tokens},
    }


class _Cancel:
    def __init__(self) -> None:
        self._event = threading.Event()

    def set(self) -> None:
        self._event.set()

    def __call__(self) -> bool:
        return self._event.is_set()


async def _deltas_from_thread(deltas: Iterator[ChatDelta], cancel: _Cancel) -> AsyncIterator[ChatDelta]:
    """Runs the engine's blocking generator in a worker thread and hands its deltas to the event loop."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[ChatDelta | BaseException | None] = asyncio.Queue()

    def work() -> None:
        try:
            for delta in deltas:
                loop.call_soon_threadsafe(queue.put_nowait, delta)
        except BaseException as error:  # handed to the loop, which re-raises it there
            loop.call_soon_threadsafe(queue.put_nowait, error)
        finally:
            loop.call_soon_threadsafe(queue.put_nowait, None)

    worker = asyncio.get_running_loop().run_in_executor(None, work)
    try:
        while (item := await queue.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        # The client went away or the request ended: either way the engine stops at its next token.
        cancel.set()
        await asyncio.shield(worker)


async def _parse_body(request: Request) -> _ChatCompletionBody | JSONResponse:
    try:
        raw = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return openai_error(400, "bad_request", "the request body is not JSON")
    try:
        return _ChatCompletionBody.model_validate(raw)
    except ValidationError as error:
        problem = error.errors()[0]
        param = ".".join(str(p) for p in problem["loc"])
        return openai_error(400, "bad_request", f"{param}: {problem['msg']}", param)


def create_openai_router(models: ChatModels) -> APIRouter:
    router = APIRouter(prefix="/v1")

    @router.get("/models")
    async def list_models() -> dict[str, Any]:
        return {
            "object": "list",
            "data": [
                {
                    "id": m.id,
                    "object": "model",
                    "created": 0,
                    "owned_by": "sightline",
                    "role": m.role,
                    # Prompt plus answer must fit in this many tokens; clients size their prompts by it.
                    "context_length": m.context,
                    # Which content parts a request to this model may carry.
                    "input_modalities": ["text", "image"] if m.role == "vlm" else ["text"],
                }
                for m in models.served
            ],
        }

    @router.post("/chat/completions", response_model=None)
    async def chat_completions(request: Request) -> Response:
        body = await _parse_body(request)
        if isinstance(body, JSONResponse):
            return body
        try:
            # Decoding images and loading a model take seconds; keep the event loop free meanwhile.
            chat = await asyncio.to_thread(_chat_request, body, models.accepts_images(body.model))
            engine = await asyncio.to_thread(models.engine, body.model)
        except EngineError as error:
            return openai_error(error.status, error.code, str(error), error.param)
        completion_id = f"chatcmpl-{uuid.uuid4().hex}"
        created = int(time.time())
        usage = Usage()
        cancel = _Cancel()
        deltas = _deltas_from_thread(engine.stream(chat, usage, cancel), cancel)

        if not body.stream:
            text, finish = "", None
            try:
                async for delta in deltas:
                    text += delta.text
                    finish = delta.finish_reason or finish
            except EngineError as error:
                return openai_error(error.status, error.code, str(error))
            return JSONResponse(
                {
                    "id": completion_id,
                    "object": "chat.completion",
                    "created": created,
                    "model": engine.model_id,
                    "choices": [
                        {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": finish}
                    ],
                    "usage": _usage_json(usage),
                }
            )

        # Errors before the first token still get a plain HTTP error; later ones arrive as an SSE error event.
        head: ChatDelta | None
        try:
            head = await anext(deltas, None)
        except EngineError as error:
            return openai_error(error.status, error.code, str(error))

        def chunk(delta: dict[str, Any], finish: str | None) -> str:
            payload = {
                "id": completion_id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": engine.model_id,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            }
            return f"data: {json.dumps(payload)}\n\n"

        async def events() -> AsyncIterator[str]:
            yield chunk({"role": "assistant", "content": ""}, None)
            try:
                pending = head
                while pending is not None:
                    content = {"content": pending.text} if pending.text else {}
                    if content or pending.finish_reason:
                        yield chunk(content, pending.finish_reason)
                    pending = await anext(deltas, None)
            except EngineError as error:
                yield f"data: {json.dumps({'error': {'message': str(error), 'code': error.code}})}\n\n"
                return
            if body.stream_options and body.stream_options.include_usage:
                payload = {
                    "id": completion_id,
                    "object": "chat.completion.chunk",
                    "created": created,
                    "model": engine.model_id,
                    "choices": [],
                    "usage": _usage_json(usage),
                }
                yield f"data: {json.dumps(payload)}\n\n"
            yield "data: [DONE]\n\n"

        return StreamingResponse(events(), media_type="text/event-stream", headers={"cache-control": "no-cache"})

    return router
