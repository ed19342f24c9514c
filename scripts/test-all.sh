#!/usr/bin/env bash
# Every check of the project, in order of cost. Each step runs even when an
# earlier one failed, so one run shows everything that is wrong; the last line
# adds up the tests of all three runners from their JUnit reports.
set -uo pipefail
cd "$(dirname "$0")/.."
reports=test-reports
rm -rf "$reports" && mkdir -p "$reports"
failed=()

step() {
  local name=$1
  shift
  echo "=== $name"
  if ! "$@"; then failed+=("$name"); fi
}

step "lint (biome + tsc)" npm run --silent lint
step "protocol files up to date" npx tsx scripts/gen-protocol.ts --check
step "unit + integration (vitest)" npx vitest run --reporter=default --reporter=junit --outputFile.junit="$reports/vitest.xml"
step "python host (ruff, mypy, pytest)" bash scripts/test-python.sh --junitxml="../$reports/pytest.xml"
step "desktop end-to-end (playwright, Xvfb)" env PLAYWRIGHT_JUNIT_OUTPUT_NAME="$reports/playwright.xml" \
  bash scripts/test-e2e.sh --reporter=list,junit

node scripts/summarize-junit.mjs "$reports"
if [ ${#failed[@]} -gt 0 ]; then
  printf 'FAILED steps: %s\n' "${failed[*]}"
  exit 1
fi
