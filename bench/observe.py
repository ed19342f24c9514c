"""Observe latency without capture: detector (with tiling), OCR, merge and total, at 1920x1080 and 3840x2160.

    inference/.venv/bin/python bench/observe.py                   # CPU, ONNX Runtime: results/observe-<host>.json
    python3 bench/observe.py --device cuda --model M.onnx         # GPU: the detector and the OCR through PyTorch
                                                                  # (CUDA graphs, fp16)
    inference/.venv/bin/python bench/observe.py --small-elements  # adds the 4K small-element recall studies
    inference/.venv/bin/python bench/observe.py --ocr-variants    # adds the OCR before/after study
    inference/.venv/bin/python bench/observe.py --reobserve-only  # the re-observe study alone:
                                                                  # results/observe-reobserve-<host>.json

The detector is `--model` (or SIGHTLINE_DETECTOR_ONNX): the real YOLO-World export, or Ultralytics' export of the
YOLO-World v2 S architecture with random weights (same graph and compute; `export_tiny_yolo_world(DIR,
"yolov8s-worldv2.yaml")` in inference/tests/test_vision_torch.py writes one, with the export extra installed).
Without one, a random-weight stand-in of YOLO-World-S's size that `sightline_host.vision.synthetic` generates. The
screen is rendered text (menus, a sidebar, paragraphs: `synthetic.text_screen`) so the OCR has a realistic amount
to read; the merge gets the OCR's lines plus 150 control boxes (a random-weight model finds none of its own).

Per run: each stage alone (detect, ocr, merge: their own figures), then the host's way (`total`): detector and OCR
side by side in two threads, then the merge, as `ws_session` does. `sum` is the three stages one after the other.
`model_pass_ms` is the network alone for one 640x640 input (no letterbox, decoding or tiling).

`--reobserve` (`reobserve_study`) is the agent's closed loop: a first look at the 1080p text screen, then
re-observes after a small change (one sidebar entry renamed, a caret blink, nothing), with what the OCR and the
detector remember of earlier frames, against the same engines with no memory; each row says whether it read exactly
what the memoryless engines read. Every other figure is a first look: the memories are dropped before each run.

`--ocr-variants` reads the 1080p text screen with each OCR variant in the same process (RapidOCR's own pipeline,
the OCR before this project's pipeline, first), with accuracy against what was drawn and ratios to the first row:
CPU timing on shared cores is noisy, so old and new are compared within one run.

On the GPU machine (Python 3.12 and PyTorch, no onnxruntime-gpu, no TensorRT) it needs these cp312 wheels besides
what is there: rapidocr-onnxruntime (the OCR models; the before/after study also runs it, which needs pyclipper and
shapely), jsonschema, jsonschema-specifications, referencing, rpds-py (and, to export the model there,
ultralytics, ultralytics-thop, onnxslim).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from PIL import Image, ImageDraw, ImageFont

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "inference"))

import contextlib

from sightline_host.ocr import OcrEngine
from sightline_host.ocr.accuracy import score_lines
from sightline_host.ocr.engine import bundled_models, fused_files
from sightline_host.ocr.geometry import axis_aligned, crop_quad
from sightline_host.ocr.models import ModelFiles, OcrModels, OrtModels
from sightline_host.ocr.pipeline import OcrOptions, OcrPipeline
from sightline_host.ocr.rec_batches import Bucketing, fill_batch, normalize, plan_batches, scaled_width
from sightline_host.protocol.types import TextLine
from sightline_host.vision._ort import ort
from sightline_host.vision.detector import Detection, Detector, DetectorOptions
from sightline_host.vision.merge import iou, merge_elements
from sightline_host.vision.synthetic import (
    SCREEN_WORDS,
    blink_caret,
    relabel_sidebar,
    square_finder,
    text_screen,
    yolo_world_s_like,
)
from sightline_host.vision.vocabulary import UI_VOCABULARY, Vocabulary, kind_of

T = TypeVar("T")
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
WORDS = list(SCREEN_WORDS)


def screen(width: int, height: int, seed: int = 0) -> Image.Image:
    """A desktop-like screenshot: a menu bar, a sidebar list and paragraphs, at the scale HiDPI uses on 4K."""
    return Image.fromarray(text_screen(width, height, seed)[0])


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


def forget(detector: Detector, *engines: OcrEngine) -> None:
    """Drop what the detector and the OCR remember of earlier frames, so the next observe is a first look."""
    detector.forget()
    for engine in engines:
        engine.forget()


def side_by_side(detector: Detector, ocr: OcrEngine, rgb: np.ndarray) -> tuple[list[Detection], list[TextLine]]:
    """Detector and OCR in two threads, as the host runs them."""
    found: dict[str, Any] = {}

    def detect() -> None:
        found["detections"] = detector.detect(rgb)

    worker = threading.Thread(target=detect)
    worker.start()
    found["lines"] = ocr.read(rgb)
    worker.join()
    return found["detections"], found["lines"]


def observe_rows(detector: Detector, ocr: OcrEngine, sizes: list[tuple[int, int]], runs: int) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for width, height in sizes:
        rgb = np.asarray(screen(width, height))
        controls = fake_controls(width, height)
        samples: dict[str, list[float]] = {"detect": [], "ocr": [], "merge": [], "sum": [], "total": []}
        stages: dict[str, list[float]] = {}
        passes = 1 + len(detector.plan(width, height))
        # The network alone, one 640x640 pass (no letterbox, decode or tiling): what the accelerator spends.
        tensor = np.zeros((1, 3, detector.input_height, detector.input_width), np.float32)
        for _ in range(3):
            detector._run(tensor)
        model_pass = [timed(detector._run, tensor)[1] for _ in range(max(5, runs * 3))]
        lines_found = elements = 0
        for run in range(runs + 1):
            forget(detector, ocr)  # these figures are a first look at the screen, nothing remembered
            detections, det_ms = timed(detector.detect, rgb)
            ocr.forget()
            lines, ocr_ms = timed(ocr.read, rgb)
            times = ocr.last_times
            if run and times is not None:
                for name in ("det_input", "det_model", "det_post", "crop", "rec"):
                    stages.setdefault(name, []).append(getattr(times, name))
            merged, merge_ms = timed(merge_elements, detections + controls, lines)
            forget(detector, ocr)
            start = time.perf_counter()
            detections, lines = side_by_side(detector, ocr, rgb)
            merge_elements(detections + controls, lines)
            total_ms = (time.perf_counter() - start) * 1000
            if run == 0:
                continue  # warm-up: session and arena allocation, cuDNN autotuning, CUDA graph capture
            for key, value in (
                ("detect", det_ms),
                ("ocr", ocr_ms),
                ("merge", merge_ms),
                ("sum", det_ms + ocr_ms + merge_ms),
                ("total", total_ms),
            ):
                samples[key].append(value)
            lines_found, elements = len(lines), len(merged)
        rows.append(
            {
                "resolution": f"{width}x{height}",
                "detector_passes": passes,
                "detect_per_pass_ms": round(statistics.median(samples["detect"]) / passes, 2),
                "model_pass_ms": stats(model_pass),
                "ocr_lines": lines_found,
                "ocr_stages_ms": {k: round(statistics.median(v), 1) for k, v in stages.items()},
                "elements": elements,
                **{k: stats(v) for k, v in samples.items()},
            }
        )
    return rows


# ------------------------------------------------------------------------------------------------------ re-observe

RENAMED = "Archive Notes"


def timed_observe(detector: Detector, ocr: OcrEngine, rgb: np.ndarray, controls: list[Detection]) -> dict[str, Any]:
    """One observe as the host runs it (detector and OCR side by side, then the merge): wall and CPU time (every
    thread of this process), each side's own wall time, the OCR's stages and what was reused."""
    found: dict[str, Any] = {}
    misses = detector.pass_cache.counts.misses if detector.pass_cache is not None else 0

    def detect() -> None:
        found["detections"], found["detect_ms"] = timed(detector.detect, rgb)

    cpu_begin, begin = time.process_time(), time.perf_counter()
    worker = threading.Thread(target=detect)
    worker.start()
    lines, ocr_ms = timed(ocr.read, rgb)
    worker.join()
    merged, merge_ms = timed(merge_elements, found["detections"] + controls, lines)
    wall_ms, cpu_ms = (time.perf_counter() - begin) * 1000, (time.process_time() - cpu_begin) * 1000
    times = ocr.last_times
    assert times is not None
    return {
        "lines": lines,
        "detections": found["detections"],
        "elements": len(merged),
        "wall": wall_ms,
        "cpu": cpu_ms,
        "detect": found["detect_ms"],
        "ocr": ocr_ms,
        "merge": merge_ms,
        "ocr_det": times.det_input + times.det_model + times.det_post,
        "ocr_rec": times.crop + times.rec,
        "crops": times.crops,
        "crops_read": times.crops - times.rec_cached,
        "text_boxes_reused": times.det_reused,
        "detector_passes_run": (detector.pass_cache.counts.misses - misses) if detector.pass_cache is not None else -1,
    }


def reobserve_study(
    detector: Detector, plain_detector: Detector, ocr: OcrEngine, plain_ocrs: list[OcrEngine], runs: int
) -> dict[str, Any]:
    """The agent's closed loop (act, re-capture, observe) on the 1080p text screen: a first look, then re-observes of
    the same screen after a small change, each primed by an observe of the unchanged screen. `before`: the engines
    without any memory of earlier frames (what every observe cost before), on the renamed frame; then the same with
    the OCR on one thread (the other core left to the detector). Every row's lines and detections are compared with
    the first row's engines' on the same frame (`same_as_uncached`), and its accuracy is against what that frame
    drew. Rows are interleaved run by run, so bursts of other work on shared cores land on all of them
    alike; ratios are to `before`."""
    width, height = 1920, 1080
    base, truth = text_screen(width, height)
    renamed, renamed_truth = relabel_sidebar(base, truth, 3, RENAMED)
    blinked = blink_caret(base, truth)
    controls = fake_controls(width, height)
    plain_ocr, one_thread = plain_ocrs
    memoryless = (plain_detector, plain_ocr)
    scenarios: list[tuple[str, np.ndarray, list[Any], bool, tuple[Detector, OcrEngine]]] = [
        ("before: no memory of earlier frames (renamed frame)", renamed, renamed_truth, False, memoryless),
        ("no memory, OCR on 1 thread (renamed frame)", renamed, renamed_truth, False, (plain_detector, one_thread)),
        ("first look (memory empty)", base, truth, False, (detector, ocr)),
        (f"re-observe: a sidebar entry renamed to {RENAMED!r}", renamed, renamed_truth, True, (detector, ocr)),
        ("re-observe: caret blink after the last paragraph line", blinked, truth, True, (detector, ocr)),
        ("re-observe: unchanged frame", base, truth, True, (detector, ocr)),
    ]  # fmt: skip
    reference = {id(frame): side_by_side(plain_detector, plain_ocr, frame) for frame in (base, renamed, blinked)}
    samples: dict[str, list[dict[str, Any]]] = {name: [] for name, *_ in scenarios}
    for _ in range(runs):
        for name, frame, _, primed, engines in scenarios:
            forget(detector, ocr)
            if primed:
                timed_observe(detector, ocr, base, controls)
            samples[name].append(timed_observe(*engines, frame, controls))
    rows: list[dict[str, Any]] = []
    for name, frame, frame_truth, _, _ in scenarios:
        last = samples[name][-1]
        detections, lines = reference[id(frame)]
        rows.append(
            {
                "scenario": name,
                **{k: stats([s[k] for s in samples[name]]) for k in ("wall", "cpu", "detect", "ocr", "merge")},
                "ocr_stages_ms": {
                    k: round(statistics.median(s[k] for s in samples[name]), 1) for k in ("ocr_det", "ocr_rec")
                },
                **{k: last[k] for k in ("crops", "crops_read", "text_boxes_reused", "detector_passes_run", "elements")},
                "accuracy": score_lines(last["lines"], frame_truth).as_dict(),
                "same_as_uncached": last["lines"] == lines and last["detections"] == detections,
            }
        )
    base_row = rows[0]
    for row in rows:
        row["vs_before"] = {
            k: round(row[k]["median"] / max(base_row[k]["median"], 1e-9), 3) for k in ("wall", "cpu", "detect", "ocr")
        }
    return {
        "frame": f"{width}x{height}",
        "lines_drawn": len(truth),
        "detector_passes": 1 + len(detector.plan(width, height)),
        "runs": runs,
        "unit": "ms, median over runs; wall and cpu: one whole observe (detector and OCR side by side, then the "
        "merge); cpu is process time, every thread; detect and ocr: each side's own wall time; read: crops the "
        "recognizer ran on / crops; passes: detector passes run (-1: no memory to count them)",
        "rows": rows,
    }


def run_reobserve(detector: Detector, plain_detector: Detector, ocr: OcrEngine, runs: int) -> dict[str, Any]:
    """The study, against a detector and an OCR like the host's but with no memory of earlier frames."""
    memoryless = replace(ocr.options, rec_cache_entries=0, reuse_same_frame=False)
    plain_ocrs = [
        OcrEngine(ocr.max_side, ocr.backend, ocr.device, memoryless, cpu_threads=threads)
        for threads in (ocr.cpu_threads, 1)  # as the host's, and one thread: the other core left to the detector
    ]
    study = reobserve_study(detector, plain_detector, ocr, plain_ocrs, runs)
    study["ocr"] = ocr.description
    print_reobserve(study)
    return study


