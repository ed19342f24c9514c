"""One app connection on `/ws`: every message validated against the shared schema, every error typed, never fatal."""

import asyncio
import contextlib
import json
import logging
import threading
import time
from collections.abc import Coroutine
from typing import Any, cast

import numpy as np
from numpy.typing import NDArray
from starlette.websockets import WebSocket, WebSocketDisconnect

from sightline_host import __version__
from sightline_host.images import ImageRejected, decode_base64_image, decode_raw_base64, decode_raw_image
from sightline_host.model_pulls import (
    ProgressThrottle,
    PullInProgress,
    PullRegistry,
    failure_of,
    model_entries,
    progress_message,
    run_pull,
)
from sightline_host.models.catalog import CatalogError, load_catalog
from sightline_host.models.store import ModelStore, ProgressEvent, StoreError
from sightline_host.ocr import ModelUnavailable, OcrEngine
from sightline_host.planner.registry import ChatModels
from sightline_host.point_request import POINT_CAPABILITY, answer_point
from sightline_host.protocol import MAX_OBSERVES_IN_FLIGHT, PROTOCOL_VERSION, client_problem, host_problem
from sightline_host.protocol.frames import BadFrame, split_binary_frame
from sightline_host.protocol.types import (
    EncodedImage,
    ErrorMessage,
    HostMessage,
    Observe,
    ObserveResult,
    Point,
    PullProgress,
    PullResult,
    RawImage,
    TextLine,
)
from sightline_host.telemetry import ReplayError, TelemetrySnapshot, TelemetrySource, open_source
from sightline_host.vision.detector import Detection
from sightline_host.vision.letterbox import BadImage
from sightline_host.vision.merge import merge_elements
from sightline_host.vision.service import DetectorService, shared_detector
from sightline_host.vram_request import UnknownProfile, plan_vram

log = logging.getLogger(__name__)

DEFAULT_TELEMETRY_INTERVAL_MS = 1000
#: plan_vram reuses the telemetry stream's last sample while it is at most this old.
PLAN_SNAPSHOT_MAX_AGE_S = 5.0
_shared_telemetry: TelemetrySource | None = None
_shared_telemetry_lock = threading.Lock()
#: The host's model pulls, shared by its connections: one pull per model at a time.
_pulls = PullRegistry()


def shared_telemetry() -> TelemetrySource:
    """The host process's telemetry source (NVML starts once per process), chosen on first use by
    :func:`sightline_host.telemetry.open_source`. A bad replay file raises every time, never caches."""
    global _shared_telemetry  # noqa: PLW0603 - one source per process
    with _shared_telemetry_lock:
        if _shared_telemetry is None:
            _shared_telemetry = open_source()
        return _shared_telemetry


def error(request_id: str | None, code: str, message: str, command: str | None = None) -> ErrorMessage:
    reply = {"type": "error", "id": request_id, "code": code, "message": message}
    return cast(ErrorMessage, reply if command is None else {**reply, "command": command})


def _readable_id(message: object) -> str | None:
    if isinstance(message, dict):
        candidate = message.get("id")
        if isinstance(candidate, str) and 0 < len(candidate) <= 64:
            return candidate
    return None


def _misplaced_pixels(message: dict[str, Any], pixels: memoryview | None) -> str | None:
    """Why a valid message's pixels are in the wrong place (binary frame vs `data`), or None when they are not."""
    image: dict[str, Any] = message.get("image", {}) if message["type"] in ("observe", "point") else {}
    raw = image.get("format") in ("rgba", "bgra")
    if pixels is not None and not raw:
        return (
            "a binary frame carries only an observe with a raw (rgba or bgra) image, or a point with one; "
            "send other messages as text"
        )
    if raw and pixels is not None and "data" in image:
        return "a raw image in a binary frame has its pixels after the JSON; leave out `data`"
    if raw and pixels is None and "data" not in image:
        return "a raw image sent as text needs `data` (base64 of its pixels), or send it in a binary frame"
    return None


