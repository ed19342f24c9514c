"""Starting one external engine for a served model: its weights, a free loopback port, a fresh key, the
command line, the process, and the proxy that the host's OpenAI endpoint serves it through."""

from __future__ import annotations

import secrets
import socket
from collections.abc import Callable
from pathlib import Path
from typing import cast

from sightline_host.models.catalog import Assignment, ModelManifest, PackageSource, load_catalog
from sightline_host.models.store import ModelNotPresent, ModelStore
from sightline_host.models.vram import Plan
from sightline_host.planner.chat_types import EngineError
from sightline_host.planner.external.launch import EXTERNAL_KINDS, ExternalKind, build_launch
from sightline_host.planner.external.process import EngineProcess, EngineProcessError
from sightline_host.planner.external.proxy import ProxyChatEngine

# These engines read one GGUF file; the others read a checkpoint folder.
_FILE_ENGINES = {"llama-server", "llama-cpp-python"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def weights_for(kind: str, manifest: ModelManifest, resolve: Callable[[ModelManifest], Path]) -> Path:
    """Where the engine reads the model from; a missing model is an error that names the command to fetch it."""
    if isinstance(manifest.source, PackageSource):
        path = resolve(manifest)
        return path if kind in _FILE_ENGINES else path.parent
    try:
        folder = ModelStore(load_catalog()).model_path(manifest.id)
    except ModelNotPresent as error:
        raise EngineError("model_unavailable", f"{error} (command: `{error.command}`)", 503) from error
    return folder / manifest.files[0].name if kind in _FILE_ENGINES else folder


def start_external(
    model_id: str,
    manifest: ModelManifest,
    assignment: Assignment,
    resolve: Callable[[ModelManifest], Path],
    plan: Plan | None,
) -> tuple[ProxyChatEngine, EngineProcess]:
    serve = assignment.serve
    if serve.engine not in EXTERNAL_KINDS:
        raise EngineError("model_unavailable", f"{model_id}: no external engine called {serve.engine!r}", 503)
    kind = cast(ExternalKind, serve.engine)
    spec = build_launch(
        kind,
        manifest,
        assignment,
        weights_for(kind, manifest, resolve),
        free_port(),
        secrets.token_urlsafe(24),
        plan,
        serve.executable or None,
        serve.args,
    )
    process = EngineProcess(spec, startup_timeout_s=serve.startup_timeout_s)
    try:
        process.start()
    except (EngineProcessError, OSError) as error:
        process.stop()
        raise EngineError("engine_unavailable", f"{model_id}: {error}", 503) from error
    return ProxyChatEngine(model_id, process), process
