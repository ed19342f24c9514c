"""Observe latency without capture: detector (with tiling), OCR, merge and total, at 1920x1080 and 3840x2160. The
detector is the real YOLO-World export when SIGHTLINE_DETECTOR_ONNX names one; otherwise a random-weight model of
YOLO-World-S's size and compute (12.9 M parameters, 14.5 G MACs at 640, the real (1, 17, 8400) output) that
`sightline_host.vision.synthetic` generates, since no detector weights can be downloaded here. The screen is
rendered text (menus, a sidebar, paragraphs) so the OCR has a realistic amount to read; the merge gets the OCR's
lines plus 150 control boxes (a random-weight model finds none of its own). Stages run one after the other; total
is their sum plus overheads (the host overlaps detector and OCR, which helps when the detector is on a GPU). Uses
the CUDA (or TensorRT) execution provider where onnxruntime-gpu offers it.

    inference/.venv/bin/python bench/observe.py            # writes bench/results/observe-<machine>.json
"""

from __future__ import annotations

import json
import os
import platform
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from PIL import Image, ImageDraw, ImageFont

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "inference"))

import contextlib

from sightline_host.ocr import OcrEngine
from sightline_host.vision._ort import ort
from sightline_host.vision.detector import Detection, Detector, DetectorOptions
from sightline_host.vision.merge import merge_elements
from sightline_host.vision.synthetic import yolo_world_s_like
from sightline_host.vision.vocabulary import UI_VOCABULARY, Vocabulary, kind_of

T = TypeVar("T")
RUNS = int(os.environ.get("OBSERVE_RUNS", "5"))
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
WORDS = [
    "File",
    "Edit",
    "View",
    "Insert",
    "Format",
    "Tools",
    "Help",
    "Export",
    "Save",
    "Share",
    "Comments",
    "Review",
    "Layout",
    "Report",
    "Quarterly",
    "Revenue",
    "Costs",
    "Outlook",
    "Settings",
    "Account",
    "Profile",
    "Search",
    "Documents",
    "Recent",
    "Downloads",
    "Pictures",
]


def screen(width: int, height: int, seed: int = 0) -> Image.Image:
    """A desktop-like screenshot: a menu bar, a sidebar list and paragraphs, at the scale HiDPI uses on 4K."""
    rng = np.random.default_rng(seed)
    scale = width / 1920
    image = Image.new("RGB", (width, height), (246, 246, 246))
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(FONT, round(15 * scale))
    x = 12 * scale
    for word in WORDS[:7]:
        draw.text((x, 8 * scale), word, fill=(30, 30, 30), font=font)
        x += draw.textlength(word, font=font) + 24 * scale
    draw.rectangle((0, 40 * scale, 260 * scale, height), fill=(232, 232, 236))
    for row in range(24):
        draw.text((20 * scale, (60 + row * 36) * scale), " ".join(rng.choice(WORDS, 2)), fill=(40, 40, 40), font=font)
    y = 70 * scale
    while y < height - 60 * scale:
        draw.text((300 * scale, y), " ".join(rng.choice(WORDS, 12)), fill=(20, 20, 20), font=font)
        y += 28 * scale
    return image


def fake_controls(width: int, height: int, count: int = 150, seed: int = 1) -> list[Detection]:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(count):
        w, h = rng.uniform(16, 160) * width / 1920, rng.uniform(16, 40) * width / 1920
        x, y = rng.uniform(0, width - w), rng.uniform(0, height - h)
        label = str(rng.choice(UI_VOCABULARY))
        out.append(Detection(kind_of(label), label, float(x), float(y), float(w), float(h), float(rng.uniform(0.3, 1))))
    return out


def timed(fn: Callable[..., T], *args: object) -> tuple[T, float]:
    begin = time.perf_counter()
    value = fn(*args)
    return value, (time.perf_counter() - begin) * 1000


