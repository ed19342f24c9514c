"""Loading a VLM checkpoint folder from the model store into an engine.

Which loader: a checkpoint whose config maps `AutoModelForCausalLM` to its own code (Molmo) is loaded with that
code, and only when its catalog manifest says `trust_remote_code: true` (the code comes pinned by the manifest's
revision); anything else goes through `AutoModelForImageTextToText` and `AutoProcessor`. Loading never reaches
the network: the store is the only source of model files.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sightline_host.planner.chat_types import ChatEngine, EngineError

_DTYPES = ("float32", "float16", "bfloat16")


def _config(folder: Path) -> dict[str, Any]:
    try:
        data = json.loads((folder / "config.json").read_text("utf-8"))
    except (OSError, ValueError) as error:
        raise EngineError("model_unavailable", f"{folder} holds no readable config.json: {error}", 503) from error
    if not isinstance(data, dict):
        raise EngineError("model_unavailable", f"{folder / 'config.json'} is not a JSON object", 503)
    return data


def uses_remote_code(folder: Path) -> bool:
    """Whether the checkpoint brings its own model code (Molmo does), rather than a transformers architecture."""
    auto_map = _config(folder).get("auto_map") or {}
    return isinstance(auto_map, dict) and "AutoModelForCausalLM" in auto_map


def load_vlm(model_id: str, folder: Path, args: Mapping[str, Any], device: str, context: int) -> ChatEngine:
    """The engine for the checkpoint in `folder`; `device` is "gpu", "cpu" or "any" (the profile's choice)."""
    try:
        import torch  # noqa: PLC0415  (an optional dependency: the embedded profile runs without it)
        import transformers  # noqa: PLC0415
    except ImportError as error:
        raise EngineError(
            "model_unavailable",
            f"{model_id} needs PyTorch and transformers: install the host with its gpu extra "
            f"(pip install 'sightline-host[gpu]') ({error})",
            503,
        ) from error
    from sightline_host.vlm.backends import ChatTemplateBackend, MolmoBackend, VlmBackend  # noqa: PLC0415
    from sightline_host.vlm.transformers_engine import TransformersVlmEngine  # noqa: PLC0415

    on_gpu = device == "gpu" or (device == "any" and torch.cuda.is_available())
    if on_gpu and not torch.cuda.is_available():
        raise EngineError("model_unavailable", f"{model_id} is set to run on a GPU, and PyTorch sees none", 503)
    # 16-bit on the GPU as the manifest asks; float32 on the CPU, where bfloat16 matmuls are slow or missing.
    name = str(args.get("dtype", "bfloat16")) if on_gpu else "float32"
    if name not in _DTYPES:
        raise EngineError("model_unavailable", f"{model_id}: unknown dtype {name!r} (one of {', '.join(_DTYPES)})", 503)
    dtype = getattr(torch, name)
    target = torch.device("cuda" if on_gpu else "cpu")
    common: dict[str, Any] = {"local_files_only": True}

    backend: VlmBackend
    try:
        if uses_remote_code(folder):
            if args.get("trust_remote_code") is not True:
                raise EngineError(
                    "model_unavailable",
                    f"{model_id} brings its own model code; its catalog manifest must set "
                    "runtime.args.trust_remote_code: true for the host to run it",
                    503,
                )
            processor = transformers.AutoProcessor.from_pretrained(  # type: ignore[no-untyped-call]
                folder, trust_remote_code=True, **common
            )
            model: Any = transformers.AutoModelForCausalLM.from_pretrained(
                folder, trust_remote_code=True, dtype=dtype, **common
            )
            backend = MolmoBackend(model.to(target).eval(), processor, dtype)
        else:
            processor = transformers.AutoProcessor.from_pretrained(folder, **common)  # type: ignore[no-untyped-call]
            model = transformers.AutoModelForImageTextToText.from_pretrained(folder, dtype=dtype, **common)
            backend = ChatTemplateBackend(model.to(target).eval(), processor)
    except ImportError as error:
        # Molmo's own code imports what transformers does not need (einops, torchvision, tensorflow).
        raise EngineError(
            "model_unavailable", f"{model_id}'s model code needs a package this host lacks: {error}", 503
        ) from error
    except (OSError, ValueError, KeyError) as error:
        raise EngineError("model_unavailable", f"{model_id} could not be loaded from {folder}: {error}", 503) from error
    return TransformersVlmEngine(model_id, backend, context)