def print_reobserve(study: dict[str, Any]) -> None:
    print(
        f"Re-observe, {study['frame']} text screen, {study['lines_drawn']} lines drawn, "
        f"{study['detector_passes']} detector passes, {study['runs']} runs"
    )
    print(
        f"{'scenario':<60} {'wall':>7} {'cpu':>7} {'detect':>7} {'ocr':>7} {'o.det':>6} {'o.rec':>6} "
        f"{'read':>6} {'passes':>6} {'exact':>6} {'chars':>6} {'same':>5} {'wall/b':>7} {'cpu/b':>6}"
    )
    for row in study["rows"]:
        st, acc, vs = row["ocr_stages_ms"], row["accuracy"], row["vs_before"]
        print(
            f"{row['scenario']:<60} {row['wall']['median']:>7} {row['cpu']['median']:>7} {row['detect']['median']:>7} "
            f"{row['ocr']['median']:>7} {st['ocr_det']:>6} {st['ocr_rec']:>6} "
            f"{str(row['crops_read']) + '/' + str(row['crops']):>6} {row['detector_passes_run']:>6} "
            f"{acc['exact']:>6} {acc['char_accuracy']:>6} {row['same_as_uncached']!s:>5} {vs['wall']:>7} {vs['cpu']:>6}"
        )


