"""Build commands for the detector: export YOLO-World with the UI vocabulary to ONNX, and build its TensorRT engine.

    python -m sightline_host.vision.export onnx --weights yolov8s-worldv2.pt --out ~/.sightline/models/yolo-world-ui
    python -m sightline_host.vision.export engine --model ~/.sightline/models/yolo-world-ui/yolo-world-ui.onnx

The ONNX export needs Ultralytics (and, through it, PyTorch and CLIP, whose weights it downloads): a build-time
tool only, installed on its own (`pip install ultralytics`), never imported by the host at run time. The vocabulary
is baked into the exported graph (`set_classes`), so the ONNX model needs no text encoder at run time; its class
order is written beside it as `<name>.vocabulary.json`, which the host reads.
"""

import argparse
import importlib
import json
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sightline_host.vision.detector import Detector, DetectorOptions
from sightline_host.vision.trt_cache import sha256_file
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
            "`inference/.venv/bin/pip install ultralytics` (it brings PyTorch and downloads the CLIP text encoder), "
            "or export on another machine and copy the .onnx and .vocabulary.json files here"
        ) from error


def export_onnx(
    weights: str,
    out_dir: Path,
    name: str = "yolo-world-ui",
    vocabulary: Sequence[str] = UI_VOCABULARY,
    imgsz: int = 640,
    model_id: str = DEFAULT_MODEL_ID,
    revision: str | None = None,
) -> Path:
    """Exports `weights` (a YOLO-World .pt) with `vocabulary` baked in; returns the .onnx path."""
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
    check_model(target)
    return target


def check_model(model: Path) -> list[str]:
    """Loads the model the way the host does and runs it once on a blank screen; returns the providers used."""
    detector = Detector(model)
    detector.detect(np.full((detector.input_height, detector.input_width, 3), 255, dtype=np.uint8))
    return detector.providers


def build_engine(model: Path, cache_dir: Path, fp16: bool = True, vocabulary: Vocabulary | None = None) -> list[str]:
    """Builds (or reuses, after the compatibility check) the TensorRT engine and records its metadata."""
    detector = Detector(model, vocabulary, DetectorOptions(trt_cache_dir=cache_dir, fp16=fp16, tiling=False))
    if detector.providers[0] != "TensorrtExecutionProvider":
        raise ExportUnavailable(
            f"ONNX Runtime offers no TensorRT here (providers: {detector.providers}); install onnxruntime-gpu with "
            "TensorRT libraries to build an engine"
        )
    # The provider builds the engine on the first run.
    detector.detect(np.full((detector.input_height, detector.input_width, 3), 255, dtype=np.uint8))
    return detector.providers


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sightline_host.vision.export", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    onnx = commands.add_parser("onnx", help="export YOLO-World with the UI vocabulary to ONNX (needs ultralytics)")
    onnx.add_argument(
        "--weights", default="yolov8s-worldv2.pt", help="YOLO-World .pt (Ultralytics downloads known names)"
    )
    onnx.add_argument("--out", type=Path, required=True, help="folder for <name>.onnx and <name>.vocabulary.json")
    onnx.add_argument("--name", default="yolo-world-ui")
    onnx.add_argument("--imgsz", type=int, default=640)
    onnx.add_argument("--vocabulary", help="comma-separated class prompts (default: the UI vocabulary)")
    onnx.add_argument("--model-id", default=DEFAULT_MODEL_ID)
    onnx.add_argument("--revision")
    engine = commands.add_parser("engine", help="build the TensorRT engine and its metadata (needs TensorRT)")
    engine.add_argument("--model", type=Path, required=True)
    engine.add_argument("--cache-dir", type=Path, help="default: <model folder>/trt-engines")
    engine.add_argument("--fp32", action="store_true")
    args = parser.parse_args(argv)
    try:
        if args.command == "onnx":
            vocabulary = [v.strip() for v in args.vocabulary.split(",")] if args.vocabulary else list(UI_VOCABULARY)
            path = export_onnx(args.weights, args.out, args.name, vocabulary, args.imgsz, args.model_id, args.revision)
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
