"""Build commands for the detector: export YOLO-World with the UI vocabulary to ONNX, and warm its TensorRT engine.

    python -m sightline_host.vision.export build --out ~/.sightline/models/yolo-world-ui     # all of it
    python -m sightline_host.vision.export onnx --weights yolov8s-worldv2.pt --out DIR      # the export only
    python -m sightline_host.vision.export engine --model DIR/yolo-world-ui.onnx            # the engine only

The export needs Ultralytics, PyTorch and CLIP (whose ViT-B/32 weights it downloads once, like the YOLO-World
weights): build-time tools only, the `export` extra (`pip install -e 'inference[export]'`), never imported by the
host at run time. The vocabulary is baked into the exported graph (`set_classes`), so the model needs no text
encoder at run time; its class order is written beside it as `<name>.vocabulary.json`, which the host reads.

`build` exports, checks the model through each backend this machine has (ONNX Runtime; PyTorch where it sees a
GPU), then builds the TensorRT engine with its metadata where ONNX Runtime offers TensorRT, and says what it skipped.
"""

import argparse
import importlib
import importlib.util
import json
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

import numpy as np

from sightline_host.file_digest import sha256_file
from sightline_host.vision._ort import ort
from sightline_host.vision.detector import Backend, Detector, DetectorOptions
from sightline_host.vision.torch_backend import cuda_usable
from sightline_host.vision.vocabulary import UI_VOCABULARY, Vocabulary, vocabulary_path

DEFAULT_MODEL_ID = "yolo-world-v2-s"


class ExportUnavailable(RuntimeError):
    """The export tooling is missing; the message says how to install it."""


def _ultralytics() -> Any:
    try:
        return importlib.import_module("ultralytics")
    except ImportError as error:
        raise ExportUnavailable(
            "exporting YOLO-World needs Ultralytics, a build-time tool the host does not install: run "
            "`inference/.venv/bin/pip install -e 'inference[export]'` (it brings PyTorch and CLIP), or export on "
            "another machine and copy the .onnx and .vocabulary.json files here"
        ) from error


def export_onnx(
    weights: str,
    out_dir: Path,
    name: str = "yolo-world-ui",
    vocabulary: Sequence[str] = UI_VOCABULARY,
    imgsz: int = 640,
    model_id: str = DEFAULT_MODEL_ID,
    revision: str | None = None,
    torchscript: bool = False,
) -> Path:
    """Exports `weights` (a YOLO-World .pt) with `vocabulary` baked in; returns the .onnx path. With `torchscript`
    also writes `<name>.torchscript` beside it (the PyTorch backend runs either; the ONNX file is the reference)."""
    if imgsz <= 0 or imgsz % 32:
        raise ValueError(f"imgsz must be a positive multiple of 32 (the detector's largest stride), got {imgsz}")
    if not vocabulary:
        raise ValueError("the vocabulary must name at least one class")
    ultralytics = _ultralytics()
    model = ultralytics.YOLOWorld(weights)
    # Computes the CLIP text embeddings of the vocabulary and stores them in the model: no text encoder at run time.
    model.set_classes(list(vocabulary))
    # Static 640x640, batch 1: one TensorRT profile, the fastest engine; large screens are tiled instead.
    exported = Path(model.export(format="onnx", imgsz=imgsz, dynamic=False, simplify=True, opset=17))
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{name}.onnx"
    shutil.move(str(exported), target)
    vocab = {
        "classes": list(vocabulary),
        "model_id": model_id,
        "revision": revision,
        "weights": Path(weights).name,
        "onnx_sha256": sha256_file(target),
        "imgsz": imgsz,
        "ultralytics": str(getattr(ultralytics, "__version__", "unknown")),
    }
    vocabulary_path(target).write_text(json.dumps(vocab, indent=2) + "\n", "utf-8")
    if torchscript:
        scripted = Path(model.export(format="torchscript", imgsz=imgsz))
        shutil.move(str(scripted), target.with_suffix(".torchscript"))
    check_model(target, backend="onnxruntime")
    return target


def check_model(model: Path, backend: str = "auto") -> list[str]:
    """Loads the model the way the host does and runs it once on a blank screen; returns the providers used."""
    detector = Detector(model, options=DetectorOptions(backend=cast(Backend, backend), tiling=False))
    detector.detect(np.full((detector.input_height, detector.input_width, 3), 255, dtype=np.uint8))
    return detector.providers


