"""The host's HTTP and WebSocket surface."""

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI, Request, WebSocket
from fastapi.responses import JSONResponse, Response
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint

from sightline_host import __version__
from sightline_host.auth import bearer_matches
from sightline_host.models.catalog import CatalogError, load_catalog
from sightline_host.ocr import OcrEngine
from sightline_host.planner.lifecycle_api import create_lifecycle_router
from sightline_host.planner.openai_api import create_openai_router
from sightline_host.planner.registry import ChatModels
from sightline_host.protocol import PROTOCOL_VERSION
from sightline_host.ws_session import Session


class _RequireToken(BaseHTTPMiddleware):
    def __init__(self, app: Any, token: str) -> None:
        super().__init__(app)
        self._token = token

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        if not bearer_matches(request.headers.get("authorization"), self._token):
            return JSONResponse(
                {"error": {"code": "unauthorized", "message": "missing or wrong bearer token"}}, status_code=401
            )
        return await call_next(request)


PROFILE_ENV = "SIGHTLINE_PROFILE"
DEFAULT_PROFILE = "embedded"


def profile_chat_models(profile_id: str | None = None) -> ChatModels | None:
    """The chat models of the chosen profile (``$SIGHTLINE_PROFILE``, else embedded); None without a catalog."""
    try:
        catalog = load_catalog()
        return ChatModels(catalog, catalog.profile(profile_id or os.environ.get(PROFILE_ENV) or DEFAULT_PROFILE))
    except (CatalogError, KeyError, OSError) as error:
        logging.getLogger("sightline_host").warning("no chat models: %s", error)
        return None


def create_app(token: str, ocr: OcrEngine | None = None, chat_models: ChatModels | None = None) -> FastAPI:
    engine = ocr or OcrEngine()
    chat = chat_models or profile_chat_models()

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        # External planner engines are separate processes; they go when the host goes.
        if chat is not None:
            await asyncio.to_thread(chat.close)

    app = FastAPI(
        title="sightline-host", version=__version__, docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan
    )
    # HTTP middleware never sees WebSocket scopes; the socket checks its token itself below.
    app.add_middleware(_RequireToken, token=token)

    @app.get("/healthz")
    async def healthz() -> dict[str, Any]:
        return {
            "status": "ok",
            "version": __version__,
            "protocol": PROTOCOL_VERSION,
            "pid": os.getpid(),
            "models": {"ocr": engine.state},
            "chat_models": [m.id for m in chat.served] if chat else [],
        }

    @app.websocket("/ws")
    async def ws(socket: WebSocket) -> None:
        if not bearer_matches(socket.headers.get("authorization"), token):
            # Closing before accept answers the handshake with HTTP 403.
            await socket.close(code=4401)
            return
        await socket.accept()
        await Session(socket, engine, chat=chat).run()

    if chat is not None:
        app.include_router(create_openai_router(chat))
        app.include_router(create_lifecycle_router(chat))
    return app
