#!/usr/bin/env bash
# Makes the planner benchmark's request: the host's OCR reads the synthetic 1080p text screen, and the agent's own
# prompt and schema code (TypeScript) turns the lines into the body it would send (bench/planner_request.ts).
# Then SmolLM2, on the built-in engine, answers it: the token ids of a real small model's plan, which
# bench/planner_first_step.py replays through the 8B-shaped model to time a plan of realistic length.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
inference/.venv/bin/python - "$work/elements.json" <<'PY'
import json, sys
from sightline_host.ocr import OcrEngine
from sightline_host.vision.synthetic import text_screen

pixels, _ = text_screen(1920, 1080, seed=0)
lines = OcrEngine().read(pixels)
elements = [{"id": i + 1, "kind": "text", **line} for i, line in enumerate(lines)]
json.dump(elements, open(sys.argv[1], "w"))
PY
npx tsx bench/planner_request.ts "$work/elements.json" bench/fixtures/planner-request-1080p.json "export this as PDF"
inference/.venv/bin/python bench/planner_first_step.py --record-answer