def build(
    weights: str, out_dir: Path, vocabulary: Sequence[str] = UI_VOCABULARY, torchscript: bool = False, fp16: bool = True
) -> list[str]:
    """Export, check on every backend here, warm the TensorRT engine where there is TensorRT; returns a report."""
    model = export_onnx(weights, out_dir, vocabulary=vocabulary, torchscript=torchscript)
    report = [f"exported {model} and {vocabulary_path(model)}"]
    report.append(f"ONNX Runtime runs it: {', '.join(check_model(model, 'onnxruntime'))}")
    if cuda_usable():
        report.append(f"PyTorch runs it: {', '.join(check_model(model, 'torch'))}")
    else:
        report.append("PyTorch check skipped: PyTorch sees no CUDA GPU here")
    available = list(ort().get_available_providers())
    if "TensorrtExecutionProvider" in available:
        cache_dir = model.parent / "trt-engines"
        providers = build_engine(model, cache_dir, fp16)
        report.append(f"TensorRT engine warmed in {cache_dir} ({', '.join(providers)})")
    else:
        report.append(
            f"TensorRT engine skipped: ONNX Runtime here offers {', '.join(available)}; on the GPU machine run "
            f"`python -m sightline_host.vision.export engine --model {model}` with onnxruntime-gpu and TensorRT"
        )
    return report


def build_engine(model: Path, cache_dir: Path, fp16: bool = True, vocabulary: Vocabulary | None = None) -> list[str]:
    """Builds (or reuses, after the compatibility check) the TensorRT engine and records its metadata."""
    options = DetectorOptions(trt_cache_dir=cache_dir, fp16=fp16, tiling=False, backend="onnxruntime")
    detector = Detector(model, vocabulary, options)
    if detector.providers[0] != "TensorrtExecutionProvider":
        raise ExportUnavailable(
            f"ONNX Runtime offers no TensorRT here (providers: {detector.providers}); install onnxruntime-gpu with "
            "TensorRT libraries to build an engine"
        )
    # The provider builds the engine on the first run.
    detector.detect(np.full((detector.input_height, detector.input_width, 3), 255, dtype=np.uint8))
    return detector.providers


def _vocabulary_arg(raw: str | None) -> list[str]:
    return [v.strip() for v in raw.split(",") if v.strip()] if raw else list(UI_VOCABULARY)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sightline_host.vision.export", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    everything = commands.add_parser("build", help="export, check, and warm the TensorRT engine where there is one")
    onnx = commands.add_parser("onnx", help="export YOLO-World with the UI vocabulary to ONNX (needs the export extra)")
    for command in (everything, onnx):
        command.add_argument(
            "--weights", default="yolov8s-worldv2.pt", help="YOLO-World v2 .pt (Ultralytics downloads known names)"
        )
        command.add_argument("--out", type=Path, required=True, help="folder for <name>.onnx and its vocabulary")
        command.add_argument("--vocabulary", help="comma-separated class prompts (default: the UI vocabulary)")
        command.add_argument("--torchscript", action="store_true", help="also write <name>.torchscript")
    onnx.add_argument("--name", default="yolo-world-ui")
    onnx.add_argument("--imgsz", type=int, default=640)
    onnx.add_argument("--model-id", default=DEFAULT_MODEL_ID)
    onnx.add_argument("--revision")
    everything.add_argument("--fp32", action="store_true", help="an fp32 TensorRT engine (default fp16)")
    engine = commands.add_parser("engine", help="build the TensorRT engine and its metadata (needs TensorRT)")
    engine.add_argument("--model", type=Path, required=True)
    engine.add_argument("--cache-dir", type=Path, help="default: <model folder>/trt-engines")
    engine.add_argument("--fp32", action="store_true")
    args = parser.parse_args(argv)
    try:
        if args.command == "build":
            for line in build(
                args.weights, args.out, _vocabulary_arg(args.vocabulary), args.torchscript, not args.fp32
            ):
                print(line)
        elif args.command == "onnx":
            vocabulary = _vocabulary_arg(args.vocabulary)
            path = export_onnx(
                args.weights,
                args.out,
                args.name,
                vocabulary,
                args.imgsz,
                args.model_id,
                args.revision,
                args.torchscript,
            )
            print(f"wrote {path} and {vocabulary_path(path)}")
            print(f"use it: SIGHTLINE_DETECTOR_ONNX={path}")
        else:
            cache_dir = args.cache_dir or args.model.parent / "trt-engines"
            providers = build_engine(args.model, cache_dir, fp16=not args.fp32)
            print(f"engine ready in {cache_dir} (providers: {', '.join(providers)})")
    except Exception as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
