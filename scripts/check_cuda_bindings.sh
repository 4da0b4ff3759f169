#!/usr/bin/env bash
# Compiles the torch bindings as a CUDA build would (csrc/ops_cuda.cpp and csrc/ops.cpp
# with EOI_WITH_CUDA) against the installed torch's headers and the CUDA toolkit's, with
# g++ -fsyntax-only: the check CI can run without a GPU or a CUDA build of torch, so the
# binding never rots. (The kernels themselves are compiled by nvcc in the cmake build.)
# Usage: scripts/check_cuda_bindings.sh [python]   (default: .venv/bin/python)
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${1:-.venv/bin/python}"
CUDA_ROOT="${CUDA_HOME:-${CUDA_PATH:-/usr/local/cuda}}"
if [[ ! -f "$CUDA_ROOT/include/cuda_runtime_api.h" ]]; then
  echo "check_cuda_bindings: no CUDA headers under $CUDA_ROOT (set CUDA_HOME)" >&2
  exit 1
fi

mapfile -t TORCH_INCLUDES < <("$PYTHON" -c \
  "from torch.utils.cpp_extension import include_paths; print(*include_paths(), sep='\n')")
FLAGS=(-std=c++20 -fsyntax-only -Wall -Wextra -Werror -Icsrc)
for dir in "${TORCH_INCLUDES[@]}"; do FLAGS+=(-isystem "$dir"); done
FLAGS+=(-isystem "$("$PYTHON" -c "import sysconfig; print(sysconfig.get_paths()['include'])")")
FLAGS+=(-isystem "$CUDA_ROOT/include")

# CPU builds of torch ship c10/cuda's headers but not this generated one.
STUB=build/cuda-binding-stub
if [[ ! -f "${TORCH_INCLUDES[0]}/c10/cuda/impl/cuda_cmake_macros.h" ]]; then
  mkdir -p "$STUB/c10/cuda/impl"
  printf '#pragma once\n#define C10_CUDA_BUILD_SHARED_LIBS\n' > "$STUB/c10/cuda/impl/cuda_cmake_macros.h"
  FLAGS+=(-isystem "$STUB")
fi

MACROS=(-DEOI_WITH_CUDA '-DEOI_CUDA_VERSION="check"' '-DEOI_CUDA_ARCHS="check"'
        '-DEOI_TORCH_VERSION="check"' -DTORCH_EXTENSION_NAME=_C)
for source in csrc/ops_cuda.cpp csrc/ops.cpp; do
  g++ "${FLAGS[@]}" "${MACROS[@]}" "$source"
  echo "check_cuda_bindings: $source compiles with EOI_WITH_CUDA"
done