def machine() -> dict[str, object]:
    gpu = None
    with contextlib.suppress(OSError, subprocess.SubprocessError, IndexError):
        gpu = (
            subprocess.run(
                ["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"],
                capture_output=True,
                text=True,
                timeout=10,
                check=True,
            )
            .stdout.strip()
            .splitlines()[0]
        )
    cpu = platform.processor() or "unknown"
    with contextlib.suppress(OSError, StopIteration):
        cpu = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    return {
        "hostname": socket.gethostname(),
        "platform": f"{platform.system()} {platform.release()}",
        "cpu": cpu,
        "cores": os.cpu_count(),
        "gpu": gpu,
        "python": platform.python_version(),
        "onnxruntime": ort().__version__,
        "providers_available": ort().get_available_providers(),
        # Other work on the machine inflates every figure; this says how busy it was.
        "load_average_1m_at_start": round(os.getloadavg()[0], 2),
    }


def stats(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "median": round(statistics.median(ordered), 1),
        "min": round(ordered[0], 1),
        "max": round(ordered[-1], 1),
        "n": len(ordered),
    }


def main() -> None:
    model_env = os.environ.get("SIGHTLINE_DETECTOR_ONNX")
    with tempfile.TemporaryDirectory() as tmp:
        if model_env:
            model, vocabulary, model_desc = Path(model_env), None, f"real: {Path(model_env).name}"
            size = None
        else:
            model = Path(tmp) / "yolo-world-s-like.onnx"
            size = yolo_world_s_like(model)
            vocabulary = Vocabulary(UI_VOCABULARY, "yolo-world-s-like")
            model_desc = (
                f"generated random-weight stand-in of YOLO-World-S size: {size['params'] / 1e6:.1f} M "
                f"params, {size['macs'] / 1e9:.1f} G MACs at 640 (no real weights downloadable here)"
            )
        cache = Path(tmp) / "trt"
        detector = Detector(model, vocabulary, DetectorOptions(trt_cache_dir=cache))
        ocr = OcrEngine()
        ocr.load()
        host = machine()
        rows: list[dict[str, Any]] = []
        for width, height in ((1920, 1080), (3840, 2160)):
            rgb = np.asarray(screen(width, height))
            controls = fake_controls(width, height)
            samples: dict[str, list[float]] = {"detect": [], "ocr": [], "merge": [], "total": []}
            passes = 1 + len(detector.plan(width, height))
            lines_found = elements = 0
            for run in range(RUNS + 1):
                start = time.perf_counter()

                # One after the other: on a CPU-only machine both would share the same cores anyway, and
                # each stage's figure stays clean. With a GPU the host overlaps them, so total is an upper bound.
                detections, det_ms = timed(detector.detect, rgb)
                lines, ocr_ms = timed(ocr.read, rgb)
                merge_start = time.perf_counter()
                merged = merge_elements(detections + controls, lines)
                merge_ms = (time.perf_counter() - merge_start) * 1000
                total_ms = (time.perf_counter() - start) * 1000
                if run == 0:
                    continue  # warm-up: session and arena allocation, TensorRT build
                for key, value in (("detect", det_ms), ("ocr", ocr_ms), ("merge", merge_ms), ("total", total_ms)):
                    samples[key].append(value)
                lines_found, elements = len(lines), len(merged)
            rows.append(
                {
                    "resolution": f"{width}x{height}",
                    "detector_passes": passes,
                    "ocr_lines": lines_found,
                    "elements": elements,
                    **{k: stats(v) for k, v in samples.items()},
                }
            )
        result = {
            "benchmark": "observe",
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": host,
            "detector_model": model_desc,
            "detector_providers": detector.providers,
            "detector_input": f"{detector.input_width}x{detector.input_height}",
            "tiling": "whole-screen pass + tiles of at most 2x shrink (min_scale 0.5), 20 % overlap",
            "unit": "ms (median of runs after one warm-up; capture and image decode excluded)",
            "rows": rows,
        }
    print(
        f"{'resolution':<11} {'passes':>6} {'detect':>8} {'ocr':>8} {'merge':>7} {'total':>8} "
        f"{'lines':>6} {'elements':>8}"
    )
    for row in rows:
        print(
            f"{row['resolution']:<11} {row['detector_passes']:>6} {row['detect']['median']:>8} "
            f"{row['ocr']['median']:>8} {row['merge']['median']:>7} {row['total']['median']:>8} "
            f"{row['ocr_lines']:>6} {row['elements']:>8}"
        )
    gpu = host["gpu"]
    slug = re.sub(r"[^A-Za-z0-9]+", "-", str(gpu or socket.gethostname())).strip("-")
    out = Path(os.environ.get("OUT", Path(__file__).resolve().parent / "results"))
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"observe-{slug}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