# Icon sides on a 4K screen: 8-12 px at 100 % scaling (toolbar glyphs, close boxes), 16-20 px at 150-200 %.
SIZES_PX = (8, 10, 12, 16, 20)


def _grid_squares(
    width: int, height: int, sizes: tuple[int, ...], per_size: int, seed: int
) -> list[tuple[int, int, int]]:
    """Non-overlapping squares (x, y, side) scattered over a grid of 160-pixel cells, none on a cell's edge."""
    rng = np.random.default_rng(seed)
    cells = [(cx, cy) for cy in range(0, height - 160, 160) for cx in range(0, width - 160, 160)]
    chosen = rng.choice(len(cells), size=len(sizes) * per_size, replace=False)
    out = []
    for i, cell in enumerate(chosen):
        side = sizes[i % len(sizes)]
        cx, cy = cells[int(cell)]
        out.append((cx + int(rng.integers(20, 140 - side)), cy + int(rng.integers(20, 140 - side)), side))
    return out


def small_element_study(tmp: Path, per_size: int = 30) -> dict[str, Any]:
    """Recall of small square icons on a 3840x2160 frame, by icon size, for each way of feeding the detector.

    The detector is `square_finder`: a hand-wired network with YOLO's finest stride (8 input pixels) that finds a dark
    square once it covers a 4x4 block of a stride-8 cell, about 6-8 input pixels. It stands in for YOLO-World's
    small-object limit, which is the same stride-8 head: a trained model's recall at a given input scale is at best
    this geometric bound. (It has no coarser heads, so it says nothing of large elements, which the whole-frame pass
    keeps anyway; at 1:1 it also splits the larger icons into several boxes, its `false_boxes`.)"""
    width, height = 3840, 2160
    truth = _grid_squares(width, height, SIZES_PX, per_size, seed=3)
    rgb = np.full((height, width, 3), 255, np.uint8)
    for x, y, side in truth:
        rgb[y : y + side, x : x + side] = 30
    m640 = square_finder(tmp / "sq640.onnx")
    m1280 = square_finder(tmp / "sq1280.onnx", size=1280)
    modes: list[tuple[str, Path, DetectorOptions]] = [
        ("whole frame, 640 input", m640, DetectorOptions(tiling=False, backend="onnxruntime")),
        ("whole frame, 1280 input", m1280, DetectorOptions(tiling=False, backend="onnxruntime")),
        ("640 input + tiles shrunk at most 2x (default)", m640, DetectorOptions(min_scale=0.5, backend="onnxruntime")),
        ("640 input + tiles at native size", m640, DetectorOptions(min_scale=1.0, backend="onnxruntime")),
    ]
    rows = []
    for name, model, options in modes:
        detector = Detector(model, Vocabulary(("icon", "button"), "square-finder"), options)
        found, ms = timed(detector.detect, rgb)
        boxes = [(d.x, d.y, d.width, d.height) for d in found]
        recall = {}
        for side in SIZES_PX:
            squares = [(float(x), float(y), float(s), float(s)) for x, y, s in truth if s == side]
            hits = sum(1 for sq in squares if any(iou(sq, b) >= 0.5 for b in boxes))
            recall[f"{side}px"] = round(hits / len(squares), 3)
        passes = 1 + len(detector.plan(width, height))
        rows.append(
            {
                "mode": name,
                "input": f"{detector.input_width}x{detector.input_height}",
                "passes": passes,
                # Compute relative to one 640x640 pass: what YOLO-World would spend.
                "cost_640_passes": round(passes * detector.input_width * detector.input_height / 640**2, 2),
                "recall": recall,
                "false_boxes": sum(1 for b in boxes if not any(iou(b, (x, y, s, s)) >= 0.5 for x, y, s in truth)),
                "square_finder_ms": round(ms, 1),
            }
        )
    return {"frame": f"{width}x{height}", "icons_per_size": per_size, "detector": "square_finder", "rows": rows}


