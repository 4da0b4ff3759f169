#!/usr/bin/env bash
# The CUDA build a GPU user gets (issue 16, item 9), checked on a machine without a GPU:
# eoi_ext built with EOI_EXT_CUDA=1 for sm_90 against torch 2.14.1+cu130 (the zoo venv's
# torch, whose CUDA 13.0 matches the nvcc here), in its own mirror of the tree
# (build/cuda-src); imported without a GPU, build_info() must name cuda-ext and the arch;
# the CPU suite must pass on that build (a CUDA build works on a CPU-only machine); and
# its wheel must build. CUDA_HOME comes from scripts/cuda_toolkit.py (setup.py).
#
#   bash scripts/cuda_build_check.sh [pytest args]     VENV=path overrides .venv-zoo
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv-zoo}
case $VENV in /*) ;; *) VENV=$PWD/$VENV ;; esac
ZOO_SRC=build/cuda-src EOI_EXT_CUDA=1 TORCH_CUDA_ARCH_LIST=9.0 VENV=$VENV \
  bash scripts/zoo_venv.sh --setup
cd build/cuda-src
echo "== import without a GPU: build_info()"
EOI_EXT_BACKEND=ext "$VENV/bin/python" - <<'PY'
import torch

import eoi_ext

info = eoi_ext.build_info()
print(info)
assert not torch.cuda.is_available(), "this check is for a machine without a GPU"
assert info["loaded"] and "cuda-ext" in info["backends"], info
assert info["cuda_archs"] == "9.0" and info["cuda_version"] == torch.version.cuda, info
assert eoi_ext.backend("cpu") == "cpu-ext"
PY
echo "== the CPU suite on the CUDA build (EOI_EXT_BACKEND=ext)"
EOI_EXT_BACKEND=ext "$VENV/bin/python" -m pytest tests -q -p no:cacheprovider \
  --ignore=tests/zoo "$@"
echo "== its wheel"
rm -rf ../cuda-dist
EOI_EXT_CUDA=1 TORCH_CUDA_ARCH_LIST=9.0 "$VENV/bin/python" -m pip wheel -q \
  --no-build-isolation --no-deps -w ../cuda-dist .
ls -la ../cuda-dist
