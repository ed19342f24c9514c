#!/usr/bin/env bash
# The inference host's checks: ruff (lint + format), mypy (strict), pytest.
set -euo pipefail
cd "$(dirname "$0")/../inference"
py=.venv/bin
"$py/ruff" check .
"$py/ruff" format --check .
"$py/mypy" sightline_host tests
exec "$py/pytest" -q "$@"