OCR_SIZES_PX = (11, 13, 16, 20, 26)


def ocr_small_text_study(engines: list[tuple[str, OcrEngine]]) -> dict[str, Any]:
    """Word recall of the real OCR on a 3840x2160 frame of words at several font sizes (the pixel heights of a
    100 %-scaled 4K desktop and up), for each OCR input cap. A word counts when a line holding it lies around it."""
    width, height = 3840, 2160
    image = Image.new("RGB", (width, height), (250, 250, 250))
    draw = ImageDraw.Draw(image)
    rng = np.random.default_rng(5)
    truth: list[tuple[str, tuple[float, float, float, float], int]] = []
    y = 40
    for size in OCR_SIZES_PX:
        font = ImageFont.truetype(FONT, size)
        for _row in range(6):
            x = 40
            while x < width - 400:
                word = str(rng.choice(WORDS))
                left, top, right, bottom = draw.textbbox((x, y), word, font=font)
                draw.text((x, y), word, fill=(25, 25, 25), font=font)
                truth.append((word, (left, top, right - left, bottom - top), size))
                x = int(right) + int(size * 3.5)
            y += int(size * 2.2)
        y += 40
    rgb = np.asarray(image)
    result: dict[str, Any] = {"frame": f"{width}x{height}", "words": len(truth), "rows": []}
    for name, engine in engines:
        engine.read(rgb[:200, :400])  # warm-up
        engine.forget()
        lines, ms = timed(engine.read, rgb)
        recall = {}
        for size in OCR_SIZES_PX:
            words = [(w, b) for w, b, s in truth if s == size]
            hits = 0
            for word, box in words:
                for line in lines:
                    lb = line["box"]
                    inside = (
                        box[0] >= lb["x"] - 4
                        and box[1] >= lb["y"] - 4
                        and box[0] + box[2] <= lb["x"] + lb["width"] + 4
                        and box[1] + box[3] <= lb["y"] + lb["height"] + 4
                    )
                    if inside and word.lower() in line["text"].lower().split():
                        hits += 1
                        break
            recall[f"{size}px"] = round(hits / len(words), 3)
        result["rows"].append(
            {"mode": name, "max_side": engine.max_side, "ms": round(ms, 1), "lines": len(lines), "word_recall": recall}
        )
    return result


