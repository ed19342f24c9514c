"""One app connection on `/ws`: every message validated against the shared schema, every error typed, never fatal."""

import asyncio
import json
import logging
import time
from typing import Any, cast

from starlette.websockets import WebSocket, WebSocketDisconnect

from sightline_host import __version__
from sightline_host.images import ImageRejected, decode_base64_image
from sightline_host.ocr import ModelUnavailable, OcrEngine
from sightline_host.protocol import MAX_OBSERVES_IN_FLIGHT, PROTOCOL_VERSION, client_problem, host_problem
from sightline_host.protocol.types import ErrorMessage, HostMessage, Observe, ObserveResult

log = logging.getLogger(__name__)


def error(request_id: str | None, code: str, message: str) -> ErrorMessage:
    return cast(ErrorMessage, {"type": "error", "id": request_id, "code": code, "message": message})


def _readable_id(message: object) -> str | None:
    if isinstance(message, dict):
        candidate = message.get("id")
        if isinstance(candidate, str) and 0 < len(candidate) <= 64:
            return candidate
    return None


class Session:
    def __init__(self, socket: WebSocket, ocr: OcrEngine) -> None:
        self._socket = socket
        self._ocr = ocr
        self._send_lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[None]] = set()
        self._observes_in_flight = 0

    async def run(self) -> None:
        try:
            while True:
                frame = await self._socket.receive()
                if frame["type"] == "websocket.disconnect":
                    break
                if frame.get("text") is None:
                    await self._send(
                        error(None, "bad_request", "binary frames are not part of the protocol; send JSON text")
                    )
                    continue
                self._spawn(self._handle_text(frame["text"]))
        except WebSocketDisconnect:
            pass
        finally:
            for task in self._tasks:
                task.cancel()

    def _spawn(self, work: Any) -> None:
        # Requests on one socket run concurrently; replies carry their request's id.
        task: asyncio.Task[None] = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _send(self, message: HostMessage) -> None:
        problem = host_problem(message)
        if problem is not None:
            log.error("refusing to send a message that breaks the protocol: %s", problem)
            message = error(_readable_id(message), "internal", "the host produced an invalid reply")
        async with self._send_lock:
            await self._socket.send_text(json.dumps(message))

    async def _handle_text(self, text: str) -> None:
        try:
            message: object = json.loads(text)
        except json.JSONDecodeError as exc:
            await self._send(error(None, "bad_request", f"message is not JSON: {exc.msg} at {exc.pos}"))
            return
        request_id = _readable_id(message)
        kind = message.get("type") if isinstance(message, dict) else None
        if isinstance(kind, str) and kind not in ("hello", "ping", "observe"):
            await self._send(error(request_id, "unknown_type", f"unknown message type {kind!r}"))
            return
        problem = client_problem(message)
        if problem is not None:
            await self._send(error(request_id, "bad_request", f"invalid message: {problem}"))
            return
        assert isinstance(message, dict) and request_id is not None
        try:
            await self._send(await self._dispatch(message, request_id))
        except Exception as exc:
            log.exception("request %s failed", request_id)
            await self._send(error(request_id, "internal", f"{type(exc).__name__}: {exc}"))

    async def _dispatch(self, message: dict[str, Any], request_id: str) -> HostMessage:
        match message["type"]:
            case "hello":
                if message["protocol"] != PROTOCOL_VERSION:
                    return error(
                        request_id,
                        "unsupported_protocol",
                        f"this host speaks protocol {PROTOCOL_VERSION}; the app asked for {message['protocol']}",
                    )
                return {
                    "type": "hello_ok",
                    "id": request_id,
                    "protocol": PROTOCOL_VERSION,
                    "host": f"sightline-host/{__version__}",
                    "capabilities": ["ocr"],
                }
            case "ping":
                return {"type": "pong", "id": request_id}
            case _:
                return await self._observe(cast(Observe, message))

    async def _observe(self, request: Observe) -> HostMessage:
        # Each waiting observe holds a decoded frame (up to ~100 MB): a flood gets an answer, not an OOM.
        if self._observes_in_flight >= MAX_OBSERVES_IN_FLIGHT:
            return error(
                request["id"],
                "busy",
                f"{self._observes_in_flight} observe requests are already in progress on this connection; "
                "send the next when one has answered",
            )
        self._observes_in_flight += 1
        try:
            return await self._observe_now(request)
        finally:
            self._observes_in_flight -= 1

    async def _observe_now(self, request: Observe) -> HostMessage:
        request_id = request["id"]
        started = time.perf_counter()
        try:
            rgb = await asyncio.to_thread(decode_base64_image, request["image"]["data"])
        except ImageRejected as rejected:
            return error(request_id, rejected.code, str(rejected))
        decoded = time.perf_counter()
        try:
            lines = await asyncio.to_thread(self._ocr.read, rgb, request.get("min_confidence", 0.5))
        except ModelUnavailable as exc:
            return error(request_id, "model_unavailable", str(exc))
        done = time.perf_counter()
        result: ObserveResult = {
            "type": "observe_result",
            "id": request_id,
            "image_width": int(rgb.shape[1]),
            "image_height": int(rgb.shape[0]),
            "lines": lines,
            "timings_ms": {"decode": (decoded - started) * 1000, "ocr": (done - decoded) * 1000},
        }
        return result
