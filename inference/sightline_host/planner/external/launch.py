"""Command lines for the external planner engines, built from the catalog and the profile.

Each engine gets the model, the served name, a loopback address with the host's own per-launch key, the
context and KV dtype the profile asks for, and the GPU layout the VRAM planner approved; `check_launch`
refuses a launch that the planner says does not fit, with the planner's own words and numbers.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, get_args

from sightline_host.models.catalog import Assignment, Catalog, HubSource, ModelManifest, Profile
from sightline_host.models.vram import GpuSpec, Plan, plan_profile, planner_memory_fraction

ExternalKind = Literal["vllm", "llama-server", "llama-cpp-python", "trtllm-serve"]
EXTERNAL_KINDS: tuple[str, ...] = get_args(ExternalKind)

DEFAULT_EXECUTABLES: Mapping[str, tuple[str, ...]] = {
    "vllm": ("vllm", "serve"),
    "llama-server": ("llama-server",),
    "llama-cpp-python": ("python3", "-m", "llama_cpp.server"),
    "trtllm-serve": ("trtllm-serve",),
}

# vLLM's and llama.cpp's names for the profile's KV dtypes; 16-bit KV is their default ("auto" / f16).
_VLLM_KV = {"fp8": "fp8", "float16": "auto", "bfloat16": "auto"}
_LLAMA_KV = {"q8_0": "q8_0", "q4_0": "q4_0", "float16": "f16", "float32": "f32"}


class LaunchRefused(Exception):
    """The VRAM planner says the profile's planner does not fit, or its layout is invalid, on these GPUs."""


@dataclass(frozen=True)
class LaunchSpec:
    kind: ExternalKind
    argv: tuple[str, ...]
    base_url: str  # the engine's OpenAI base, e.g. http://127.0.0.1:PORT/v1
    health_url: str
    served_name: str
    api_key: str
    env: Mapping[str, str] = field(default_factory=dict)


def _visible_devices(plan: Plan | None) -> dict[str, str]:
    gpus = plan.placements.get("planner") if plan else None
    return {"CUDA_VISIBLE_DEVICES": ",".join(map(str, gpus))} if gpus else {}


@dataclass(frozen=True)
class _Layout:
    """What the profile asked for, as the VRAM planner approved it."""

    tensor: int
    pipeline: int
    context: int
    batch: int
    kv_dtype: str | None
    on_gpu: bool
    memory_fraction: float  # of each GPU, for the planner; 0 when unknown

    @classmethod
    def of(cls, manifest: ModelManifest, assignment: Assignment, plan: Plan | None) -> _Layout:
        chosen = plan.chosen if plan else None
        par = assignment.parallel
        return cls(
            tensor=chosen.tensor if chosen else (par.tensor if par else 1),
            pipeline=chosen.pipeline if chosen else (par.pipeline if par else 1),
            context=(chosen.context if chosen else None)
            or assignment.context
            or manifest.architecture.max_context
            or 4096,
            batch=max(1, assignment.batch),
            kv_dtype=assignment.kv_dtype,
            on_gpu=chosen is not None,
            memory_fraction=planner_memory_fraction(plan.gpus) if plan else 0.0,
        )


def _vllm_args(m: ModelManifest, weights: Path | str, lay: _Layout, api_key: str) -> list[str]:
    runtime = m.runtime.args or {}
    args = [str(weights), "--served-model-name", m.id, "--api-key", api_key]
    args += ["--tensor-parallel-size", str(lay.tensor), "--pipeline-parallel-size", str(lay.pipeline)]
    args += ["--max-model-len", str(lay.context), "--max-num-seqs", str(lay.batch)]
    args += ["--enable-prefix-caching", "--structured-outputs-config.backend", "xgrammar"]
    args += [flag for key in ("quantization", "dtype") if key in runtime for flag in (f"--{key}", str(runtime[key]))]
    if lay.kv_dtype in _VLLM_KV:
        args += ["--kv-cache-dtype", _VLLM_KV[lay.kv_dtype]]
    if isinstance(weights, str) and isinstance(m.source, HubSource) and m.source.revision:
        # A hub id rather than a local snapshot: vLLM fetches it, at the catalog's pinned revision.
        args += ["--revision", m.source.revision]
    if lay.memory_fraction > 0:
        # vLLM sizes its KV cache to fill this share of each GPU; the rest stays for the other models.
        args += ["--gpu-memory-utilization", f"{min(0.95, math.ceil(lay.memory_fraction * 100) / 100):.2f}"]
    return args