def _as_lines(found: list[tuple[Any, str, float]]) -> list[TextLine]:
    lines: list[TextLine] = []
    for quad, text, score in found:
        if float(score) < 0.5:
            continue
        x, y, width, height = axis_aligned(quad)
        lines.append(
            {"text": str(text), "box": {"x": x, "y": y, "width": width, "height": height}, "confidence": score}
        )
    return lines


def _rapidocr_reader() -> Callable[[np.ndarray], list[TextLine]]:
    """The OCR as it was: RapidOCR's own pipeline (angle classifier, batches of 6 padded to the widest crop)."""
    from rapidocr_onnxruntime import RapidOCR  # noqa: PLC0415 - only for the before/after comparison

    engine = RapidOCR(max_side_len=2000)

    def read(rgb: np.ndarray) -> list[TextLine]:
        result, _ = engine(np.ascontiguousarray(rgb[:, :, ::-1]))
        return _as_lines(list(result or []))

    return read


OCR_STAGES = ("det_input", "det_model", "det_post", "crop", "rec")
# The CPU default before the fused graphs: the wheel's networks, ONNX Runtime's spinning thread pool, squeeze 0.85.
PREVIOUS_CPU_DEFAULT = "ONNX Runtime CPU, squeeze 0.85 (bundled graphs, spinning: the default before)"


def ocr_variants(variants: list[tuple[str, OcrEngine | None]], runs: int) -> dict[str, Any]:
    """Each OCR variant on the same text-dense 1080p frame in one process, the variants interleaved run by run (so
    a burst of other work on shared cores lands on all of them alike): wall and CPU time (process time, every
    thread of this process: what other users of shared cores disturb least), stage times, and accuracy against what
    was drawn at 1080p and 4K; ratios to the first variant (`None`: RapidOCR's own pipeline, the OCR before this
    work) and to the previous CPU default where it is in the list. `same_text_as_baseline`: every line reads
    exactly as the previous default reads it, at both sizes."""
    width, height = 1920, 1080
    rgb, truth = text_screen(width, height)
    rgb_4k, truth_4k = text_screen(3840, 2160)
    readers = [(name, engine, _rapidocr_reader() if engine is None else engine.read) for name, engine in variants]
    rows: list[dict[str, Any]] = []
    texts: dict[str, tuple[list[str], list[str]]] = {}
    for name, engine, reader in readers:
        lines = reader(rgb)  # also the warm-up: sessions, CUDA graph capture
        lines_4k = reader(rgb_4k)
        rows.append(
            {
                "variant": name,
                "backend": "rapidocr-onnxruntime 1.4.4, ONNX Runtime CPU" if engine is None else engine.description,
                "accuracy": score_lines(lines, truth).as_dict(),
                "accuracy_4k": score_lines(lines_4k, truth_4k).as_dict(),
            }
        )
        texts[name] = ([line["text"] for line in lines], [line["text"] for line in lines_4k])
    walls: dict[str, list[float]] = {name: [] for name, _ in variants}
    cpus: dict[str, list[float]] = {name: [] for name, _ in variants}
    stages: dict[str, dict[str, list[float]]] = {name: {} for name, _ in variants}
    for _ in range(runs):
        for name, engine, reader in readers:
            if engine is not None:
                engine.forget()  # every variant reads the frame as a first look
            cpu_begin = time.process_time()
            _, ms = timed(reader, rgb)
            cpus[name].append((time.process_time() - cpu_begin) * 1000)
            walls[name].append(ms)
            times = None if engine is None else engine.last_times
            if times is not None:
                for stage in OCR_STAGES:
                    stages[name].setdefault(stage, []).append(getattr(times, stage))
    for row, (name, engine, _) in zip(rows, readers, strict=True):
        row["wall_ms"], row["cpu_ms"] = stats(walls[name]), stats(cpus[name])
        row["stages_ms"] = {k: round(statistics.median(v), 1) for k, v in stages[name].items()}
        if engine is not None:
            row["options"] = {"det_scale": engine.options.det_scale, "squeeze": engine.options.squeeze}
            if engine.last_times is not None:
                row["rec_batches"] = engine.last_times.shapes
        print(f"ocr variant {name}: {json.dumps(row)}", flush=True)
    base = rows[0]
    previous = next((r for r in rows if r["variant"] == PREVIOUS_CPU_DEFAULT), None)
    for row in rows:
        row["vs_first"] = {
            "wall": round(row["wall_ms"]["median"] / base["wall_ms"]["median"], 3),
            "cpu": round(row["cpu_ms"]["median"] / max(base["cpu_ms"]["median"], 1e-9), 3),
            "char_accuracy": round(row["accuracy"]["char_accuracy"] / max(base["accuracy"]["char_accuracy"], 1e-9), 4),
            "exact": round(row["accuracy"]["exact"] / max(base["accuracy"]["exact"], 1e-9), 4),
        }
        if previous is not None:
            row["vs_previous_cpu_default"] = {
                "wall": round(row["wall_ms"]["median"] / previous["wall_ms"]["median"], 3),
                "cpu": round(row["cpu_ms"]["median"] / max(previous["cpu_ms"]["median"], 1e-9), 3),
                "same_text_as_baseline": texts[row["variant"]] == texts[PREVIOUS_CPU_DEFAULT],
            }
    return {
        "frame": f"{width}x{height}",
        "lines_drawn": len(truth),
        "runs": runs,
        "timing": "interleaved: each run reads the frame once with every variant in turn",
        "rows": rows,
    }


