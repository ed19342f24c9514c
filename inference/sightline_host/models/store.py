"""The model store: verified, resumable, atomically finalized downloads of the catalog's hub models.

Layout under the store root (``$SIGHTLINE_MODELS_DIR``, else ``~/.cache/sightline/models``)::

    <model id>/                      a complete, verified model: its files and
    <model id>/sightline-lock.json   what they were checked against (revision, sha256, sizes)
    .partial/<model id>@<commit>/    a pull in progress: finished files and ``<name>.part`` being downloaded
    .trash/                          what a replacement or a remove moves aside before deleting it

A model folder appears only by one ``rename`` of a folder whose every file was hashed first, so a crash or
a refused checksum never leaves a half-written model in place. An interrupted pull keeps its ``.part``
files and the next pull resumes them with an HTTP range request (the hub client also resumes within one
pull when the connection drops).

Every byte comes through the hub client (``huggingface_hub``): ``HfApi.model_info`` lists the files of
the pinned commit with their LFS sha256 and sizes, ``get_hf_file_metadata`` reads each file's ETag and
commit, ``http_get`` downloads with resume. ``HF_ENDPOINT`` and ``HF_TOKEN`` work as they do for the hub
client. Each file is checked against, in order: the catalog's sha256; the hub's LFS sha256; for a small
file kept in git, its git blob id (a sha1 of the content). The sha256 of every file is then recorded in
the lock, and ``verify`` compares against it.

Offline mode (``offline=True``, ``SIGHTLINE_OFFLINE=1`` or ``HF_HUB_OFFLINE=1``) never touches the
network: what is in the store is used as it is and anything missing is an error naming the pull command.

Models whose source is a registry package (``source: {package, version, path}``) are never downloaded
here: they are "installed" when the package's files are there with the catalog's sha256, and ``pull``
answers with the pip command.
"""

from __future__ import annotations

import fnmatch
import hashlib
import importlib.metadata
import json
import os
import shlex
import shutil
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any, Literal, cast
from urllib.parse import urlsplit

from huggingface_hub import HfApi, constants, get_hf_file_metadata, hf_hub_url
from huggingface_hub.errors import (
    GatedRepoError,
    HfHubHTTPError,
    OfflineModeIsEnabled,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)
from huggingface_hub.file_download import http_get
from huggingface_hub.utils._headers import build_hf_headers

from sightline_host.file_digest import sha256_file
from sightline_host.models.catalog import (
    Catalog,
    FileCheck,
    HubSource,
    ModelManifest,
    PackageSource,
    package_dir,
    verify_package_files,
)

STORE_ENV = "SIGHTLINE_MODELS_DIR"
OFFLINE_ENVS = ("SIGHTLINE_OFFLINE", "HF_HUB_OFFLINE")
LOCK_NAME = "sightline-lock.json"
PARTIAL_DIR = ".partial"
TRASH_DIR = ".trash"
PART_SUFFIX = ".part"
DEFAULT_ENDPOINT = "https://huggingface.co"

#: The hub client reads a download in chunks of ``constants.DOWNLOAD_CHUNK_SIZE`` (10 MiB) and reports progress
#: once per chunk; a pull reports (and can be cancelled) only that often, so the store reads 1 MiB at a time:
#: a slow connection still moves the app's progress bar every second or so.
PROGRESS_CHUNK_BYTES = 1 << 20

Phase = Literal["resolve", "download", "verify", "done"]
State = Literal["present", "missing", "partial", "incomplete", "installed", "not_installed"]


def default_store_dir(env: Mapping[str, str] | None = None) -> Path:
    """``$SIGHTLINE_MODELS_DIR`` if set, else ``~/.cache/sightline/models``."""
    environ = os.environ if env is None else env
    value = environ.get(STORE_ENV)
    if value:
        return Path(value).expanduser()
    return Path.home() / ".cache" / "sightline" / "models"


def offline_from_env(env: Mapping[str, str] | None = None) -> bool:
    environ = os.environ if env is None else env
    return any(environ.get(name, "").strip().lower() in ("1", "true", "yes", "on") for name in OFFLINE_ENVS)


def pull_command(model_id: str) -> str:
    return f"sightline-host models pull {model_id}"


