#!/usr/bin/env bash
# The model zoo (issue 13): sets up a second venv with the real timm and torchvision
# (torch 2.14.1, torchvision 0.29.1, timm), builds eoi_ext into it and runs tests/zoo.
#
#   bash scripts/zoo_venv.sh [pytest args]   set up, then pytest tests/zoo -q [args]
#   bash scripts/zoo_venv.sh --setup         set up only (then run benchmarks/zoo.py, below)
#
# VENV=path overrides .venv-zoo. Idempotent: a second run installs nothing new and only
# recompiles the sources that changed.
#
# Why a copy of the tree: setup.py builds in place (eoi_ext/_C*.so, eoi_ext/_build_config.py),
# and the tree's extension is the main .venv's, built for torch 2.13.0; building for
# 2.14.1 there would replace it (the main venv would then refuse it and fall back). So
# the working tree (tracked files and untracked ones git does not ignore) is mirrored into
# build/zoo-src (mtimes kept, files gone from the tree removed), built there and tested
# there (one copy for every VENV: switching venvs recompiles it; ZOO_SRC=path overrides
# the copy). EOI_EXT_CUDA=0 unless set (scripts/cuda_build_check.sh sets 1): this
# torch is a CUDA build and nvcc is installed, so setup.py would also compile the CUDA
# kernels, which no GPU runs here; the CPU extension is what the tests and
# benchmarks/zoo.py use (EOI_EXT_BACKEND=ext: it must load).
#
# Run anything in this venv from the copy, e.g. the benchmark:
#   (cd build/zoo-src && ../../.venv-zoo/bin/python benchmarks/zoo.py --quick)
# (from the repository root, python would import the tree's eoi_ext, whose extension is
# the main venv's: it warns and runs the pure-PyTorch fallback).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
VENV=${VENV:-.venv-zoo}
case $VENV in /*) ;; *) VENV=$ROOT/$VENV ;; esac
SRC=${ZOO_SRC:-build/zoo-src}  # scripts/cuda_build_check.sh builds the CUDA variant apart
SETUP_ONLY=0
if [ "${1:-}" = "--setup" ]; then
  SETUP_ONLY=1
  shift
fi

echo "== mirror the working tree into $SRC"
mkdir -p "$SRC"
git ls-files -z --cached --others --exclude-standard | python3 -c '
import os, shutil, sys
from pathlib import Path

dest = Path(sys.argv[1])
files = {f for f in sys.stdin.buffer.read().decode().split("\0") if os.path.isfile(f)}
manifest = dest / ".zoo-files"
old = set(manifest.read_text().splitlines()) if manifest.exists() else set()
for stale in old - files:
    (dest / stale).unlink(missing_ok=True)
copied = 0
for name in files:
    src, dst = os.stat(name), dest / name
    if dst.exists() and (dst.stat().st_mtime_ns, dst.stat().st_size) == (
        src.st_mtime_ns, src.st_size
    ):
        continue
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(name, dst)
    copied += 1
manifest.write_text("\n".join(sorted(files)) + "\n")
print(f"{len(files)} files, {copied} copied, {len(old - files)} removed")
' "$SRC"

echo "== venv $VENV: torch 2.14.1, torchvision 0.29.1, timm"
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install -q --upgrade pip
# torch and torchvision first and pinned together (torchvision requires its own torch).
"$VENV/bin/python" -m pip install -q torch==2.14.1 torchvision==0.29.1
# timm pinned: a new release must not change what CI tests without a commit.
# The lab extra too: CI runs the efficientnet spec (torchvision's EfficientNet-B0) here;
# hypothesis and scipy: scripts/cuda_build_check.sh runs the CPU suite here.
"$VENV/bin/python" -m pip install -q timm==1.0.31 numpy pytest ninja setuptools wheel \
  scikit-learn matplotlib tqdm hypothesis scipy

echo "== build eoi_ext in $SRC for that torch (EOI_EXT_CUDA=${EOI_EXT_CUDA:-0})"
# The package is installed editable once, without the extension; the extension is built
# in place by setup.py build_ext, whose ninja build recompiles only what changed (pip's
# editable build would compile everything every time, ~25 s). --no-build-isolation:
# against the torch installed above.
cd "$SRC"
if ! "$VENV/bin/python" -m pip show -q eoi_ext >/dev/null 2>&1; then
  # Quiet unless it fails (setuptools warns about every editable install).
  if ! log=$(EOI_EXT_SKIP_EXTENSION=1 "$VENV/bin/python" -m pip install -q \
    --no-build-isolation --no-deps -e . 2>&1); then
    echo "$log"
    exit 1
  fi
fi
EOI_EXT_CUDA=${EOI_EXT_CUDA:-0} "$VENV/bin/python" setup.py -q build_ext --inplace
EOI_EXT_BACKEND=ext "$VENV/bin/python" -c \
  "import eoi_ext, torch; print('eoi_ext', eoi_ext.backend(), 'torch', torch.__version__)"

if [ "$SETUP_ONLY" = 1 ]; then
  exit 0
fi
echo "== pytest tests/zoo (EOI_EXT_BACKEND=ext)"
EOI_EXT_BACKEND=ext "$VENV/bin/python" -m pytest tests/zoo -q "$@"
