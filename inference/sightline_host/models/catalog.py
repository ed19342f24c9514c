"""The model catalog: manifests (models/catalog/*.yaml) and profiles (models/profiles/*.yaml).

Each file is checked against its JSON Schema (models/catalog.schema.json, models/profile.schema.json)
and then against the rest of the catalog (ids match file names, profiles name known models of the
right role). Every error names the file and the field, e.g.
``models/catalog/molmo-7b-d.yaml: architecture.kv_heads: 'four' is not of type 'integer'``.
"""

from __future__ import annotations

import importlib.util
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from sightline_host.file_digest import sha256_file

Role = Literal["detector", "ocr", "vlm", "planner"]
ROLES: tuple[Role, ...] = ("planner", "vlm", "detector", "ocr")

MANIFEST_SCHEMA = "catalog.schema.json"
PROFILE_SCHEMA = "profile.schema.json"


class CatalogError(Exception):
    """A manifest or profile is missing, unreadable or invalid; the message names the file and field."""

    def __init__(self, path: Path | str, field: str, message: str) -> None:
        self.path = str(path)
        self.field = field
        self.detail = message
        super().__init__(f"{path}: {field or '(top level)'}: {message}")


@dataclass(frozen=True)
class HubSource:
    hub: str
    revision: str | None  # None: resolved and pinned by the first `models pull`


@dataclass(frozen=True)
class PackageSource:
    package: str
    version: str
    path: str  # folder inside the installed package, import name first


@dataclass(frozen=True)
class ModelFile:
    name: str  # may be a glob for hub files not pinned yet
    sha256: str | None
    size_bytes: int | None

    @property
    def pinned(self) -> bool:
        return self.sha256 is not None


@dataclass(frozen=True)
class VisionTower:
    encoder: str
    params: int


@dataclass(frozen=True)
class Architecture:
    params: int
    kind: str | None = None
    params_exact: bool = True
    layers: int | None = None
    hidden_size: int | None = None
    intermediate_size: int | None = None
    attention_heads: int | None = None
    kv_heads: int | None = None
    head_dim: int | None = None
    vocab_size: int | None = None
    max_context: int | None = None
    tie_word_embeddings: bool = False
    qkv_bias: bool = False
    vision: VisionTower | None = None

    @property
    def is_transformer(self) -> bool:
        return self.layers is not None


@dataclass(frozen=True)
class Quantization:
    method: str
    bits: int
    dtype: str | None = None
    group_size: int | None = None
    zero_point: bool = False
    bits_per_weight: float | None = None
    unquantized: tuple[str, ...] = ()


@dataclass(frozen=True)
class Runtime:
    engine: str
    device: str = "any"
    workspace_bytes: int = 0
    args: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Licence:
    id: str
    name: str | None = None
    url: str | None = None
    gated: bool = False


@dataclass(frozen=True)
class ModelManifest:
    id: str
    name: str
    role: Role
    format: str
    source: HubSource | PackageSource
    files: tuple[ModelFile, ...]
    architecture: Architecture
    quantization: Quantization
    runtime: Runtime
    licence: Licence
    path: Path


@dataclass(frozen=True)
class Parallel:
    tensor: int = 1
    pipeline: int = 1


@dataclass(frozen=True)
class Serve:
    """An external engine process for a model (see planner/external); "in-process" runs it inside the host."""

    engine: str = "in-process"
    executable: tuple[str, ...] = ()
    args: tuple[str, ...] = ()
    startup_timeout_s: float = 600.0


@dataclass(frozen=True)
class Assignment:
    role: Role
    model: str
    device: str | None = None
    context: int | None = None
    batch: int = 1
    kv_dtype: str | None = None
    parallel: Parallel | None = None
    fallbacks: tuple[str, ...] = ()
    serve: Serve = Serve()


@dataclass(frozen=True)
class Hardware:
    gpus: int
    gib_per_gpu: float


@dataclass(frozen=True)
class Profile:
    id: str
    description: str
    device: str
    models: Mapping[Role, Assignment]
    hardware: Hardware | None
    path: Path


@dataclass(frozen=True)
class Catalog:
    root: Path
    manifests: Mapping[str, ModelManifest]
    profiles: Mapping[str, Profile]

    def model(self, model_id: str) -> ModelManifest:
        try:
            return self.manifests[model_id]
        except KeyError:
            known = ", ".join(sorted(self.manifests))
            raise KeyError(f"no model {model_id!r} in the catalog (known: {known})") from None

    def profile(self, profile_id: str) -> Profile:
        try:
            return self.profiles[profile_id]
        except KeyError:
            known = ", ".join(sorted(self.profiles))
            raise KeyError(f"no profile {profile_id!r} (known: {known})") from None


CATALOG_ENV = "SIGHTLINE_CATALOG_DIR"


