#!/usr/bin/env bash
# Enter → first plan step on a 1920x1080 Xvfb screen with a busy terminal on it;
# prints a table and writes bench/results/first-step-<host>.json.
set -euo pipefail
cd "$(dirname "$0")/.."
line=$(xvfb-run --auto-servernum --server-args="-screen 0 1920x1080x24 -nolisten tcp" \
  bash -c 'xterm -geometry 200x60+0+0 -e "ls -l /usr/share | head -80; sleep 900" >/dev/null 2>&1 & sleep 1.5; npx tsx bench/first-step.ts')
npx tsx bench/report.ts first-step "$line"
