#!/usr/bin/env bash
# GPU check (issue 12): on one H100 / H200 with a CUDA build of torch, builds the CUDA
# extension, runs the CUDA tests, the raw-kernel ctest, the kernel-only timing, the raw
# kernels under compute-sanitizer, the GPU benchmarks and the profile, and writes ONE
# markdown report. Within 8 minutes, offline: every step has its own time limit and all of
# them share one deadline (--budget), so a slow step cannot eat the rest. A failed step is
# recorded and the next one runs; the exit status is 1 if any failed. A step that cannot
# run here (no compute-sanitizer) is reported as skipped and does not fail the check.
#
#   scripts/gpu_check.sh [--out FILE] [--quick] [--budget SECONDS]   on the GPU machine
#   scripts/gpu_check.sh --dry-run [--out FILE]     CPU only (CI): the plumbing; 0 if it holds
#   scripts/gpu_check.sh --vendor-deps [DIR]        with network, before going offline
#
# Environment: PYTHON (default python3: the python that has torch), TORCH_CUDA_ARCH_LIST
# (default 9.0), OUT (the report goes to $OUT/gpu_check.md unless --out is given; else to
# build/gpu-check/gpu_check.md; kernel_timing.json goes beside it), GPU_CHECK_DEPS (default
# build/gpu-pydeps), MAX_JOBS (parallel compile jobs, default nproc).
#
# The GPU machine's python may lack pytest, pytest-benchmark and ninja (no network there).
# --vendor-deps installs them (pure-python wheels, plus ninja's binary; 9 MB)
# into build/gpu-pydeps on a machine with network; bring that folder along and the pytest
# steps use it when the python's own packages are missing. The smoke step needs no pytest.
#
# Steps, cheapest and most informative first (limits in seconds; they add up to more than
# the default budget of 480 s, so the last ones get what the first ones left; 30 s more
# than before the kernels and sanitizer steps, which together take about a minute):
#   files 10, env 20, build 200 (setup.py build_ext --inplace, README "GPU: build and
#   test"), smoke 30 (CUDA == CPU on a few shapes, eoi info --device cuda),
#   test_cuda 100 (tests/test_cuda.py, EOI_EXT_BACKEND=ext), ctest 80 (cmake
#   -DEOI_REQUIRE_CUDA=ON: test_cuda_launch, the raw kernels), kernels 60
#   (csrc/cuda/bench/kernel_timing.cu from the ctest step's build: each kernel alone by
#   cudaEvent pairs beside a measured write kernel of the same bytes, and the host stages;
#   its table goes into the report, its --json beside the report), sanitizer 90
#   (compute-sanitizer memcheck, with leak checking, and racecheck on test_cuda_launch
#   --small; any report fails the step), bench 80 (benchmarks/test_speed_cuda.py +
#   benchmarks/ratios.py: whole op calls), profile 40 (benchmarks/profile_cuda.py),
#   test_cuda_python 60 (the fallback on the GPU; last, only if time is left).
# --dry-run runs the same steps on the CPU: no build (it would replace the tree's
# extension), the tests and benchmarks collected and skipped (no GPU), cmake configured
# only for the ctest step; where nvcc is, kernel_timing and test_cuda_launch are built and
# must exit 77 (no GPU) and 2 (a bad argument), and the sanitizer command lines are printed;
# the smoke and the profile on --device cpu.
set -euo pipefail

