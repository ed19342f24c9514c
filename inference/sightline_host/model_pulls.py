"""The model store as the app drives it over `/ws`: the catalog's models with their state, and pulls that report
progress, can be cancelled and fail with a typed error that says what to run.

A pull is a blocking :meth:`ModelStore.pull` run in a worker thread; it stops at its next progress event once
cancelled (the store keeps what was downloaded, so the next pull resumes it). One pull per model runs in the
host process at a time, whichever connection asked: two pulls of one model would write the same staging folder.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import cast

from sightline_host.models.catalog import Catalog, HubSource, PackageSource
from sightline_host.models.store import (
    ChecksumMismatch,
    ModelStore,
    OfflineError,
    PackageModelError,
    ProgressEvent,
    PullResult,
    StoreError,
    pip_command,
    pull_command,
)
from sightline_host.protocol.types import ModelEntry, PullProgress

#: The socket gets at most one download event per this many seconds of a pull; phase changes always pass.
PROGRESS_INTERVAL_S = 0.25


class PullCancelled(StoreError):
    """Raised inside the pull's thread, from its progress callback, once the pull is cancelled."""


class PullInProgress(Exception):
    pass


@dataclass(frozen=True)
class PullFailure:
    """A pull's end as the protocol's typed error: its code, what happened, and the command that fixes it."""

    code: str
    message: str
    command: str | None


def model_entries(store: ModelStore) -> list[ModelEntry]:
    """Every model of the catalog, sorted by id, with what the store has of it and the profiles that use it."""
    catalog = store.catalog
    entries: list[ModelEntry] = []
    for model_id in sorted(catalog.manifests):
        manifest = catalog.manifests[model_id]
        status = store.status(model_id)
        source = manifest.source
        entries.append(
            {
                "model_id": model_id,
                "name": manifest.name,
                "role": manifest.role,
                "source": "package" if isinstance(source, PackageSource) else "hub",
                "state": status.state,
                "size_bytes": status.size_bytes if status.size_bytes is not None else _listed_size(store, model_id),
                "detail": status.detail,
                "profiles": profiles_using(catalog, model_id),
                "command": pip_command(source) if isinstance(source, PackageSource) else pull_command(model_id),
            }
        )
    return entries


def _listed_size(store: ModelStore, model_id: str) -> int | None:
    """The catalog's size of a missing model, when it lists the size of every file (it often cannot: patterns)."""
    sizes = [f.size_bytes for f in store.catalog.manifests[model_id].files]
    return None if not sizes or any(s is None for s in sizes) else sum(cast(list[int], sizes))


def profiles_using(catalog: Catalog, model_id: str) -> list[str]:
    return sorted(
        profile.id
        for profile in catalog.profiles.values()
        if any(a.model == model_id or model_id in a.fallbacks for a in profile.models.values())
    )


def progress_message(request_id: str, event: ProgressEvent) -> PullProgress:
    return {
        "type": "pull_progress",
        "id": request_id,
        "model_id": event.model_id,
        "phase": event.phase,
        "file": event.file,
        "files_done": event.files_done,
        "files_total": event.files_total,
        "bytes_done": event.bytes_done,
        "bytes_total": event.bytes_total,
        "percent": round(event.percent, 2),
    }


class ProgressThrottle:
    """Decides which of a pull's events reach the socket: every phase change, and a download event at most every
    ``interval`` seconds (the store reports every 0.1 s, and a renderer redraws for each)."""

    def __init__(self, interval: float = PROGRESS_INTERVAL_S, clock: Callable[[], float] = time.monotonic) -> None:
        self._interval = interval
        self._clock = clock
        self._phase: str | None = None
        self._last = float("-inf")

    def passes(self, event: ProgressEvent) -> bool:
        now = self._clock()
        if event.phase != self._phase or now - self._last >= self._interval:
            self._phase = event.phase
            self._last = now
            return True
        return False


@dataclass
class PullJob:
    model_id: str
    cancelled: threading.Event = field(default_factory=threading.Event)


class PullRegistry:
    """The host's pulls in progress, one per model."""

    def __init__(self) -> None:
        self._jobs: dict[str, PullJob] = {}
        self._lock = threading.Lock()

    def begin(self, model_id: str) -> PullJob:
        with self._lock:
            if model_id in self._jobs:
                raise PullInProgress(f"{model_id} is already being pulled; wait for it or cancel it")
            job = PullJob(model_id)
            self._jobs[model_id] = job
            return job

    def end(self, job: PullJob) -> None:
        with self._lock:
            if self._jobs.get(job.model_id) is job:
                del self._jobs[job.model_id]

    def cancel(self, model_id: str) -> bool:
        with self._lock:
            job = self._jobs.get(model_id)
        if job is None:
            return False
        job.cancelled.set()
        return True


def run_pull(store: ModelStore, job: PullJob, on_progress: Callable[[ProgressEvent], None]) -> PullResult:
    """The blocking pull (run it in a thread); raises :class:`PullCancelled` at the first event after a cancel."""

    def report(event: ProgressEvent) -> None:
        if job.cancelled.is_set():
            raise PullCancelled(
                f"the pull of {job.model_id} was cancelled; the files downloaded so far are kept: pull again to resume"
            )
        on_progress(event)

    if job.cancelled.is_set():
        report(ProgressEvent(job.model_id, "resolve", None, 0, 0, 0, 0))
    return store.pull(job.model_id, report)


def failure_of(exc: StoreError, store: ModelStore, model_id: str) -> PullFailure:
    """The typed error for a pull that raised ``exc``."""
    manifest = store.catalog.manifests.get(model_id)
    source = manifest.source if manifest is not None else None
    fix = pull_command(model_id) if isinstance(source, HubSource) else None
    if isinstance(exc, PullCancelled):
        return PullFailure("pull_cancelled", str(exc), fix)
    if isinstance(exc, OfflineError):
        return PullFailure("offline", str(exc), fix)
    if isinstance(exc, ChecksumMismatch):
        return PullFailure("checksum_mismatch", str(exc), fix)
    if isinstance(exc, PackageModelError):
        pip = pip_command(source) if isinstance(source, PackageSource) else None
        return PullFailure("package_model", str(exc), pip)
    return PullFailure("download_failed", str(exc), fix)