class StudyEngine(OcrEngine):
    """An ONNX Runtime OCR engine on chosen networks and thread-pool settings, for the study (the host's engine
    takes the wheel's networks, fused, with the default settings)."""

    def __init__(
        self,
        files: Callable[[], tuple[ModelFiles, str]],
        options: OcrOptions,
        spinning: bool = False,
        threads: int | None = None,
    ) -> None:
        super().__init__(2000, "onnxruntime", options=options)
        self._files, self._spinning, self._threads = files, spinning, threads

    def _load_models(self) -> OcrModels:
        files, label = self._files()
        return OrtModels(files, threads=self._threads, spinning=self._spinning, graphs=label)


def calibration_batches(count: int = 48) -> list[np.ndarray]:
    """Recognizer inputs for int8 calibration: single crops of other synthetic screens (seeds 1-3; one in a dark
    theme, one at 4K), never the screen the study reads."""
    pipeline = OcrPipeline(OrtModels(bundled_models()), OcrOptions(squeeze=0.85))
    batches: list[np.ndarray] = []
    for seed, (width, height), dark in ((1, (1920, 1080), False), (2, (1920, 1080), True), (3, (3840, 2160), False)):
        rgb, _ = text_screen(width, height, seed)
        bgr = np.ascontiguousarray((255 - rgb if dark else rgb)[:, :, ::-1])
        crops = [crop_quad(bgr, quad) for quad in pipeline.detect(bgr)]
        widths = [scaled_width(c.shape[0], c.shape[1], 0.85) for c in crops]
        for batch in plan_batches(widths, Bucketing(tuple(range(320, 4001, 32)), (1,), 4000)):
            pixels, content = fill_batch(crops, widths, batch)
            batches.append(normalize(pixels, content))
    rng = np.random.default_rng(0)
    return [batches[int(i)] for i in rng.choice(len(batches), size=min(count, len(batches)), replace=False)]


def int8_recognizer(source: Path, out: Path, float_neck: bool) -> Path:
    """Static int8 QDQ quantization of a recognizer: per-channel int8 weights, uint8 activations with reduce_range
    (no VNNI on the VM: full-range u8s8 can saturate), MinMax calibration on `calibration_batches`. `float_neck`
    keeps the SVTR neck's and the classifier's MatMuls and the stem Conv in float (the usual first fix for accuracy).
    Dynamic quantization is not offered: its ConvInteger ran the recognizer at 5x the float time here."""
    import onnx  # noqa: PLC0415 - study only
    from onnx import version_converter  # noqa: PLC0415

    # ONNX Runtime ships no type information (see sightline_host.vision._ort).
    quantization: Any = importlib.import_module("onnxruntime.quantization")

    model = onnx.load(str(source))
    if model.opset_import[0].version < 13:  # per-channel DequantizeLinear needs opset 13
        model = version_converter.convert_version(model, 13)
    staged = out.with_suffix(".opset13.onnx")
    onnx.save(model, str(staged))
    exclude: list[str] = []
    if float_neck:
        exclude = [n.name for n in model.graph.node if n.op_type == "MatMul"]
        exclude += [next(n.name for n in model.graph.node if n.op_type == "Conv")]
    feeds = iter([{"x": batch} for batch in calibration_batches()])

    class Reader(quantization.CalibrationDataReader):  # type: ignore[misc]
        def get_next(self) -> dict[str, np.ndarray] | None:
            return next(feeds, None)

    quantization.quantize_static(
        str(staged),
        str(out),
        Reader(),
        quant_format=quantization.QuantFormat.QDQ,
        per_channel=True,
        reduce_range=True,
        activation_type=quantization.QuantType.QUInt8,
        weight_type=quantization.QuantType.QInt8,
        calibrate_method=quantization.CalibrationMethod.MinMax,
        nodes_to_exclude=exclude,
    )
    return out