def pip_command(source: PackageSource) -> str:
    return f"{shlex.quote(sys.executable)} -m pip install {shlex.quote(f'{source.package}=={source.version}')}"


# ------------------------------------------------------------------------------------------ errors


class StoreError(Exception):
    """Anything the store refuses or cannot do; the message says what to do about it."""


class ModelNotPresent(StoreError):
    """The model is not in the store (or its package is not installed); the message names the command to fetch it."""

    def __init__(self, model_id: str, message: str, command: str) -> None:
        self.model_id = model_id
        self.command = command
        super().__init__(message)


class ChecksumMismatch(StoreError):
    def __init__(self, model_id: str, name: str, expected: str, actual: str, what: str) -> None:
        self.model_id = model_id
        self.file = name
        self.expected = expected
        self.actual = actual
        super().__init__(
            f"{model_id}: {name}: {what} is {actual}, expected {expected}; the file was deleted and nothing was "
            "installed. Pull again; if it happens again the source does not serve the pinned file."
        )


class OfflineError(StoreError):
    pass


class PackageModelError(StoreError):
    """``pull``/``remove`` of a model that a registry package provides."""


# ------------------------------------------------------------------------------------------ records


@dataclass(frozen=True)
class ProgressEvent:
    """One step of a pull. Events of one pull come in order; ``bytes_done`` reaches ``bytes_total`` at ``done``."""

    model_id: str
    phase: Phase
    file: str | None
    files_done: int
    files_total: int
    bytes_done: int
    bytes_total: int

    @property
    def percent(self) -> float:
        if self.bytes_total <= 0:
            return 100.0 if self.phase == "done" else 0.0
        return min(100.0, 100.0 * self.bytes_done / self.bytes_total)

    def to_json(self) -> dict[str, Any]:
        return {"event": "progress", **asdict(self), "percent": round(self.percent, 2)}


ProgressCallback = Callable[[ProgressEvent], None]


@dataclass(frozen=True)
class LockedFile:
    name: str
    sha256: str
    size_bytes: int
    checked_against: str  # "catalog sha256", "hub LFS sha256" or "hub git blob id"


@dataclass(frozen=True)
class Lock:
    model_id: str
    hub: str
    revision: str
    files: tuple[LockedFile, ...]
    pulled_at: str

    def to_json(self) -> dict[str, Any]:
        return {
            "model_id": self.model_id,
            "hub": self.hub,
            "revision": self.revision,
            "pulled_at": self.pulled_at,
            "files": [asdict(f) for f in self.files],
        }

    @staticmethod
    def read(path: Path) -> Lock:
        try:
            data = json.loads(path.read_text("utf-8"))
            return Lock(
                model_id=str(data["model_id"]),
                hub=str(data["hub"]),
                revision=str(data["revision"]),
                pulled_at=str(data["pulled_at"]),
                files=tuple(
                    LockedFile(str(f["name"]), str(f["sha256"]), int(f["size_bytes"]), str(f["checked_against"]))
                    for f in data["files"]
                ),
            )
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise StoreError(f"{path}: unreadable lock file ({exc}); remove the model and pull it again") from exc

    @property
    def size_bytes(self) -> int:
        return sum(f.size_bytes for f in self.files)


@dataclass(frozen=True)
class ModelStatus:
    model_id: str
    state: State
    path: Path | None
    size_bytes: int | None
    detail: str


@dataclass(frozen=True)
class PullResult:
    model_id: str
    path: Path
    revision: str | None
    downloaded_bytes: int
    already_present: bool
    message: str
    lock: Lock | None = None
    notes: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class _Planned:
    name: str
    size: int
    expected_sha256: str | None
    expected_blob: str | None  # git blob id, for files kept in git rather than LFS
    checked_against: str


# ------------------------------------------------------------------------------------------ helpers


def _safe_relative(name: str) -> PurePosixPath:
    path = PurePosixPath(name)
    if path.is_absolute() or not path.parts or any(p in ("", ".", "..") for p in path.parts):
        raise StoreError(f"refusing a file name that leaves the model folder: {name!r}")
    return path