SELF="$(cd "$(dirname "$0")" && pwd)/$(basename "$0")"
CALLER_PWD=$PWD  # a relative --out is the caller's
cd "$(dirname "$SELF")/.."
ROOT=$PWD
PYTHON=${PYTHON:-python3}
DEPS=${GPU_CHECK_DEPS:-$ROOT/build/gpu-pydeps}
WORK=$ROOT/build/gpu-check
# (name, time limit in seconds, title) in running order.
STEPS=(
  "files|10|referenced files and the python"
  "env|20|machine, driver, compilers, torch"
  "build|200|build the extension in place with the CUDA kernels"
  "smoke|30|CUDA equals CPU on a few shapes; eoi info on the device"
  "test_cuda|100|pytest tests/test_cuda.py (EOI_EXT_BACKEND=ext)"
  "ctest|80|cmake raw-kernel ctest (EOI_REQUIRE_CUDA=ON, sm_90)"
  "kernels|60|kernel-only timing vs a measured write kernel (csrc/cuda/bench/kernel_timing.cu)"
  "sanitizer|90|compute-sanitizer memcheck and racecheck on test_cuda_launch --small"
  "bench|80|GPU benchmarks (benchmarks/test_speed_cuda.py)"
  "profile|40|CUDA profile (benchmarks/profile_cuda.py)"
  "test_cuda_python|60|pytest tests/test_cuda.py (EOI_EXT_BACKEND=python)"
)
# Files the steps use: checked first, so a renamed test or benchmark fails the dry run.
FILES=(setup.py CMakeLists.txt tests/conftest.py tests/test_cuda.py benchmarks/conftest.py
       benchmarks/test_speed_cuda.py benchmarks/ratios.py benchmarks/profile_cuda.py
       csrc/cuda/tests/test_cuda_launch.cu csrc/cuda/bench/kernel_timing.cu csrc/ops_cuda.cpp)
TAIL_LINES=60

usage() { sed -n '2,/^set -euo/p' "$SELF" | sed '$d; s/^# \{0,1\}//'; }

# --- The steps, each run as `gpu_check.sh --step NAME` under timeout -------------------
# They read GPU_CHECK_MODE (gpu | dry-run), GPU_CHECK_QUICK and WORK from the environment.

gpu() { [[ $GPU_CHECK_MODE == gpu ]]; }
device() { if gpu; then echo cuda; else echo cpu; fi; }

# Puts $DEPS on PYTHONPATH when the python lacks pytest or pytest-benchmark.
use_deps_if_needed() {
  if ! "$PYTHON" -c "import pytest, pytest_benchmark" 2>/dev/null && [[ -d $DEPS ]]; then
    echo "pytest or pytest-benchmark missing from $PYTHON: using $DEPS"
    export PYTHONPATH="$PYTHONPATH:$DEPS"
  fi
  if ! "$PYTHON" -c "import pytest, pytest_benchmark"; then
    echo "pytest and pytest-benchmark are not importable by $PYTHON; on a machine with"
    echo "network run: PYTHON=<python with pip> scripts/gpu_check.sh --vendor-deps"
    echo "and bring $DEPS along (then the smoke step is the only python test that ran)"
    return 1
  fi
}

cmake_generator() {
  if command -v ninja >/dev/null; then echo Ninja; else echo "Unix Makefiles"; fi
}

step_files() {
  local missing=0
  for file in "${FILES[@]}"; do
    if [[ -f $file ]]; then echo "ok       $file"; else echo "MISSING  $file"; missing=1; fi
  done
  command -v "$PYTHON" >/dev/null || { echo "PYTHON=$PYTHON not found"; exit 1; }
  "$PYTHON" -c "import torch, numpy; print('python', __import__('sys').version.split()[0], \
'torch', torch.__version__, 'numpy', numpy.__version__)"
  return "$missing"
}

