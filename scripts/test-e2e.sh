#!/usr/bin/env bash
# Builds the app and runs the Playwright end-to-end tests on an X display:
# the current one if DISPLAY is set, else a fresh Xvfb screen of 1920x1080.
set -euo pipefail
cd "$(dirname "$0")/.."
npx electron-vite build >/dev/null
if [ -n "${DISPLAY:-}" ]; then
  exec npx playwright test "$@"
fi
exec xvfb-run --auto-servernum --server-args="-screen 0 3840x1080x24 -nolisten tcp" npx playwright test "$@"