def _hash_file(path: Path, git_blob: bool) -> tuple[str, str | None]:
    """sha256 of the file, and its git blob id (sha1 of ``blob <size>\\0`` + content) when asked."""
    sha256 = hashlib.sha256()
    sha1 = None
    if git_blob:
        sha1 = hashlib.sha1(usedforsecurity=False)
        sha1.update(f"blob {path.stat().st_size}\0".encode())
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            sha256.update(block)
            if sha1 is not None:
                sha1.update(block)
    return sha256.hexdigest(), sha1.hexdigest() if sha1 is not None else None


def _fsync(path: Path) -> None:
    with path.open("rb") as f:
        os.fsync(f.fileno())


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    return parts.scheme, (parts.hostname or "").lower(), parts.port


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class _Progress:
    """Turns the hub client's progress-bar updates into :class:`ProgressEvent` s (throttled, in order)."""

    def __init__(self, model_id: str, callback: ProgressCallback | None, files_total: int, bytes_total: int) -> None:
        self.model_id = model_id
        self.callback = callback
        self.files_total = files_total
        self.bytes_total = bytes_total
        self.files_done = 0
        self.bytes_done = 0
        self.file: str | None = None
        self._last_emit = 0.0

    def emit(self, phase: Phase, force: bool = True) -> None:
        if self.callback is None:
            return
        now = time.monotonic()
        if not force and now - self._last_emit < 0.1:
            return
        self._last_emit = now
        self.callback(
            ProgressEvent(
                self.model_id,
                phase,
                self.file,
                self.files_done,
                self.files_total,
                self.bytes_done,
                self.bytes_total,
            )
        )

    def advance(self, n: int) -> None:
        self.bytes_done += n
        self.emit("download", force=False)

    def bar_factory(self) -> Callable[..., _Bar]:
        def make(**_kwargs: Any) -> _Bar:
            return _Bar(self)

        return make


class _Bar:
    """The object the hub client's ``http_get`` drives as its progress bar (``tqdm_class``)."""

    def __init__(self, progress: _Progress) -> None:
        self._progress = progress

    def __enter__(self) -> _Bar:
        return self

    def __exit__(self, *_exc: object) -> None:
        return None

    def update(self, n: int = 1) -> None:
        self._progress.advance(int(n))

    def close(self) -> None:
        return None


# ------------------------------------------------------------------------------------------ store