def variant_engines(cuda: bool, device: str, tmp: Path) -> list[tuple[str, OcrEngine | None]]:
    cpu = "onnxruntime"
    variants: list[tuple[str, OcrEngine | None]] = [("before: RapidOCR's pipeline", None)]

    def bundled() -> tuple[ModelFiles, str]:
        return bundled_models(), "bundled graphs"

    def fused() -> tuple[ModelFiles, str]:
        return fused_files(bundled_models(), tmp / "fused")

    def int8(float_neck: bool) -> Callable[[], tuple[ModelFiles, str]]:
        def files() -> tuple[ModelFiles, str]:
            graphs, _ = fused()
            name = "rec-int8-float-neck.onnx" if float_neck else "rec-int8.onnx"
            rec = int8_recognizer(graphs.rec, tmp / name, float_neck)
            return ModelFiles(graphs.det, rec), "fused graphs, int8 QDQ recognizer" + (
                " (neck, classifier, stem in float)" if float_neck else ""
            )

        return files

    def before(options: OcrOptions) -> StudyEngine:
        return StudyEngine(bundled, options, spinning=True)

    variants += [
        # The pipeline as it stood before the fused graphs: the wheel's networks, ONNX Runtime's spinning pool.
        ("ONNX Runtime CPU, full size (bundled graphs, spinning)", before(OcrOptions(det_scale=1.0, squeeze=1.0))),
        (PREVIOUS_CPU_DEFAULT, before(OcrOptions(squeeze=0.85))),
        ("ONNX Runtime CPU, squeeze 0.75 (bundled graphs, spinning)", before(OcrOptions(squeeze=0.75))),
        ("ONNX Runtime CPU, det 0.75 (bundled graphs, spinning)", before(OcrOptions(det_scale=0.75))),
        (
            "ONNX Runtime CPU, det 0.75, squeeze 0.85 (bundled graphs, spinning)",
            before(OcrOptions(det_scale=0.75, squeeze=0.85)),
        ),
        ("ONNX Runtime CPU, bundled graphs, no spinning", StudyEngine(bundled, OcrOptions(squeeze=0.85))),
        ("ONNX Runtime CPU, fused graphs, spinning", StudyEngine(fused, OcrOptions(squeeze=0.85), spinning=True)),
        (
            "ONNX Runtime CPU, fused graphs, no spinning, 1 thread",
            StudyEngine(fused, OcrOptions(squeeze=0.85), threads=1),
        ),
        ("ONNX Runtime CPU, fused graphs, no spinning, squeeze 0.8", StudyEngine(fused, OcrOptions(squeeze=0.8))),
        ("ONNX Runtime CPU, int8 recognizer", StudyEngine(int8(False), OcrOptions(squeeze=0.85))),
        ("ONNX Runtime CPU, int8 recognizer, float neck", StudyEngine(int8(True), OcrOptions(squeeze=0.85))),
        ("ONNX Runtime CPU, default (fused graphs, no spinning, squeeze 0.85)", OcrEngine(2000, cpu)),
    ]
    if cuda:
        # The GPU's shapes before: widths every 160 px, batches padded to 1/4/16/64 crops (each shape is one CUDA
        # graph; the default now has widths every 64 px and batches in powers of two).
        coarse = Bucketing(
            widths=(320, 480, 640, 800, 960, 1280, 1600, 1920, 2560, 3200, 4000),
            batch_sizes=(1, 4, 16, 64),
            max_pixels=64 * 640,
        )

        def gpu(squeeze: float, bucketing: Bucketing | None = None, fp16: bool = True) -> OcrEngine:
            return OcrEngine(2000, "torch", device, OcrOptions(squeeze=squeeze, bucketing=bucketing), rec_fp16=fp16)

        variants += [
            ("PyTorch GPU, fp32, coarse shapes", gpu(1.0, coarse, fp16=False)),
            ("PyTorch GPU, fp16, coarse shapes", gpu(1.0, coarse)),
            ("PyTorch GPU, fp16, coarse shapes, squeeze 0.85", gpu(0.85, coarse)),
            ("PyTorch GPU, fp16, fine shapes", gpu(1.0)),
            ("PyTorch GPU, default (fp16, fine shapes, squeeze 0.85)", OcrEngine(2000, "torch", device)),
        ]
    return variants


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="observe latency without capture")
    parser.add_argument("--device", default="cpu", help="cpu (ONNX Runtime) or cuda[:N] (the PyTorch paths)")
    parser.add_argument("--model", type=Path, default=os.environ.get("SIGHTLINE_DETECTOR_ONNX") or None)
    parser.add_argument("--model-desc", help="what --model is, for the record")
    parser.add_argument("--runs", type=int, default=int(os.environ.get("OBSERVE_RUNS", "3")))
    parser.add_argument("--small-elements", action="store_true", help="add the 4K small-element recall studies")
    parser.add_argument("--ocr-variants", action="store_true", help="add the OCR before/after study (needs rapidocr)")
    parser.add_argument("--ocr-only", action="store_true", help="only the OCR before/after study")
    parser.add_argument("--reobserve", action="store_true", help="add the re-observe study (memory of earlier frames)")
    parser.add_argument("--reobserve-only", action="store_true", help="only the re-observe study")
    default_out = Path(os.environ.get("OUT", Path(__file__).resolve().parent / "results"))
    parser.add_argument("--out", type=Path, default=default_out)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    cuda = args.device.startswith("cuda")
    host = machine()
    gpu = host["gpu"] if cuda else None
    slug = re.sub(r"[^A-Za-z0-9]+", "-", str(gpu or socket.gethostname())).strip("-")
    args.out.mkdir(parents=True, exist_ok=True)
    if args.ocr_only:
        with tempfile.TemporaryDirectory() as tmp:
            study = ocr_variants(variant_engines(cuda, args.device, Path(tmp)), args.runs)
        print_variants(study)
        record = {"benchmark": "observe-ocr", "date": datetime.now(UTC).isoformat(timespec="seconds"), "machine": host}
        write(args.out / f"observe-ocr-{slug}.json", {**record, "ocr_variants_1080p": study})
        return
    with tempfile.TemporaryDirectory() as tmp:
        if args.model:
            model, vocabulary = Path(args.model), None
            model_desc = args.model_desc or Path(args.model).name
        else:
            model = Path(tmp) / "yolo-world-s-like.onnx"
            size = yolo_world_s_like(model)
            vocabulary = Vocabulary(UI_VOCABULARY, "yolo-world-s-like")
            model_desc = (
                f"generated random-weight stand-in of YOLO-World-S size: {size['params'] / 1e6:.1f} M "
                f"params, {size['macs'] / 1e9:.1f} G MACs at 640 (no real weights downloadable here)"
            )
        options = (
            DetectorOptions(backend="torch", device=args.device)
            if cuda
            else DetectorOptions(backend="onnxruntime", trt_cache_dir=Path(tmp) / "trt")
        )
        detector = Detector(model, vocabulary, options)
        ocr = OcrEngine(max_side=2000, backend="torch" if cuda else "onnxruntime", device=args.device if cuda else None)
        ocr.load()
        reobserve = None
        if args.reobserve or args.reobserve_only:
            plain_detector = Detector(model, vocabulary, replace(options, pass_cache_entries=0))
            reobserve = run_reobserve(detector, plain_detector, ocr, args.runs)
        if args.reobserve_only and reobserve is not None:
            record = {"benchmark": "observe-reobserve", "date": datetime.now(UTC).isoformat(timespec="seconds")}
            record |= {"machine": host, "detector_model": model_desc, "detector_backend": detector.backend}
            write(args.out / f"observe-reobserve-{slug}.json", {**record, "reobserve_1080p": reobserve})
            return
        rows = observe_rows(detector, ocr, [(1920, 1080), (3840, 2160)], args.runs)
        result: dict[str, Any] = {
            "benchmark": "observe",
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": host,
            "detector_model": model_desc,
            "detector_backend": detector.backend,
            "detector_providers": detector.providers,
            "detector_input": f"{detector.input_width}x{detector.input_height}",
            "ocr": f"PP-OCRv4 det + rec (rapidocr-onnxruntime 1.4.4's models), sightline_host.ocr pipeline on "
            f"{ocr.description}; options {ocr.options.det_scale=}, {ocr.options.squeeze=}, long side cut to 2000",
            "tiling": "whole-screen pass + tiles of at most 2x shrink (min_scale 0.5), 20 % overlap",
            "unit": "ms, median of runs after one warm-up; capture and image decode excluded. detect/ocr/merge: each "
            "stage alone; sum: the three one after the other; total: detector and OCR side by side, then merge, "
            "as the host runs them; ocr_stages_ms: the OCR's own stages",
            "rows": rows,
        }
        if reobserve is not None:
            result["reobserve_1080p"] = reobserve
        if args.ocr_variants:
            result["ocr_variants_1080p"] = ocr_variants(variant_engines(cuda, args.device, Path(tmp)), args.runs)
        if args.small_elements:
            result["small_elements_4k"] = small_element_study(Path(tmp))
            full = OcrEngine(max_side=4096, backend=ocr.backend, device=ocr.device)
            full.load()
            result["ocr_small_text_4k"] = ocr_small_text_study(
                [("long side cut to 2000 (default)", ocr), ("full resolution (max_side 4096)", full)]
            )
    print_rows(result)
    write(args.out / f"observe-{slug}.json", result)


