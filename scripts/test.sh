#!/usr/bin/env bash
# Runs the test suite twice: on the compiled backend (required to load) and on the
# forced pure-PyTorch fallback. Extra arguments go to pytest. VENV=path overrides .venv.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
echo "== pytest, compiled backend (EOI_EXT_BACKEND=ext)"
EOI_EXT_BACKEND=ext "$VENV/bin/python" -m pytest tests -q "$@"
echo "== pytest, pure-PyTorch fallback (EOI_EXT_BACKEND=python)"
EOI_EXT_BACKEND=python "$VENV/bin/python" -m pytest tests -q "$@"
