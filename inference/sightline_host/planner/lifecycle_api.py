"""Loading and unloading the profile's chat models by role or id, ahead of the first request or to free memory.

`POST /models/{name}/load` and `POST /models/{name}/unload` (same token as every request); a model that does not
fit answers 503 with code ``out_of_memory`` and the host goes on serving everything else.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from sightline_host.planner.chat_types import EngineError
from sightline_host.planner.registry import ChatModels


def create_lifecycle_router(models: ChatModels) -> APIRouter:
    router = APIRouter(prefix="/models")

    def state() -> list[dict[str, Any]]:
        loaded = set(models.loaded())
        return [{"id": m.id, "role": m.role, "loaded": m.id in loaded} for m in models.served]

    @router.get("")
    async def list_models() -> dict[str, Any]:
        return {"models": state()}

    @router.post("/{name}/load", response_model=None)
    async def load(name: str) -> dict[str, Any] | JSONResponse:
        try:
            model = await asyncio.to_thread(models.load, name)
        except EngineError as error:
            return JSONResponse({"error": {"code": error.code, "message": str(error)}}, status_code=error.status)
        return {"id": model.id, "role": model.role, "loaded": True}

    @router.post("/{name}/unload", response_model=None)
    async def unload(name: str) -> dict[str, Any] | JSONResponse:
        try:
            model = models.find(name)
            was_loaded = await asyncio.to_thread(models.unload, name)
        except EngineError as error:
            return JSONResponse({"error": {"code": error.code, "message": str(error)}}, status_code=error.status)
        return {"id": model.id, "role": model.role, "loaded": False, "was_loaded": was_loaded}

    return router