def write(path: Path, result: dict[str, Any]) -> None:
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {path}")


def print_rows(result: dict[str, Any]) -> None:
    print(
        f"{'resolution':<11} {'passes':>6} {'pass':>6} {'detect':>8} {'ocr':>8} {'merge':>7} {'sum':>8} "
        f"{'total':>8} {'lines':>6} {'elements':>8}"
    )
    for row in result["rows"]:
        print(
            f"{row['resolution']:<11} {row['detector_passes']:>6} {row['model_pass_ms']['median']:>6} "
            f"{row['detect']['median']:>8} {row['ocr']['median']:>8} {row['merge']['median']:>7} "
            f"{row['sum']['median']:>8} {row['total']['median']:>8} {row['ocr_lines']:>6} {row['elements']:>8}"
        )
        print(f"  ocr stages: {row['ocr_stages_ms']}")
    for key in ("small_elements_4k", "ocr_small_text_4k"):
        if key in result:
            for study_row in result[key]["rows"]:
                print(key, json.dumps(study_row))
    if "ocr_variants_1080p" in result:
        print_variants(result["ocr_variants_1080p"])
    if "reobserve_1080p" in result:
        print_reobserve(result["reobserve_1080p"])


def print_variants(study: dict[str, Any]) -> None:
    print(f"OCR variants, {study['frame']} text screen, {study['lines_drawn']} lines drawn, {study['runs']} runs")
    print(
        f"{'variant':<72} {'wall':>8} {'cpu':>8} {'det':>7} {'rec':>8} {'exact':>6} {'4K':>6} {'chars':>7} "
        f"{'cpu/1st':>8} {'cpu/prev':>8} {'wall/prev':>9} {'same':>5}"
    )
    for row in study["rows"]:
        acc, vs, st = row["accuracy"], row["vs_first"], row["stages_ms"]
        prev = row.get("vs_previous_cpu_default", {})
        print(
            f"{row['variant']:<72} {row['wall_ms']['median']:>8} {row['cpu_ms']['median']:>8} "
            f"{st.get('det_model', '-'):>7} {st.get('rec', '-'):>8} {acc['exact']:>6} "
            f"{row['accuracy_4k']['exact']:>6} {acc['char_accuracy']:>7} {vs['cpu']:>8} {prev.get('cpu', '-'):>8} "
            f"{prev.get('wall', '-'):>9} {prev.get('same_text_as_baseline', '-')!s:>5}"
        )


if __name__ == "__main__":
    main()