step_env() {
  date -u '+%Y-%m-%d %H:%M:%S UTC'
  uname -srm
  echo "cpus: $(nproc)"
  if command -v nvidia-smi >/dev/null; then
    nvidia-smi || true
    nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,power.limit \
      --format=csv || true
  else
    echo "nvidia-smi: not found"
  fi
  local tool
  for tool in nvcc cmake ninja g++; do
    if command -v "$tool" >/dev/null; then
      echo "$tool: $("$tool" --version | grep -m1 -iE 'release|version|[0-9]\.[0-9]')"
    else
      echo "$tool: not found"
    fi
  done
  "$PYTHON" - <<'EOF'
import importlib.metadata, sys, torch
from torch.utils.cpp_extension import CUDA_HOME
print("python", sys.version.split()[0], sys.executable)
print("torch", torch.__version__, "| torch.version.cuda", torch.version.cuda,
      "| CUDA_HOME", CUDA_HOME)
print("cuda available:", torch.cuda.is_available())
for i in range(torch.cuda.device_count()):
    print(f"  cuda:{i}", torch.cuda.get_device_name(i), torch.cuda.get_device_capability(i))
# Without pytest or pytest-benchmark, the pytest steps use GPU_CHECK_DEPS when present.
for module, dist in [("numpy", "numpy"), ("setuptools", "setuptools"), ("pytest", "pytest"),
                     ("pytest_benchmark", "pytest-benchmark")]:
    try:
        __import__(module)
        print(f"{dist}: {importlib.metadata.version(dist)}")
    except Exception:
        print(f"{dist}: missing")
EOF
  require_gpu
}

step_build() {
  export TORCH_CUDA_ARCH_LIST=${TORCH_CUDA_ARCH_LIST:-9.0} EOI_EXT_CUDA=1
  export MAX_JOBS=${MAX_JOBS:-$(nproc)}
  # build_ext --inplace: no install into the system python (it may be read-only or
  # externally managed) and nothing fetched; eoi_ext imports from the tree (PYTHONPATH).
  local command=("$PYTHON" setup.py build_ext --inplace)
  echo "TORCH_CUDA_ARCH_LIST=$TORCH_CUDA_ARCH_LIST EOI_EXT_CUDA=1 MAX_JOBS=$MAX_JOBS ${command[*]}"
  command -v ninja >/dev/null || echo "no ninja: torch compiles one file at a time (slower)"
  if ! gpu; then
    # Dry run: the build would replace this tree's extension; check what it needs.
    grep -q EOI_EXT_CUDA setup.py
    "$PYTHON" -c "import setuptools, torch.utils.cpp_extension as c; print('CUDA_HOME:', \
      c.CUDA_HOME)"
    echo "dry run: not built"
    return 0
  fi
  "${command[@]}"
  "$PYTHON" -c "import eoi_ext; print(eoi_ext.build_info()); \
assert 'cuda-ext' in eoi_ext.build_info()['backends'], 'no CUDA kernels in the build'"
}

step_smoke() {
  local layers=1000
  gpu || layers=50
  # Needs no pytest: the first check that the kernels load and agree with the CPU
  # (tests/test_cuda.py does it thoroughly).
  "$PYTHON" - "$(device)" "$layers" <<'EOF'
import sys, time, torch, eoi_ext
from eoi_ext.metrics import orthogonality_error
device, layers = sys.argv[1], sys.argv[2]
print("build_info:", eoi_ext.build_info())
print(f"backend({device}):", eoi_ext.backend(device))
if device == "cuda":
    assert eoi_ext.backend("cuda") == "cuda-ext", "the CUDA kernels did not load"
failed = 0
for rows, cols, density, dtype in [(256, 512, 0.1, torch.float32),
                                   (1024, 1024, 0.05, torch.float32),
                                   (300, 200, 0.2, torch.float64), (70, 130, 0.2, torch.bfloat16)]:
    def make(where):
        g = torch.Generator().manual_seed(rows * 7 + cols)
        return eoi_ext.sparse_orthogonal_batch(3, rows, cols, density, dtype=dtype, generator=g,
                                               device=where)
    (w_cpu, m_cpu), (w_dev, m_dev) = make("cpu"), make(device)
    start = time.perf_counter()
    make(device)
    if device == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    same_mask = torch.equal(m_dev.cpu(), m_cpu)
    diff = (w_dev.cpu().double() - w_cpu.double()).abs().max().item()
    tol = 1e-6 if dtype in (torch.float32, torch.float64) else torch.finfo(dtype).eps
    error = orthogonality_error(w_dev[0].float())
    ok = same_mask and diff <= tol and error < 1e-2
    failed += not ok
    print(f"{'ok  ' if ok else 'FAIL'} 3 x {rows}x{cols} d={density} {dtype}: masks equal "
          f"{same_mask}, max |W_dev - W_cpu| {diff:.1e}, bitwise equal "
          f"{torch.equal(w_dev.cpu(), w_cpu)}, orthogonality error {error:.1e}, "
          f"{seconds * 1e3:.2f} ms")
from eoi_ext.lab.cli import main
main(["info", "--device", device, "--layers", layers])
sys.exit(1 if failed else 0)
EOF
}