class Session:
    def __init__(
        self,
        socket: WebSocket,
        ocr: OcrEngine,
        telemetry: TelemetrySource | None = None,
        detector: DetectorService | None = None,
        chat: ChatModels | None = None,
    ) -> None:
        self._socket = socket
        self._ocr = ocr
        # The profile's chat models (the host's one registry, shared with the OpenAI endpoint): `point` asks its vlm.
        self._chat = chat
        # The detector is the process's one (configured by SIGHTLINE_DETECTOR_ONNX) unless a test passes its own.
        self._detector = detector or shared_detector()
        self._telemetry = telemetry
        self._telemetry_task: asyncio.Task[None] | None = None
        # The stream's last sample and when (loop time): plan_vram plans on the GPUs the app is being shown.
        self._latest_snapshot: tuple[float, TelemetrySnapshot] | None = None
        self._telemetry_control = asyncio.Lock()
        self._send_lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[None]] = set()
        # Observe and point requests in progress or waiting: each holds a decoded image.
        self._observes_in_flight = 0

    async def run(self) -> None:
        try:
            while True:
                frame = await self._socket.receive()
                if frame["type"] == "websocket.disconnect":
                    break
                text = frame.get("text")
                if text is not None:
                    self._spawn(self._handle_text(text))
                    continue
                try:
                    text, pixels = split_binary_frame(frame.get("bytes") or b"")
                except BadFrame as exc:
                    await self._send(error(None, "bad_request", str(exc)))
                    continue
                self._spawn(self._handle_text(text, pixels))
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

    async def _handle_text(self, text: str, pixels: memoryview | None = None) -> None:
        """One message; `pixels` are the raw pixels that came after it in a binary frame."""
        try:
            message: object = json.loads(text)
        except json.JSONDecodeError as exc:
            await self._send(error(None, "bad_request", f"message is not JSON: {exc.msg} at {exc.pos}"))
            return
        request_id = _readable_id(message)
        kind = message.get("type") if isinstance(message, dict) else None
        if isinstance(kind, str) and kind not in (
            "hello",
            "ping",
            "observe",
            "point",
            "subscribe_telemetry",
            "unsubscribe_telemetry",
            "plan_vram",
            "list_models",
            "pull_model",
            "cancel_pull",
        ):
            await self._send(error(request_id, "unknown_type", f"unknown message type {kind!r}"))
            return
        problem = client_problem(message)
        if problem is not None:
            await self._send(error(request_id, "bad_request", f"invalid message: {problem}"))
            return
        assert isinstance(message, dict) and request_id is not None
        misplaced = _misplaced_pixels(message, pixels)
        if misplaced is not None:
            await self._send(error(request_id, "bad_request", misplaced))
            return
        try:
            reply = await self._dispatch(message, request_id, pixels)
            if reply is not None:  # None: the request's handler sends its own messages (telemetry)
                await self._send(reply)
        except Exception as exc:
            log.exception("request %s failed", request_id)
            await self._send(error(request_id, "internal", f"{type(exc).__name__}: {exc}"))

    async def _dispatch(  # noqa: PLR0911 - one return per message type reads better than a table of lambdas
        self, message: dict[str, Any], request_id: str, pixels: memoryview | None = None
    ) -> HostMessage | None:
        match message["type"]:
            case "hello":
                return self._hello(request_id, message["protocol"])
            case "ping":
                return {"type": "pong", "id": request_id}
            case "subscribe_telemetry":
                return await self._subscribe_telemetry(request_id, message.get("interval_ms"))
            case "unsubscribe_telemetry":
                async with self._telemetry_control:
                    await self._stop_telemetry()
                return {"type": "telemetry_stopped", "id": request_id}
            case "plan_vram":
                return await self._plan_vram(request_id, message["profile"])
            case "list_models":
                return await self._list_models(request_id)
            case "pull_model":
                return await self._pull_model(request_id, message["model_id"])
            case "cancel_pull":
                cancelled = _pulls.cancel(message["model_id"])
                return {
                    "type": "pull_cancel_result",
                    "id": request_id,
                    "model_id": message["model_id"],
                    "cancelled": cancelled,
                }
            case _:  # observe or point: the two requests that carry an image
                return await self._holding_an_image(request_id, self._image_request(message, pixels))

    def _hello(self, request_id: str, protocol: int) -> HostMessage:
        if protocol != PROTOCOL_VERSION:
            return error(
                request_id,
                "unsupported_protocol",
                f"this host speaks protocol {PROTOCOL_VERSION}; the app asked for {protocol}",
            )
        return {
            "type": "hello_ok",
            "id": request_id,
            "protocol": PROTOCOL_VERSION,
            "host": f"sightline-host/{__version__}",
            "capabilities": [
                "ocr",
                "telemetry",
                "vram_plan",
                "model_store",
                "elements",
                "raw_image",
                *(["detector"] if self._detector.configured else []),
                *([POINT_CAPABILITY] if self._chat is not None and self._chat.serves_role("vlm") else []),
            ],
        }

    # ----------------------------------------------------------------------------------- telemetry

    async def _telemetry_source(self) -> TelemetrySource:
        """This connection's source: the one a test passed, else the process's (raises ReplayError, OSError)."""
        if self._telemetry is None:
            self._telemetry = await asyncio.to_thread(shared_telemetry)
        return self._telemetry

    async def _subscribe_telemetry(self, request_id: str, interval_ms: int | None) -> HostMessage | None:
        """(Re)start this connection's one telemetry stream; its task sends every sample, the first at once."""
        interval = (interval_ms or DEFAULT_TELEMETRY_INTERVAL_MS) / 1000
        async with self._telemetry_control:
            await self._stop_telemetry()
            try:
                source = await self._telemetry_source()
            except (ReplayError, OSError) as exc:
                return error(request_id, "telemetry_unavailable", str(exc))
            task: asyncio.Task[None] = asyncio.create_task(self._stream_telemetry(source, request_id, interval))
            self._telemetry_task = task
            # Tracked with the requests, so that the socket's close cancels it too.
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return None

    async def _stop_telemetry(self) -> None:
        task, self._telemetry_task = self._telemetry_task, None
        if task is not None and not task.done():
            task.cancel()
            # asyncio.wait never raises the task's CancelledError into this (uncancelled) caller.
            await asyncio.wait([task])

    async def _stream_telemetry(self, source: TelemetrySource, request_id: str, interval: float) -> None:
        loop = asyncio.get_running_loop()
        due = loop.time()
        while True:
            try:
                snapshot = await asyncio.to_thread(source.sample)
                self._latest_snapshot = (loop.time(), snapshot)
            except Exception as exc:
                log.exception("telemetry sampling failed")
                with contextlib.suppress(Exception):  # the socket may be gone as well
                    await self._send(error(request_id, "telemetry_unavailable", f"telemetry stopped: {exc}"))
                return
            try:
                await self._send(cast(HostMessage, snapshot.to_message(request_id)))
            except Exception:
                # The socket is gone; the connection's own close handling ends the rest.
                log.debug("telemetry stream %s ended: socket closed", request_id)
                return
            due = max(due + interval, loop.time())
            await asyncio.sleep(due - loop.time())

    # ----------------------------------------------------------------------------------- VRAM plan

    async def _plan_vram(self, request_id: str, profile_id: str) -> HostMessage:
        """The planner's verdict for ``profile_id`` on the GPUs telemetry sees: the stream's latest sample when it
        is fresh (so that a replayed recording is not advanced and the verdict matches what the app shows), else
        a new sample."""
        try:
            source = await self._telemetry_source()
        except (ReplayError, OSError) as exc:
            return error(request_id, "telemetry_unavailable", str(exc))
        latest = self._latest_snapshot
        loop = asyncio.get_running_loop()
        if latest is not None and loop.time() - latest[0] <= PLAN_SNAPSHOT_MAX_AGE_S:
            snapshot = latest[1]
        else:
            try:
                snapshot = await asyncio.to_thread(source.sample)
            except Exception as exc:
                log.exception("telemetry sampling failed")
                return error(request_id, "telemetry_unavailable", f"cannot read the GPUs: {exc}")
        try:
            catalog = await asyncio.to_thread(load_catalog)
        except CatalogError as exc:
            return error(request_id, "model_unavailable", f"cannot read the model catalog: {exc}")
        try:
            plan = await asyncio.to_thread(plan_vram, request_id, catalog, profile_id, snapshot)
        except UnknownProfile as exc:
            return error(request_id, "unknown_profile", str(exc))
        return cast(HostMessage, plan)

    # ----------------------------------------------------------------------------------- model store

    async def _list_models(self, request_id: str) -> HostMessage:
        try:
            catalog = await asyncio.to_thread(load_catalog)
            entries = await asyncio.to_thread(model_entries, ModelStore(catalog))
        except CatalogError as exc:
            return error(request_id, "model_unavailable", f"cannot read the model catalog: {exc}")
        return {"type": "model_list", "id": request_id, "models": entries}

    async def _pull_model(self, request_id: str, model_id: str) -> HostMessage:
        """Runs the pull in a thread and forwards its progress (throttled, in order) until its result or error."""
        try:
            catalog = await asyncio.to_thread(load_catalog)
        except CatalogError as exc:
            return error(request_id, "model_unavailable", f"cannot read the model catalog: {exc}")
        if model_id not in catalog.manifests:
            known = ", ".join(sorted(catalog.manifests))
            return error(request_id, "unknown_model", f"no model {model_id!r} in the catalog (known: {known})")
        try:
            job = _pulls.begin(model_id)
        except PullInProgress as exc:
            return error(request_id, "pull_in_progress", str(exc))
        store = ModelStore(catalog)
        loop = asyncio.get_running_loop()
        events: asyncio.Queue[PullProgress | None] = asyncio.Queue()
        throttle = ProgressThrottle()

        def on_progress(event: ProgressEvent) -> None:  # in the pull's thread
            if throttle.passes(event):
                loop.call_soon_threadsafe(events.put_nowait, progress_message(request_id, event))

        async def pull() -> HostMessage:
            try:
                result = await asyncio.to_thread(run_pull, store, job, on_progress)
            except StoreError as exc:
                failure = failure_of(exc, store, model_id)
                return error(request_id, failure.code, failure.message, failure.command)
            finally:
                _pulls.end(job)
                # After every progress event the thread queued: the reply is the last message of the request.
                loop.call_soon_threadsafe(events.put_nowait, None)
            reply: PullResult = {
                "type": "pull_result",
                "id": request_id,
                "model_id": model_id,
                "already_present": result.already_present,
                "revision": result.revision,
                "downloaded_bytes": result.downloaded_bytes,
                "path": str(result.path),
                "message": result.message,
            }
            return cast(HostMessage, reply)

        task = asyncio.create_task(pull())
        try:
            while (message := await events.get()) is not None:
                await self._send(cast(HostMessage, message))
            return await task
        except asyncio.CancelledError:
            # The socket closed: nobody watches this pull any more, so stop it (its thread ends at the next event).
            job.cancelled.set()
            raise

    def _image_request(self, message: dict[str, Any], pixels: memoryview | None) -> Coroutine[Any, Any, HostMessage]:
        if message["type"] == "point":
            return self._point(cast(Point, message), pixels)
        return self._observe_now(cast(Observe, message), pixels)

    async def _holding_an_image(self, request_id: str, work: Coroutine[Any, Any, HostMessage]) -> HostMessage:
        """Runs an observe or point within the connection's limit: each waiting one holds a decoded frame (up to
        ~100 MB), so a flood gets an answer, not an OOM."""
        if self._observes_in_flight >= MAX_OBSERVES_IN_FLIGHT:
            work.close()
            return error(
                request_id,
                "busy",
                f"{self._observes_in_flight} observe or point requests are already in progress on this connection; "
                "send the next when one has answered",
            )
        self._observes_in_flight += 1
        try:
            return await work
        finally:
            self._observes_in_flight -= 1

    async def _point(self, request: Point, pixels: memoryview | None) -> HostMessage:
        try:
            rgb = await _decode_image(request["image"], pixels)
        except ImageRejected as rejected:
            return error(request["id"], rejected.code, str(rejected))
        # The worker thread cannot be cancelled, but the model polls this between tokens: when the socket closes
        # (its tasks are cancelled) generation stops instead of running to the end for nobody.
        cancelled = threading.Event()
        try:
            reply = await asyncio.to_thread(answer_point, self._chat, request, rgb, cancelled)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return cast(HostMessage, reply)

    async def _observe_now(self, request: Observe, pixels: memoryview | None) -> HostMessage:
        request_id = request["id"]
        started = time.perf_counter()
        try:
            rgb = await _decode_image(request["image"], pixels)
        except ImageRejected as rejected:
            return error(request_id, rejected.code, str(rejected))
        decoded = time.perf_counter()

        def read_text() -> tuple[list[TextLine], float]:
            begin = time.perf_counter()
            return self._ocr.read(rgb, request.get("min_confidence", 0.5)), time.perf_counter() - begin

        def detect() -> tuple[list[Detection], float]:
            begin = time.perf_counter()
            return self._detector.detect(rgb), time.perf_counter() - begin

        try:
            # Side by side: with a GPU the detector runs there while the OCR uses the CPU.
            (lines, ocr_s), (detections, detect_s) = await asyncio.gather(
                asyncio.to_thread(read_text), asyncio.to_thread(detect)
            )
        except ModelUnavailable as exc:
            return error(request_id, "model_unavailable", str(exc))
        except BadImage as exc:
            return error(request_id, "bad_image", str(exc))
        merge_started = time.perf_counter()
        elements = merge_elements(detections, lines)
        merged = time.perf_counter()
        result: ObserveResult = {
            "type": "observe_result",
            "id": request_id,
            "image_width": int(rgb.shape[1]),
            "image_height": int(rgb.shape[0]),
            "lines": lines,
            "elements": elements,
            "timings_ms": {
                "decode": (decoded - started) * 1000,
                "ocr": ocr_s * 1000,
                "detect": detect_s * 1000 if self._detector.configured else 0.0,
                "merge": (merged - merge_started) * 1000,
            },
        }
        return result


async def _decode_image(image: EncodedImage | RawImage, pixels: memoryview | None) -> NDArray[np.uint8]:
    """The request's image as RGB, decoded in a worker thread within the protocol's limits (ImageRejected if not)."""
    if image["format"] == "png" or image["format"] == "jpeg":
        return await asyncio.to_thread(decode_base64_image, image["data"])
    if pixels is not None:
        return await asyncio.to_thread(decode_raw_image, image["format"], image["width"], image["height"], pixels)
    # _misplaced_pixels lets no raw image through that has neither `data` nor pixels.
    return await asyncio.to_thread(decode_raw_base64, image["format"], image["width"], image["height"], image["data"])
