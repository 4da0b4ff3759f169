#!/usr/bin/env bash
# Sets up .venv (torch 2.13.0 CPU, the lab extra, the test tools) and builds eoi_ext into
# it in place.
# Idempotent: a second run only rebuilds what changed. VENV=path overrides .venv.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install -q --upgrade pip
# torch first and pinned: an unpinned torch would pull a multi-GB CUDA build.
"$VENV/bin/python" -m pip install -q torch==2.13.0
"$VENV/bin/python" -m pip install -q numpy ninja setuptools wheel
# --no-build-isolation: compile against the torch installed above.
"$VENV/bin/python" -m pip install -q --no-build-isolation -e ".[lab,test]"
"$VENV/bin/python" -c "import eoi_ext; print('eoi_ext backend:', eoi_ext.backend())"