# On the GPU machine a run with every test skipped (torch sees no GPU) is a failure.
require_gpu() {
  if gpu; then
    "$PYTHON" -c "import torch; assert torch.cuda.is_available(), 'torch sees no CUDA device'"
  fi
}

run_test_cuda() {
  require_gpu
  use_deps_if_needed
  "$PYTHON" -m pytest tests/test_cuda.py -q -rfEs -p no:cacheprovider
}

step_test_cuda() {
  # The dry run leaves the backend to auto: every test is skipped without a GPU anyway.
  if gpu; then EOI_EXT_BACKEND=ext run_test_cuda; else run_test_cuda; fi
}

step_test_cuda_python() {
  EOI_EXT_BACKEND=python run_test_cuda
}

# The cmake build of csrc/cuda that the ctest, kernels and sanitizer steps share: $WORK/cmake
# on the GPU, $WORK/cmake-dry-run in a dry run. MAX_JOBS as for the extension's build.
cmake_dir() { if gpu; then echo "$WORK/cmake"; else echo "$WORK/cmake-dry-run"; fi; }
build_jobs() { echo "${MAX_JOBS:-$(nproc)}"; }

# TORCH_CUDA_ARCH_LIST for cmake: torch's "9.0+PTX" or "8.0 9.0" as cmake's "90" or "80;90".
cuda_archs() {
  local archs=${TORCH_CUDA_ARCH_LIST:-9.0}
  archs=${archs//+PTX/}
  archs=${archs//./}
  echo "${archs// /;}"
}

configure_cmake() {
  local configure=(cmake -S . -B "$(cmake_dir)" -G "$(cmake_generator)" -DCMAKE_BUILD_TYPE=Release)
  # Where nvcc is (CI), a dry run configures exactly as the GPU machine does.
  if gpu || command -v nvcc >/dev/null; then
    configure+=(-DEOI_REQUIRE_CUDA=ON "-DCMAKE_CUDA_ARCHITECTURES=$(cuda_archs)")
  else
    echo "nvcc: not found; configuring without the CUDA kernels"
  fi
  echo "${configure[*]}"
  "${configure[@]}"
}

# Builds one CUDA program of CMakeLists.txt (test_cuda_launch, kernel_timing) into
# $(cmake_dir); without cmake, with nvcc alone (as CMakeLists.txt does: csrc, csrc/core).
build_cuda_program() {
  local name=$1 source=$2 dir archs
  dir=$(cmake_dir)
  if command -v cmake >/dev/null; then
    configure_cmake
    cmake --build "$dir" -j "$(build_jobs)" --target "$name"
    return
  fi
  archs=$(cuda_archs)
  echo "cmake: not found; compiling $name with nvcc alone"
  mkdir -p "$dir"
  nvcc -std=c++17 -O2 -arch="sm_${archs%%;*}" -Icsrc -Icsrc/core "$source" csrc/cuda/*.cu \
    csrc/core/*.cpp -o "$dir/$name"
}

# Runs a command that must exit with $1: in a dry run, 77 (no GPU) and 2 (a bad argument).
expect_exit() {
  local want=$1 rc=0
  shift
  "$@" || rc=$?
  if (( rc != want )); then echo "expected exit $want, got $rc: $*"; return 1; fi
  echo "exit $rc as expected: $*"
}

# A step that cannot run on this machine: reported as skipped, with the reason, not failed.
skip_step() {
  echo "skipped: $2"
  echo "$2" > "$WORK/logs/$1.skipped"
}

step_ctest() {
  local dir
  dir=$(cmake_dir)
  if ! command -v cmake >/dev/null; then
    if ! gpu; then echo "cmake: not found; dry run: test_cuda_launch not compiled"; return 0; fi
    build_cuda_program test_cuda_launch csrc/cuda/tests/test_cuda_launch.cu
    "$dir/test_cuda_launch"
    return
  fi
  configure_cmake
  if ! gpu; then
    echo "dry run: configured, not built"
    return 0
  fi
  cmake --build "$dir" -j "$(build_jobs)"
  ctest --test-dir "$dir" --output-on-failure --no-tests=error | tee "$WORK/ctest.log"
  # test_cuda_launch exits 77 (skipped, ctest still passes) without a GPU: not here.
  grep -qE 'test_cuda_launch .*Passed' "$WORK/ctest.log" \
    || { echo "test_cuda_launch did not pass (skipped: no GPU seen?)"; return 1; }
}

# Each kernel alone by cudaEvent pairs, beside a write kernel and a memcpy of the same bytes,
# and the host stages (csrc/cuda/bench/kernel_timing.cu); benchmarks/test_speed_cuda.py
# times whole op calls. On the GPU the ctest step has built it already. Targets missed are
# reported in the table, not failed.
step_kernels() {
  local dir rc=0 json=$REPORT_DIR/kernel_timing.json
  dir=$(cmake_dir)
  local run=("$dir/kernel_timing" --json "$json")
  if [[ $GPU_CHECK_QUICK == 1 ]]; then run+=(--quick); fi
  rm -f "$json"
  if ! gpu && ! command -v nvcc >/dev/null; then
    echo "nvcc: not found; dry run: kernel_timing not built"
    return 0
  fi
  build_cuda_program kernel_timing csrc/cuda/bench/kernel_timing.cu
  echo "${run[*]}"
  if ! gpu; then
    # No GPU: the run is skipped (77) after its arguments are parsed, and a bad one is refused.
    expect_exit 77 "${run[@]}"
    expect_exit 2 "$dir/kernel_timing" --cases 0x1x1@0.1
    return
  fi
  set +e
  "${run[@]}" | tee "$WORK/kernel_timing.txt"
  rc=${PIPESTATUS[0]}
  set -e
  if (( rc == 77 )); then echo "kernel_timing saw no CUDA device"; return 1; fi
  return "$rc"
}

# compute-sanitizer: on the PATH, else in a toolkit ($CUDA_HOME, $CUDA_PATH, /usr/local/cuda*)
# as bin/compute-sanitizer or compute-sanitizer/compute-sanitizer.
find_compute_sanitizer() {
  local root candidate
  if command -v compute-sanitizer; then return 0; fi
  for root in ${CUDA_HOME:+"$CUDA_HOME"} ${CUDA_PATH:+"$CUDA_PATH"} /usr/local/cuda /usr/local/cuda-*; do
    for candidate in "$root/bin/compute-sanitizer" "$root/compute-sanitizer/compute-sanitizer"; do
      if [[ -x $candidate ]]; then echo "$candidate"; return 0; fi
    done
  done
  return 1
}

# The raw kernels under compute-sanitizer at small sizes (test_cuda_launch --small, since the
# tools slow kernels 10-100x): memcheck (out-of-bounds and misaligned accesses, device leaks)
# and racecheck (shared-memory hazards, as between the apply kernel's level barriers in
# csrc/cuda/apply_plans.cu). --error-exitcode 1: any report fails the step.
step_sanitizer() {
  local dir sanitizer tool failed=()
  dir=$(cmake_dir)
  if sanitizer=$(find_compute_sanitizer); then
    echo "compute-sanitizer: $sanitizer"
  else
    sanitizer=compute-sanitizer
    if gpu; then
      skip_step sanitizer "compute-sanitizer not found (PATH, \$CUDA_HOME/bin, /usr/local/cuda*/bin)"
      return 0
    fi
    echo "compute-sanitizer: not found (PATH, \$CUDA_HOME/bin, /usr/local/cuda*/bin); not needed in a dry run"
  fi
  if ! gpu && ! command -v nvcc >/dev/null; then
    echo "nvcc: not found; dry run: test_cuda_launch not built"
  else
    build_cuda_program test_cuda_launch csrc/cuda/tests/test_cuda_launch.cu
  fi
  for tool in memcheck racecheck; do
    local command=("$sanitizer" --tool "$tool" --error-exitcode 1)
    if [[ $tool == memcheck ]]; then command+=(--leak-check full); fi
    command+=("$dir/test_cuda_launch" --small)
    echo "==== ${command[*]}"
    if gpu; then "${command[@]}" || failed+=("$tool"); fi
  done
  if ! gpu; then
    if [[ -x $dir/test_cuda_launch ]]; then
      expect_exit 77 "$dir/test_cuda_launch" --small
      expect_exit 2 "$dir/test_cuda_launch" --large
    fi
    echo "dry run: compute-sanitizer not run (no GPU)"
    return 0
  fi
  if (( ${#failed[@]} )); then echo "compute-sanitizer failed: ${failed[*]}"; return 1; fi
  echo "compute-sanitizer: memcheck and racecheck clean"
}

step_bench() {
  require_gpu
  use_deps_if_needed
  local json=$WORK/bench.json
  rm -f "$json" "$WORK/bench_figures.txt"
  if [[ $GPU_CHECK_QUICK == 1 ]]; then export EOI_BENCH_QUICK=1; fi
  if gpu; then export EOI_EXT_BACKEND=ext; fi
  # Full mode takes well under a minute on an H100 (7 cases; pytest-benchmark's default
  # 1 s per calibrated case); --quick passes EOI_BENCH_QUICK=1 (benchmarks/conftest.py).
  "$PYTHON" -m pytest benchmarks/test_speed_cuda.py -q -rs -p no:cacheprovider \
    --benchmark-json="$json" --benchmark-columns=min,median,max,rounds --benchmark-sort=name
  if [[ -f $json ]]; then
    "$PYTHON" benchmarks/ratios.py "$json" | tee "$WORK/bench_figures.txt"
  elif gpu; then
    echo "no $json: every case was skipped"
    return 1
  else
    # Dry run (every case skipped): the figures' path on a made-up run of the cuda keys.
    echo "dry run: benchmarks/ratios.py on synthetic medians (not measurements)"
    "$PYTHON" - "$json" <<'EOF'
import json, sys
keys = ["cuda_eoi_4096", "cuda_apply_4096", "cuda_write_4096", "cuda_eoi_batch",
        "cuda_dense_orthogonal_batch", "cuda_floor_batch"]
runs = [{"extra_info": {"key": k, "case": "synthetic"}, "stats": {"median": 1e-3 * (i + 1)}}
        for i, k in enumerate(keys)]
json.dump({"benchmarks": runs}, open(sys.argv[1], "w"))
EOF
    { echo "DRY RUN: synthetic medians, not measurements"
      "$PYTHON" benchmarks/ratios.py "$json"; } | tee "$WORK/bench_figures.txt"
    grep -q 'cuda: apply_plan call / fill_' "$WORK/bench_figures.txt"
  fi
}

step_profile() {
  if gpu; then
    "$PYTHON" benchmarks/profile_cuda.py --device cuda --repeats 20
    "$PYTHON" benchmarks/profile_cuda.py --device cuda --count 1000 --rows 128 --cols 128 \
      --density 0.125 --repeats 5
  else
    "$PYTHON" benchmarks/profile_cuda.py --device cpu --rows 256 --cols 256 --repeats 2
    "$PYTHON" benchmarks/profile_cuda.py --device cpu --count 4 --rows 64 --cols 64 \
      --density 0.125 --repeats 1
  fi
}

# --- The driver ---------------------------------------------------------------------

declare -A STATUS SECONDS_TAKEN LIMIT

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
seconds() { printf '%d.%d' $(($1 / 1000)) $(($1 % 1000 / 100)); }  # ms -> "12.3"

# Re-rendered after every step, so a run killed from outside still leaves its report.
write_report() {
  local entry name limit title
  {
    echo "# eoi_ext GPU check"
    echo
    echo "- mode: $GPU_CHECK_MODE$([[ $GPU_CHECK_QUICK == 1 ]] && echo ', quick benchmarks')"
    echo "- started: $STARTED; budget ${BUDGET} s (scripts/gpu_check.sh)"
    echo "- tree: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo 'no git')" \
         "$(git -C "$ROOT" status --porcelain 2>/dev/null | grep -q . && echo '(modified)')"
    echo "- python: $PYTHON"
    echo
    echo "| step | status | seconds | limit | what |"
    echo "|---|---|---|---|---|"
    for entry in "${STEPS[@]}"; do
      IFS='|' read -r name limit title <<< "$entry"
      echo "| $name | ${STATUS[$name]:-not run} | ${SECONDS_TAKEN[$name]:-} |" \
           "${LIMIT[$name]:-$limit} | $title |"
    done
    echo
    echo "## Kernel timing"
    echo
    if [[ -s $WORK/kernel_timing.txt ]]; then
      echo "Each kernel alone (cudaEvent) beside a write kernel of the same bytes; JSON:"
      echo "kernel_timing.json beside this report."
      echo
      echo '```text'; cat "$WORK/kernel_timing.txt"; echo '```'
    else
      echo "none (the kernels step did not produce any)"
    fi
    echo
    echo "## Benchmark figures"
    echo
    if [[ -s $WORK/bench_figures.txt ]]; then
      echo '```text'; cat "$WORK/bench_figures.txt"; echo '```'
    else
      echo "none (the bench step did not produce any)"
    fi
    for entry in "${STEPS[@]}"; do
      IFS='|' read -r name limit title <<< "$entry"
      [[ -f $WORK/logs/$name.log ]] || continue
      echo
      echo "## $name: ${STATUS[$name]}, ${SECONDS_TAKEN[$name]} s"
      echo
      echo "$title. Last $TAIL_LINES lines of output:"
      echo
      echo '```text'
      tail -n "$TAIL_LINES" "$WORK/logs/$name.log"
      echo '```'
    done
  } > "$REPORT.tmp"
  mv "$REPORT.tmp" "$REPORT"
}

run_step() {
  local name=$1 limit=$2 left rc start
  left=$(( (DEADLINE_MS - $(now_ms)) / 1000 ))
  (( limit > left )) && limit=$left
  if (( limit < 5 )); then
    STATUS[$name]="skipped: no time left"
    echo "==== $name: ${STATUS[$name]} (budget ${BUDGET} s)"
    return
  fi
  LIMIT[$name]=$limit
  echo "==== $name (limit ${limit} s)"
  start=$(now_ms)
  set +e
  # timeout signals the step's whole process group (pytest, nvcc, ninja) on expiry.
  timeout --kill-after=3 "$limit" bash "$SELF" --step "$name" < /dev/null 2>&1 \
    | tee "$WORK/logs/$name.log"
  rc=${PIPESTATUS[0]}
  set -e
  SECONDS_TAKEN[$name]=$(seconds $(( $(now_ms) - start )))
  case $rc in
    0) if [[ -f $WORK/logs/$name.skipped ]]; then
         STATUS[$name]="skipped: $(cat "$WORK/logs/$name.skipped")"
       else
         STATUS[$name]=passed
       fi ;;
    124 | 137) STATUS[$name]="TIMEOUT"; FAILED+=("$name") ;;
    *) STATUS[$name]="FAILED (exit $rc)"; FAILED+=("$name") ;;
  esac
  echo "==== $name: ${STATUS[$name]} in ${SECONDS_TAKEN[$name]} s"
}

vendor_deps() {
  local dir=${1:-$DEPS}
  # Pure-python wheels only (py3-none-any), so they import on any python 3.10+ whatever
  # this python is: a plain install on 3.11 takes tomli's cp311-only compiled wheel. pip
  # reads dependency markers from this python, so what pytest needs below 3.11 or 3.13
  # (exceptiongroup, tomli, typing-extensions) is named. ninja: bin/ninja, any python.
  local pip=("$PYTHON" -m pip install --quiet --upgrade --no-compile --only-binary=:all:
             --target "$dir")
  "${pip[@]}" --python-version 3.10 --implementation py --abi none --platform any \
    pytest pytest-benchmark exceptiongroup tomli typing-extensions
  "${pip[@]}" --no-deps ninja
  du -sh "$dir"
  echo "bring $dir to the GPU machine (scripts/gpu_check.sh uses it when needed)"
}

main() {
  local out="" mode=gpu quick=0 budget=480 entry name limit title
  while (( $# )); do
    case $1 in
      --step) shift; "step_$1"; return ;;  # internal: one step, under timeout
      --dry-run) mode=dry-run ;;
      --quick) quick=1 ;;
      --out) shift; out=${1:?--out needs a file}; [[ $out == /* ]] || out=$CALLER_PWD/$out ;;
      --budget) shift; budget=${1:?--budget needs seconds} ;;
      --vendor-deps) shift; vendor_deps "${1:-}"; return ;;
      -h | --help) usage; return ;;
      *) echo "gpu_check: unknown argument $1 (see --help)" >&2; return 2 ;;
    esac
    shift
  done
  [[ $budget =~ ^[0-9]+$ ]] || { echo "gpu_check: --budget takes whole seconds" >&2; return 2; }
  if [[ -z $out ]]; then
    if [[ -n ${OUT:-} ]]; then out=$OUT/gpu_check.md; else out=$WORK/gpu_check.md; fi
  fi
  mkdir -p "$WORK/logs" "$(dirname "$out")"
  rm -f "$WORK"/logs/*.log "$WORK"/logs/*.skipped "$WORK/bench_figures.txt" "$WORK/kernel_timing.txt"
  REPORT=$(cd "$(dirname "$out")" && pwd)/$(basename "$out")
  REPORT_DIR=$(dirname "$REPORT")
  export GPU_CHECK_MODE=$mode GPU_CHECK_QUICK=$quick WORK PYTHON DEPS REPORT_DIR
  # eoi_ext from this tree (the in-place build), whatever the python has installed.
  export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
  if [[ -d $DEPS/bin ]] && ! command -v ninja >/dev/null; then export PATH="$PATH:$DEPS/bin"; fi
  BUDGET=$budget
  STARTED=$(date -u '+%Y-%m-%d %H:%M:%S UTC')
  DEADLINE_MS=$(( $(now_ms) + budget * 1000 ))
  FAILED=()
  for entry in "${STEPS[@]}"; do
    IFS='|' read -r name limit title <<< "$entry"
    run_step "$name" "$limit"
    write_report
  done
  echo
  echo "report: $REPORT"
  if (( ${#FAILED[@]} )); then
    echo "failed: ${FAILED[*]}"
    return 1
  fi
  echo "all steps passed ($mode)"
}

main "$@"