def default_models_dir() -> Path:
    """``$SIGHTLINE_CATALOG_DIR`` if set, else the repository's ``models/`` folder (catalog and profiles).

    (``$SIGHTLINE_MODELS_DIR`` names the model *store*, where downloaded weights live: see ``store.py``.)
    """
    env = os.environ.get(CATALOG_ENV)
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[3] / "models"


def _field(error: ValidationError) -> str:
    parts = [str(p) for p in error.absolute_path]
    return ".".join(parts)


def _leaf(error: ValidationError) -> ValidationError:
    """The most specific error under a oneOf/anyOf: deepest field first, then not a mere type mismatch."""
    if not error.context:
        return error
    leaves = [_leaf(e) for e in error.context]
    best = max(leaves, key=lambda e: (len(e.absolute_path), str(e.validator) != "type"))
    return best if len(best.absolute_path) >= len(error.absolute_path) else error


def _best_error(errors: list[ValidationError]) -> ValidationError:
    # Deepest first: "files.0.sha256" says more than "files".
    leaves = [_leaf(e) for e in errors]
    return max(leaves, key=lambda e: (len(e.absolute_path), str(e.validator) != "type", str(e.message)))


def _validator(root: Path, name: str) -> Draft202012Validator:
    path = root / name
    try:
        schema = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise CatalogError(path, "", f"cannot read the schema: {exc}") from exc
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CatalogError(path, "", f"cannot read: {exc}") from exc
    except yaml.YAMLError as exc:
        raise CatalogError(path, "", f"not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise CatalogError(path, "", "expected a mapping at the top level")
    return cast(dict[str, Any], data)


def _check(validator: Draft202012Validator, path: Path, data: dict[str, Any]) -> None:
    errors = list(validator.iter_errors(data))
    if errors:
        error = _best_error(errors)
        raise CatalogError(path, _field(error), error.message)


def _manifest(data: dict[str, Any], path: Path) -> ModelManifest:
    src = data["source"]
    source: HubSource | PackageSource = (
        HubSource(hub=src["hub"], revision=src["revision"])
        if "hub" in src
        else PackageSource(package=src["package"], version=str(src["version"]), path=src["path"])
    )
    arch = dict(data["architecture"])
    vision = arch.pop("vision", None)
    q = dict(data["quantization"])
    rt = data["runtime"]
    lic = data["licence"]
    manifest = ModelManifest(
        id=data["id"],
        name=data["name"],
        role=data["role"],
        format=data["format"],
        source=source,
        files=tuple(ModelFile(f["name"], f["sha256"], f["size_bytes"]) for f in data["files"]),
        architecture=Architecture(**arch, vision=VisionTower(vision["encoder"], vision["params"]) if vision else None),
        quantization=Quantization(
            method=q["method"],
            bits=q["bits"],
            dtype=q.get("dtype"),
            group_size=q.get("group_size"),
            zero_point=q.get("zero_point", False),
            bits_per_weight=q.get("bits_per_weight"),
            unquantized=tuple(q.get("unquantized", ())),
        ),
        runtime=Runtime(
            engine=rt["engine"],
            device=rt.get("device", "any"),
            workspace_bytes=rt.get("workspace_bytes", 0),
            args=rt.get("args"),
        ),
        licence=Licence(id=lic["id"], name=lic.get("name"), url=lic.get("url"), gated=lic.get("gated", False)),
        path=path,
    )
    _check_consistency(manifest)
    return manifest


def _check_consistency(m: ModelManifest) -> None:
    if m.id != m.path.stem:
        raise CatalogError(m.path, "id", f"{m.id!r} does not match the file name {m.path.name!r}")
    a = m.architecture
    if a.is_transformer:
        assert a.hidden_size and a.attention_heads and a.kv_heads and a.head_dim  # schema requires them
        if a.attention_heads % a.kv_heads:
            raise CatalogError(
                m.path,
                "architecture.kv_heads",
                f"{a.attention_heads} attention heads are not a multiple of {a.kv_heads} KV heads",
            )
        if a.hidden_size != a.attention_heads * a.head_dim:
            # Some models (e.g. Gemma) do have hidden != heads * head_dim; none of ours do, so flag typos.
            raise CatalogError(
                m.path,
                "architecture.head_dim",
                f"hidden_size {a.hidden_size} != attention_heads {a.attention_heads} × head_dim {a.head_dim}",
            )
        if a.vision and a.vision.params >= a.params:
            raise CatalogError(m.path, "architecture.vision.params", "vision tower larger than the whole model")


def _serve(entry: Mapping[str, Any] | None) -> Serve:
    if not entry:
        return Serve()
    return Serve(
        engine=entry["engine"],
        executable=tuple(entry.get("executable", ())),
        args=tuple(entry.get("args", ())),
        startup_timeout_s=float(entry.get("startup_timeout_s", 600.0)),
    )


def _profile(data: dict[str, Any], path: Path, manifests: Mapping[str, ModelManifest]) -> Profile:
    if data["id"] != path.stem:
        raise CatalogError(path, "id", f"{data['id']!r} does not match the file name {path.name!r}")
    models: dict[Role, Assignment] = {}
    for role_name, entry in data["models"].items():
        role = cast(Role, role_name)
        where = f"models.{role}"
        for key, model_id in [("model", entry["model"])] + [
            (f"fallbacks.{i}", f) for i, f in enumerate(entry.get("fallbacks", []))
        ]:
            manifest = manifests.get(model_id)
            if manifest is None:
                raise CatalogError(path, f"{where}.{key}", f"no model {model_id!r} in the catalog")
            if manifest.role != role:
                raise CatalogError(path, f"{where}.{key}", f"{model_id!r} is a {manifest.role}, not a {role}")
        par = entry.get("parallel")
        models[role] = Assignment(
            role=role,
            model=entry["model"],
            device=entry.get("device"),
            context=entry.get("context"),
            batch=entry.get("batch", 1),
            kv_dtype=entry.get("kv_dtype"),
            parallel=Parallel(par["tensor"], par["pipeline"]) if par else None,
            fallbacks=tuple(entry.get("fallbacks", ())),
            serve=_serve(entry.get("serve")),
        )
        ctx = entry.get("context")
        max_ctx = manifests[entry["model"]].architecture.max_context
        if ctx is not None and max_ctx is not None and ctx > max_ctx:
            raise CatalogError(path, f"{where}.context", f"{ctx} is more than the model's max_context {max_ctx}")
    if data["device"] == "cpu":
        for role, a in models.items():
            if a.device == "gpu" or (a.parallel and a.parallel.tensor * a.parallel.pipeline > 1):
                raise CatalogError(path, f"models.{role}", "a CPU-only profile cannot put a model on a GPU")
    hw = data.get("hardware")
    return Profile(
        id=data["id"],
        description=data["description"],
        device=data["device"],
        models=models,
        hardware=Hardware(hw["gpus"], float(hw["gib_per_gpu"])) if hw else None,
        path=path,
    )


def load_manifest(path: Path, root: Path | None = None) -> ModelManifest:
    root = root or path.resolve().parents[1]
    data = _read_yaml(path)
    _check(_validator(root, MANIFEST_SCHEMA), path, data)
    return _manifest(data, path)


def load_catalog(root: Path | None = None) -> Catalog:
    """Load and check every manifest and profile under ``root`` (default: :func:`default_models_dir`)."""
    root = root or default_models_dir()
    if not (root / "catalog").is_dir():
        raise CatalogError(root, "", "no catalog/ folder here (set SIGHTLINE_CATALOG_DIR?)")
    manifest_validator = _validator(root, MANIFEST_SCHEMA)
    profile_validator = _validator(root, PROFILE_SCHEMA)
    manifests: dict[str, ModelManifest] = {}
    for path in sorted((root / "catalog").glob("*.yaml")):
        data = _read_yaml(path)
        _check(manifest_validator, path, data)
        m = _manifest(data, path)
        if m.id in manifests:
            raise CatalogError(path, "id", f"{m.id!r} is also defined in {manifests[m.id].path}")
        manifests[m.id] = m
    profiles: dict[str, Profile] = {}
    for path in sorted((root / "profiles").glob("*.yaml")):
        data = _read_yaml(path)
        _check(profile_validator, path, data)
        p = _profile(data, path, manifests)
        profiles[p.id] = p
    return Catalog(root=root, manifests=manifests, profiles=profiles)


@dataclass(frozen=True)
class FileCheck:
    name: str
    path: Path | None
    expected_sha256: str | None
    actual_sha256: str | None
    expected_size: int | None
    actual_size: int | None

    @property
    def ok(self) -> bool:
        return (
            self.actual_sha256 is not None
            and self.actual_sha256 == self.expected_sha256
            and self.actual_size == self.expected_size
        )


def package_dir(source: PackageSource) -> Path | None:
    """Where the files of a package source live in this environment, or None if it is not installed."""
    top, _, rest = source.path.partition("/")
    spec = importlib.util.find_spec(top)
    if spec is None or not spec.submodule_search_locations:
        return None
    base = Path(next(iter(spec.submodule_search_locations)))
    return base / rest if rest else base


def verify_package_files(manifest: ModelManifest) -> list[FileCheck]:
    """Hash the files of a package-sourced model as installed, against the manifest."""
    if not isinstance(manifest.source, PackageSource):
        raise ValueError(f"{manifest.id} comes from the hub; `sightline-host models verify` checks the store")
    folder = package_dir(manifest.source)
    checks: list[FileCheck] = []
    for f in manifest.files:
        path = folder / f.name if folder else None
        exists = path is not None and path.is_file()
        checks.append(
            FileCheck(
                name=f.name,
                path=path if exists else None,
                expected_sha256=f.sha256,
                actual_sha256=sha256_file(path) if exists and path else None,
                expected_size=f.size_bytes,
                actual_size=path.stat().st_size if exists and path else None,
            )
        )
    return checks
