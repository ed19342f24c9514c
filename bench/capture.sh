#!/usr/bin/env bash
# Capture benchmark at 1920x1080 and 3840x2160 on Xvfb: capture alone per
# backend, and capture -> the host holds the decoded array (PNG vs raw pixels,
# base64 vs binary frame, ratios from one interleaved run); see bench/capture.ts.
# Prints a table and writes bench/results/capture-<host>.json.
set -euo pipefail
cd "$(dirname "$0")/.."
results=()
for size in 1920x1080 3840x2160; do
  # A busy screen compresses like a real desktop, not like a black frame.
  line=$(xvfb-run --auto-servernum --server-args="-screen 0 ${size}x24 -nolisten tcp" \
    bash -c 'xterm -geometry 400x200+0+0 -e "ls -lR /usr/share | head -5000; sleep 600" >/dev/null 2>&1 & sleep 1.5; npx tsx bench/capture.ts')
  results+=("$line")
done
npx tsx bench/report.ts capture "${results[@]}"