def _llama_server_args(m: ModelManifest, weights: Path | str, lay: _Layout, api_key: str) -> list[str]:
    args = ["-m", str(weights), "--alias", m.id, "--api-key", api_key, "-c", str(lay.context)]
    args += ["--parallel", str(lay.batch), "-ngl", "999" if lay.on_gpu else "0"]
    if lay.on_gpu and lay.tensor * lay.pipeline > 1:
        # llama.cpp splits by rows (tensor-parallel-like) or by layers (pipeline-like) over the visible GPUs.
        args += ["--split-mode", "row" if lay.tensor > 1 else "layer"]
    if lay.kv_dtype in _LLAMA_KV:
        args += ["--cache-type-k", _LLAMA_KV[lay.kv_dtype], "--cache-type-v", _LLAMA_KV[lay.kv_dtype]]
    return args


def _llama_cpp_python_args(m: ModelManifest, weights: Path | str, lay: _Layout, api_key: str) -> list[str]:
    args = ["--model", str(weights), "--model_alias", m.id, "--api_key", api_key]
    args += ["--n_ctx", str(lay.context), "--n_gpu_layers", "-1" if lay.on_gpu else "0"]
    if lay.on_gpu and lay.tensor * lay.pipeline > 1:
        args += ["--split_mode", "2" if lay.tensor > 1 else "1"]  # llama.cpp's LLAMA_SPLIT_MODE_ROW / _LAYER
    return args


def _trtllm_args(m: ModelManifest, weights: Path | str, lay: _Layout, api_key: str) -> list[str]:
    del api_key  # trtllm-serve has no key of its own; it listens on loopback only
    args = [str(weights), "--backend", "pytorch", "--tp_size", str(lay.tensor), "--pp_size", str(lay.pipeline)]
    args += ["--max_seq_len", str(lay.context), "--max_batch_size", str(lay.batch)]
    if lay.memory_fraction > 0:
        args += ["--kv_cache_free_gpu_memory_fraction", f"{min(0.9, lay.memory_fraction):.2f}"]
    return args


_ARGS: Mapping[str, Callable[[ModelManifest, Path | str, _Layout, str], list[str]]] = {
    "vllm": _vllm_args,
    "llama-server": _llama_server_args,
    "llama-cpp-python": _llama_cpp_python_args,
    "trtllm-serve": _trtllm_args,
}


def build_launch(
    kind: ExternalKind,
    manifest: ModelManifest,
    assignment: Assignment,
    weights: Path | str,
    port: int,
    api_key: str,
    plan: Plan | None = None,
    executable: Sequence[str] | None = None,
    extra_args: Sequence[str] = (),
) -> LaunchSpec:
    """The command that serves ``manifest`` as ``kind`` on 127.0.0.1:``port``, laid out as ``plan`` chose."""
    layout = _Layout.of(manifest, assignment, plan)
    args = _ARGS[kind](manifest, weights, layout, api_key)
    base = tuple(executable) if executable else DEFAULT_EXECUTABLES[kind]
    address = ("--host", "127.0.0.1", "--port", str(port))
    # llama-cpp-python's server has no /health; its model list answers once the model is loaded.
    health = "/v1/models" if kind == "llama-cpp-python" else "/health"
    return LaunchSpec(
        kind=kind,
        argv=(*base, *args, *address, *extra_args),
        base_url=f"http://127.0.0.1:{port}/v1",
        health_url=f"http://127.0.0.1:{port}{health}",
        # trtllm-serve answers to the model path it was given.
        served_name=str(weights) if kind == "trtllm-serve" else manifest.id,
        api_key=api_key,
        env=_visible_devices(plan),
    )


def check_launch(catalog: Catalog, profile: Profile, gpus: Sequence[GpuSpec]) -> Plan:
    """The VRAM planner's plan for ``profile`` on ``gpus``; raises LaunchRefused unless it fits as requested."""
    plan = plan_profile(catalog, profile, gpus)
    if not plan.fits:
        raise LaunchRefused("\n".join(plan.lines) or plan.verdict)
    return plan