class ModelStore:
    def __init__(
        self,
        catalog: Catalog,
        root: Path | None = None,
        *,
        offline: bool | None = None,
        endpoint: str | None = None,
        token: str | bool | None = None,
    ) -> None:
        self.catalog = catalog
        self.root = (root or default_store_dir()).expanduser()
        self.offline = offline_from_env() if offline is None else offline
        self.endpoint = (endpoint or os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")
        self.token = token

    # ------------------------------------------------------------------ where things are

    def model_dir(self, model_id: str) -> Path:
        return self.root / model_id

    def lock_path(self, model_id: str) -> Path:
        return self.model_dir(model_id) / LOCK_NAME

    def read_lock(self, model_id: str) -> Lock | None:
        path = self.lock_path(model_id)
        return Lock.read(path) if path.is_file() else None

    def _partials(self, model_id: str) -> list[Path]:
        base = self.root / PARTIAL_DIR
        return sorted(base.glob(f"{model_id}@*")) if base.is_dir() else []

    def _manifest(self, model_id: str) -> ModelManifest:
        try:
            return self.catalog.model(model_id)
        except KeyError as exc:
            raise StoreError(str(exc.args[0])) from None

    # ------------------------------------------------------------------ status

    def status(self, model_id: str) -> ModelStatus:
        m = self._manifest(model_id)
        if isinstance(m.source, PackageSource):
            return self._package_status(m, m.source)
        lock = self.read_lock(model_id)
        folder = self.model_dir(model_id)
        if lock is not None:
            missing = [f.name for f in lock.files if not self._file_ok_by_size(folder, f)]
            if missing:
                return ModelStatus(
                    model_id,
                    "incomplete",
                    folder,
                    lock.size_bytes,
                    f"{len(missing)} file(s) missing or of the wrong size ({', '.join(missing[:3])}); "
                    f"run `sightline-host models verify {model_id}` or pull again",
                )
            detail = f"{m.source.hub}@{lock.revision[:12]}"
            if m.source.revision is not None and m.source.revision != lock.revision:
                detail += f" (the catalog now pins {m.source.revision[:12]}: pull to update)"
            return ModelStatus(model_id, "present", folder, lock.size_bytes, detail)
        partials = self._partials(model_id)
        if partials:
            done = sum(p.stat().st_size for p in partials[0].rglob("*") if p.is_file())
            return ModelStatus(
                model_id, "partial", None, done, f"interrupted pull, {done} bytes so far; pull again to resume"
            )
        return ModelStatus(model_id, "missing", None, None, f"not downloaded; run `{pull_command(model_id)}`")

    @staticmethod
    def _file_ok_by_size(folder: Path, f: LockedFile) -> bool:
        path = folder / f.name
        return path.is_file() and path.stat().st_size == f.size_bytes

    def _package_status(self, m: ModelManifest, source: PackageSource) -> ModelStatus:
        folder = package_dir(source)
        size = sum(f.size_bytes or 0 for f in m.files)
        try:
            installed = importlib.metadata.version(source.package)
        except importlib.metadata.PackageNotFoundError:
            installed = None
        if folder is None or not all((folder / f.name).is_file() for f in m.files):
            return ModelStatus(
                m.id,
                "not_installed",
                None,
                size,
                f"package {source.package}=={source.version} is not installed; run: {pip_command(source)}",
            )
        detail = f"from package {source.package} {installed or '(version unknown)'}"
        if installed is not None and installed != source.version:
            detail += f" (the catalog pins {source.version}: run {pip_command(source)})"
        return ModelStatus(m.id, "installed", folder, size, detail)

    # ------------------------------------------------------------------ lookup for loaders

    def model_path(self, model_id: str) -> Path:
        """The folder holding the model's files; :class:`ModelNotPresent` (naming the fix) when there is none."""
        m = self._manifest(model_id)
        st = self.status(model_id)
        if isinstance(m.source, PackageSource):
            if st.state != "installed" or st.path is None:
                cmd = pip_command(m.source)
                raise ModelNotPresent(
                    model_id,
                    f"model {model_id} comes from the package {m.source.package}, which is not installed; "
                    f"install it with: {cmd}",
                    cmd,
                )
            return st.path
        if st.state != "present" or st.path is None:
            cmd = pull_command(model_id)
            raise ModelNotPresent(
                model_id,
                f"model {model_id} is not in the model store at {self.root} ({st.state}); fetch it with: {cmd}",
                cmd,
            )
        return st.path

    def file_path(self, model_id: str, name: str) -> Path:
        path = self.model_path(model_id) / _safe_relative(name)
        if not path.is_file():
            raise ModelNotPresent(
                model_id,
                f"{model_id} has no file {name!r} in {path.parent}; fetch it with: {pull_command(model_id)}",
                pull_command(model_id),
            )
        return path

    # ------------------------------------------------------------------ verify

    def verify(self, model_id: str) -> list[FileCheck]:
        """Hash every file of the model against its lock (hub models) or the catalog (package models)."""
        m = self._manifest(model_id)
        if isinstance(m.source, PackageSource):
            return verify_package_files(m)
        lock = self.read_lock(model_id)
        if lock is None:
            raise ModelNotPresent(
                model_id,
                f"model {model_id} is not in the model store at {self.root}; fetch it with: {pull_command(model_id)}",
                pull_command(model_id),
            )
        folder = self.model_dir(model_id)
        pins = {f.name: f for f in m.files if f.sha256 is not None}
        checks: list[FileCheck] = []
        for f in lock.files:
            path = folder / f.name
            exists = path.is_file()
            expected = pins[f.name].sha256 if f.name in pins else f.sha256
            checks.append(
                FileCheck(
                    name=f.name,
                    path=path if exists else None,
                    expected_sha256=expected,
                    actual_sha256=sha256_file(path) if exists else None,
                    expected_size=f.size_bytes,
                    actual_size=path.stat().st_size if exists else None,
                )
            )
        return checks

    # ------------------------------------------------------------------ remove

    def remove(self, model_id: str) -> bool:
        """Delete the model and any interrupted pull of it; False when there was nothing to delete."""
        m = self._manifest(model_id)
        if isinstance(m.source, PackageSource):
            raise PackageModelError(
                f"{model_id} comes from the package {m.source.package}; remove it with: "
                f"{shlex.quote(sys.executable)} -m pip uninstall {m.source.package}"
            )
        removed = False
        folder = self.model_dir(model_id)
        if folder.exists():
            self._discard(folder)
            removed = True
        for partial in self._partials(model_id):
            self._discard(partial)
            removed = True
        return removed

    def _discard(self, path: Path) -> None:
        # Rename first: the model disappears at once, even if deleting its files takes a while or fails.
        trash = self.root / TRASH_DIR
        trash.mkdir(parents=True, exist_ok=True)
        target = trash / f"{path.name}-{uuid.uuid4().hex[:8]}"
        os.replace(path, target)
        shutil.rmtree(target, ignore_errors=True)

    # ------------------------------------------------------------------ pull

    def pull(self, model_id: str, on_progress: ProgressCallback | None = None) -> PullResult:
        m = self._manifest(model_id)
        if isinstance(m.source, PackageSource):
            return self._pull_package(m, m.source)
        source = m.source
        lock = self.read_lock(model_id)
        current = self.status(model_id)
        wanted = source.revision or (lock.revision if lock else None)
        if current.state == "present" and lock is not None and lock.revision == wanted:
            path = self.model_dir(model_id)
            progress = _Progress(model_id, on_progress, len(lock.files), lock.size_bytes)
            progress.bytes_done, progress.files_done = lock.size_bytes, len(lock.files)
            progress.emit("done")
            return PullResult(model_id, path, lock.revision, 0, True, f"{model_id} is already present at {path}", lock)
        if self.offline:
            raise OfflineError(
                f"offline mode: {model_id} is not in the model store at {self.root} and nothing is downloaded "
                f"offline; run `{pull_command(model_id)}` with network access (and without SIGHTLINE_OFFLINE / "
                "HF_HUB_OFFLINE)"
            )
        try:
            return self._pull_hub(m, source, wanted, on_progress)
        except StoreError:
            raise
        except Exception as exc:
            translated = _hub_error(model_id, source, exc)
            if translated is None:
                raise
            raise translated from exc

    def _pull_package(self, m: ModelManifest, source: PackageSource) -> PullResult:
        st = self._package_status(m, source)
        if st.state != "installed" or st.path is None:
            raise PackageModelError(
                f"{m.id} ships inside the package {source.package}=={source.version} and is not downloaded by "
                f"Sightline; install it with: {pip_command(source)}"
            )
        bad = [c for c in verify_package_files(m) if not c.ok]
        if bad:
            names = ", ".join(c.name for c in bad)
            raise PackageModelError(
                f"{m.id}: the installed package {source.package} has files that do not match the catalog's "
                f"sha256 ({names}); reinstall it with: {pip_command(source)} --force-reinstall"
            )
        return PullResult(
            m.id, st.path, None, 0, True, f"{m.id} is installed: {st.detail}, at {st.path} (sha256 verified)"
        )

    def _api(self) -> HfApi:
        return HfApi(endpoint=self.endpoint, token=self.token)

    def _plan_files(self, m: ModelManifest, source: HubSource, revision: str) -> tuple[str, list[_Planned]]:
        info = self._api().model_info(source.hub, revision=revision, files_metadata=True)
        commit = info.sha
        if not isinstance(commit, str) or len(commit) != 40:
            raise StoreError(f"{self.endpoint} did not say which commit {source.hub}@{revision} is")
        if source.revision is not None and commit != source.revision:
            raise StoreError(f"{self.endpoint} answered {source.hub}@{revision} with commit {commit}")
        siblings = {s.rfilename: s for s in (info.siblings or [])}
        planned: list[_Planned] = []
        seen: set[str] = set()
        for f in m.files:
            names = sorted(n for n in siblings if fnmatch.fnmatchcase(n, f.name))
            if not names:
                raise StoreError(
                    f"{m.id}: no file of {source.hub} at {commit[:12]} matches {f.name!r} "
                    f"(the repository has: {', '.join(sorted(siblings)[:12])})"
                )
            for name in names:
                if name in seen:
                    continue
                seen.add(name)
                _safe_relative(name)
                s = siblings[name]
                lfs = s.lfs
                size = lfs.size if lfs is not None else s.size
                if size is None:
                    raise StoreError(f"{self.endpoint} gave no size for {source.hub}/{name}")
                if f.sha256 is not None:
                    if f.size_bytes is not None and f.size_bytes != size:
                        raise StoreError(
                            f"{m.id}: {name} is {size} bytes at {commit[:12]}; the catalog pins {f.size_bytes}"
                        )
                    planned.append(_Planned(name, size, f.sha256, None, "catalog sha256"))
                elif lfs is not None:
                    planned.append(_Planned(name, size, lfs.sha256, None, "hub LFS sha256"))
                elif s.blob_id:
                    planned.append(_Planned(name, size, None, s.blob_id, "hub git blob id"))
                else:
                    raise StoreError(f"{self.endpoint} gave neither an LFS sha256 nor a blob id for {name}")
        return commit, planned

    def _pull_hub(
        self, m: ModelManifest, source: HubSource, wanted: str | None, on_progress: ProgressCallback | None
    ) -> PullResult:
        progress = _Progress(m.id, on_progress, 0, 0)
        progress.emit("resolve")
        commit, planned = self._plan_files(m, source, wanted or "main")
        notes: list[str] = []
        if source.revision is None:
            notes.append(
                f"the catalog does not pin a revision for {m.id}: resolved the default branch to {commit}, "
                f"pinned in {self.lock_path(m.id)} (set `revision: {commit}` in {m.path.name} to pin it for everyone)"
            )
        staging = self.root / PARTIAL_DIR / f"{m.id}@{commit}"
        staging.mkdir(parents=True, exist_ok=True)
        # Partials of another revision of this model cannot be resumed into this one.
        for other in self._partials(m.id):
            if other != staging:
                self._discard(other)
        progress.files_total = len(planned)
        progress.bytes_total = sum(p.size for p in planned)
        downloaded = 0
        locked: list[LockedFile] = []
        for p in planned:
            target = staging / _safe_relative(p.name)
            progress.file = p.name
            if target.is_file() and target.stat().st_size == p.size:
                # Only a hashed, accepted file is renamed from .part to its name.
                sha, _ = _hash_file(target, git_blob=False)
                progress.bytes_done += p.size
            else:
                before = progress.bytes_done
                sha, resumed = self._download_one(m, source, commit, p, target, progress)
                downloaded += progress.bytes_done - before - resumed
            locked.append(LockedFile(p.name, sha, p.size, p.checked_against))
            progress.files_done += 1
            progress.emit("download")
        lock = Lock(m.id, source.hub, commit, tuple(locked), _now())
        lock_tmp = staging / f"{LOCK_NAME}.tmp"
        lock_tmp.write_text(json.dumps(lock.to_json(), indent=2) + "\n", "utf-8")
        _fsync(lock_tmp)
        os.replace(lock_tmp, staging / LOCK_NAME)
        final = self._finalize(m.id, staging)
        progress.file = None
        progress.emit("done")
        return PullResult(
            m.id,
            final,
            commit,
            downloaded,
            False,
            f"{m.id}: {len(locked)} file(s), {lock.size_bytes} bytes, verified and installed at {final}",
            lock,
            tuple(notes),
        )

    def _download_one(
        self, m: ModelManifest, source: HubSource, commit: str, p: _Planned, target: Path, progress: _Progress
    ) -> tuple[str, int]:
        """Download (or resume) one file into ``target``; its sha256 and how many bytes were resumed."""
        url = hf_hub_url(source.hub, p.name, revision=commit, endpoint=self.endpoint)
        meta = get_hf_file_metadata(url, token=self.token, endpoint=self.endpoint)
        if meta.commit_hash is not None and meta.commit_hash != commit:
            raise StoreError(f"{self.endpoint} served {p.name} from commit {meta.commit_hash}, not {commit}")
        if meta.size is not None and meta.size != p.size:
            raise StoreError(f"{p.name}: the hub lists {p.size} bytes but serves {meta.size}")
        advertised = p.expected_sha256 if p.checked_against == "hub LFS sha256" else p.expected_blob
        if advertised is not None and meta.etag is not None and meta.etag != advertised:
            raise StoreError(f"{p.name}: the hub's ETag {meta.etag} is not the listed {advertised}")
        location = meta.location or url
        headers = build_hf_headers(token=self.token)
        if _origin(location) != _origin(self.endpoint):
            # A signed CDN address: the hub token stays with the hub.
            headers.pop("authorization", None)
        part = target.with_name(target.name + PART_SUFFIX)
        target.parent.mkdir(parents=True, exist_ok=True)
        resume = part.stat().st_size if part.is_file() else 0
        if resume > p.size:
            part.unlink()
            resume = 0
        progress.bytes_done += resume
        progress.emit("download")
        constants.DOWNLOAD_CHUNK_SIZE = min(constants.DOWNLOAD_CHUNK_SIZE, PROGRESS_CHUNK_BYTES)
        with part.open("ab") as f:
            http_get(
                location,
                f,
                resume_size=resume,
                headers=headers,
                expected_size=p.size,
                displayed_filename=p.name,
                tqdm_class=cast(Any, progress.bar_factory()),
            )
        progress.emit("verify")
        size = part.stat().st_size
        if size != p.size:
            part.unlink(missing_ok=True)
            raise StoreError(f"{m.id}: {p.name} is {size} bytes after download, expected {p.size}; deleted")
        sha, blob = _hash_file(part, git_blob=p.expected_blob is not None)
        if p.expected_sha256 is not None and sha != p.expected_sha256:
            part.unlink(missing_ok=True)
            what = f"sha256 (checked against the {p.checked_against})"
            raise ChecksumMismatch(m.id, p.name, p.expected_sha256, sha, what)
        if p.expected_blob is not None and blob != p.expected_blob:
            part.unlink(missing_ok=True)
            raise ChecksumMismatch(m.id, p.name, p.expected_blob, blob or "", "git blob id")
        _fsync(part)
        os.replace(part, target)
        return sha, resume

    def _finalize(self, model_id: str, staging: Path) -> Path:
        final = self.model_dir(model_id)
        if final.exists():
            self._discard(final)
        os.replace(staging, final)
        return final

    def iter_status(self) -> Iterator[ModelStatus]:
        for model_id in sorted(self.catalog.manifests):
            yield self.status(model_id)


def _hub_error(model_id: str, source: HubSource, exc: Exception) -> StoreError | None:
    """The hub client's exception as a :class:`StoreError` that says what to do; None for anything else."""
    hub = source.hub
    resume = f"; the files downloaded so far are kept: run `{pull_command(model_id)}` again to resume"
    if isinstance(exc, GatedRepoError):
        message = f"{hub} is gated: accept its licence on its hub page, then log in (`hf auth login`) or set HF_TOKEN"
    elif isinstance(exc, RepositoryNotFoundError):
        message = f"the hub has no repository {hub} (or it is private and no token was given)"
    elif isinstance(exc, RevisionNotFoundError):
        message = f"{hub} has no revision {source.revision}"
    elif isinstance(exc, OfflineModeIsEnabled):
        message = f"the hub client is in offline mode (HF_HUB_OFFLINE); {model_id} cannot be downloaded"
    elif isinstance(exc, HfHubHTTPError):
        message = f"the hub answered an error for {hub}: {exc}" + resume
    elif isinstance(exc, OSError) or type(exc).__module__.startswith(("httpx", "httpcore")):
        message = f"download from {hub} failed: {type(exc).__name__}: {exc}" + resume
    else:
        return None
    return StoreError(f"{model_id}: {message}")


def describe_checks(checks: Sequence[FileCheck]) -> list[str]:
    lines = []
    for c in checks:
        if c.path is None:
            lines.append(f"MISSING  {c.name}")
        elif c.ok:
            lines.append(f"ok       {c.name} ({c.actual_size} bytes, sha256 {c.actual_sha256})")
        elif c.actual_size != c.expected_size:
            lines.append(f"CORRUPT  {c.name}: {c.actual_size} bytes, expected {c.expected_size}")
        else:
            lines.append(f"CORRUPT  {c.name}: sha256 {c.actual_sha256}, expected {c.expected_sha256}")
    return lines
