// The CUDA launchers on a GPU, against the CPU core: the apply kernel (tiles in shared
// memory of several heights and in the global workspace, with a slot per tile or fewer
// slots than tiles, compact tiles as chosen and with capacities that force splits, both
// layouts, row ranges, float and double, a non-default stream), the mask kernel and the
// top-up kernel.
// Exits with 77, which ctest reports as skipped, when no CUDA device is present (CI
// compiles and links it there; a GPU machine runs it).
//
//   test_cuda_launch [--small]
// --small leaves out the two large shapes (a 4096^2 matrix and a 65536-coordinate row), so
// scripts/gpu_check.sh can run it under compute-sanitizer (memcheck, racecheck), which slows
// kernels by 10-100x; every tile placement, layout, type and stream is still covered.
#include <cuda_runtime_api.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <vector>

#include "core/support_mask.h"
#include "core/tests/check.h"
#include "cuda/apply_plans.h"
#include "cuda/apply_tiling.h"
#include "cuda/support_masks.h"
#include "cuda/tests/batch_plan.h"
#include "cuda/top_up_masks.h"

using namespace eoi::gpu;
using namespace eoi_test;

namespace {

bool cuda_ok(cudaError_t status, const char* what) {
  if (status != cudaSuccess) std::fprintf(stderr, "%s: %s\n", what, cudaGetErrorString(status));
  return status == cudaSuccess;
}

// A device copy of a host vector (or `size` uninitialized elements), freed on scope exit.
// The copies finish on the whole device before they return: a cudaMemcpy from pageable
// memory can return before its DMA lands, and it runs on the legacy default stream, which
// a cudaStreamNonBlocking stream (the tests' second stream) does not wait for, so a
// launch there could read stale plans (issue 16, item 1).
template <typename T>
struct DeviceBuffer {
  T* ptr = nullptr;
  size_t size = 0;
  explicit DeviceBuffer(size_t n) : size(n) { cuda_ok(cudaMalloc(&ptr, std::max<size_t>(n, 1) * sizeof(T)), "cudaMalloc"); }
  explicit DeviceBuffer(const std::vector<T>& host) : DeviceBuffer(host.size()) {
    cuda_ok(cudaMemcpy(ptr, host.data(), size * sizeof(T), cudaMemcpyHostToDevice), "cudaMemcpy H2D");
    cuda_ok(cudaDeviceSynchronize(), "upload");
  }
  ~DeviceBuffer() { cudaFree(ptr); }
  std::vector<T> to_host() const {
    std::vector<T> host(size);
    cuda_ok(cudaDeviceSynchronize(), "before download");
    cuda_ok(cudaMemcpy(host.data(), ptr, size * sizeof(T), cudaMemcpyDeviceToHost), "cudaMemcpy D2H");
    return host;
  }
};

int max_shared_bytes() {
  int bytes = 0;
  cuda_ok(cudaDeviceGetAttribute(&bytes, cudaDevAttrMaxSharedMemoryPerBlockOptin, 0), "attribute");
  return bytes;
}

// workspace_cap > 0: at most that many workspace slots, else as many as the device runs
// blocks at once (as the binding allocates, csrc/ops_cuda.cpp); fewer slots than tiles make
// the kernel's persistent blocks reuse their slot (apply_plans.cu). compact_values > 0: compact
// tiles of min(32, k) rows holding that many values, whatever the tiling would choose (small
// capacities split tiles, csrc/cuda/compact_tile.h); `compact` tells which kernel must run.
template <typename compute_t>
void check_apply(uint64_t seed, int64_t count, int64_t n, int64_t m, double d, int64_t row_begin, int64_t row_end,
                 int64_t shared_budget, cudaStream_t stream, int64_t coord_begin = 0, int64_t coord_end = -1,
                 int64_t workspace_cap = 0, int64_t compact_values = 0, bool compact = false) {
  if (coord_end < 0) coord_end = m;
  const BatchPlan p = make_batch(seed, count, n, m, d);
  const Schedule<compute_t> s = build_schedule<compute_t>(p);
  const int64_t levels = s.matrix_levels.back();
  const int64_t k = row_end - row_begin;
  ApplyTiling tiling = choose_apply_tiling(m, k, sizeof(compute_t), shared_budget,
                                           levels ? double(p.offsets.back()) / levels : 0.0, max_rotations(p));
  if (compact_values > 0)
    tiling = compact_tiling(m, k, sizeof(compute_t), static_cast<int32_t>(std::min<int64_t>(kMaxTileRows, k)),
                            compact_values, tiling.threads);
  CHECK_MSG(tiling.compact == compact, "n=%lld m=%lld: compact tiling %d, expected %d", (long long)n, (long long)m,
            tiling.compact, compact);
  const DeviceBuffer<int64_t> matrix_levels(s.matrix_levels), level_starts(s.level_starts);
  const DeviceBuffer<int32_t> pairs(s.pairs);
  const DeviceBuffer<compute_t> cos_sin(s.cos_sin);
  const OutputType out_type = sizeof(compute_t) == 8 ? OutputType::kFloat64 : OutputType::kFloat32;
  int64_t slots = 0;
  if (!tiling.in_shared) {
    int64_t resident = 0;
    CHECK(cuda_ok(apply_workspace_resident_blocks(out_type, tiling.threads, &resident), "resident blocks"));
    slots = workspace_slots(count * tiling.tiles, workspace_cap > 0 ? workspace_cap : resident);
  }
  const DeviceBuffer<unsigned char> workspace(slots * tiling.tile_bytes);
  for (bool transposed : {false, true}) {
    DeviceBuffer<compute_t> out(count * (row_end - row_begin) * (coord_end - coord_begin));
    ApplyPlansParams params{};
    params.matrix_levels = matrix_levels.ptr;
    params.level_starts = level_starts.ptr;
    params.pairs = pairs.ptr;
    params.cos_sin = cos_sin.ptr;
    params.count = count;
    params.m = m;
    params.row_begin = row_begin;
    params.row_end = row_end;
    params.coord_begin = coord_begin;
    params.coord_end = coord_end;
    params.transposed = transposed;
    params.gain = 1.25;
    params.out_type = out_type;
    params.out = out.ptr;
    params.tiling = tiling;
    params.workspace = workspace.ptr;
    params.workspace_blocks = slots;
    CHECK(cuda_ok(launch_apply_plans(params, stream), "launch_apply_plans"));
    CHECK(cuda_ok(cudaStreamSynchronize(stream), "apply_plans kernel"));
    CHECK_MSG(out.to_host() ==
                  cpu_result<compute_t>(p, row_begin, row_end, transposed, compute_t(1.25), coord_begin, coord_end),
              "apply n=%lld m=%lld rows [%lld, %lld) transposed=%d tile_rows=%d shared=%d compact=%d values=%lld "
              "threads=%d slots=%lld",
              (long long)n, (long long)m, (long long)row_begin, (long long)row_end, transposed, tiling.tile_rows,
              tiling.in_shared, tiling.compact, (long long)tiling.compact_values, tiling.threads, (long long)slots);
  }
}

void check_masks_and_top_up(uint64_t seed, int64_t count, int64_t n, int64_t m, double d, int64_t row_begin,
                            int64_t row_end, cudaStream_t stream) {
  const BatchPlan p = make_batch(seed, count, n, m, d);
  const int64_t k = row_end - row_begin;
  const int64_t words = m * eoi::support_words(n);
  const DeviceBuffer<uint64_t> support(p.support);
  for (bool transposed : {false, true}) {
    DeviceBuffer<uint8_t> mask(count * k * m);
    SupportMasksParams params{support.ptr, count, n, m, row_begin, row_end, 0, m, transposed, mask.ptr};
    CHECK(cuda_ok(launch_support_masks(params, stream), "launch_support_masks"));
    CHECK(cuda_ok(cudaStreamSynchronize(stream), "support_masks kernel"));
    std::vector<uint8_t> expected(count * k * m);
    for (int64_t b = 0; b < count; ++b)
      eoi::write_support_mask(p.support.data() + b * words, n, m, row_begin, row_end, expected.data() + b * k * m,
                              transposed ? 1 : m, transposed ? k : 1);
    CHECK_MSG(mask.to_host() == expected, "masks n=%lld m=%lld transposed=%d", (long long)n, (long long)m, transposed);
  }

  // Top-up of full masks (rows n x cols m) to a target above what they hold.
  std::vector<uint8_t> masks(count * n * m);
  for (int64_t b = 0; b < count; ++b)
    eoi::write_support_mask(p.support.data() + b * words, n, m, 0, n, masks.data() + b * n * m, m, 1);
  std::vector<int64_t> seeds(count), held(count, 0);
  for (int64_t b = 0; b < count; ++b) {
    seeds[b] = static_cast<int64_t>(seed * 31 + b);
    for (int64_t e = 0; e < n * m; ++e) held[b] += masks[b * n * m + e];
  }
  const int64_t target = static_cast<int64_t>(std::min(1.0, d * 1.5) * n * m);
  DeviceBuffer<uint8_t> device_masks(masks);
  const DeviceBuffer<int64_t> device_seeds(seeds), device_held(held);
  TopUpMasksParams params{device_seeds.ptr, device_held.ptr, count, n * m, target, device_masks.ptr};
  CHECK(cuda_ok(launch_top_up_masks(params, stream), "launch_top_up_masks"));
  CHECK(cuda_ok(cudaStreamSynchronize(stream), "top_up_masks kernel"));
  for (int64_t b = 0; b < count; ++b)
    eoi::top_up_mask(static_cast<uint64_t>(seeds[b]), n, m, target, masks.data() + b * n * m);
  CHECK_MSG(device_masks.to_host() == masks, "top-up n=%lld m=%lld", (long long)n, (long long)m);
}

}  // namespace

int main(int argc, char** argv) {
  const bool small = argc == 2 && std::strcmp(argv[1], "--small") == 0;
  if (argc > 2 || (argc == 2 && !small)) {
    std::fprintf(stderr, "usage: test_cuda_launch [--small]\n");
    return 2;
  }
  int devices = 0;
  if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
    std::printf("no CUDA device: skipped\n");
    return 77;
  }
  cudaStream_t stream;
  CHECK(cuda_ok(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking), "stream"));
  const int64_t shared = max_shared_bytes();
  for (cudaStream_t s : {cudaStream_t{}, stream}) {
    check_apply<float>(1, 3, 70, 130, 0.2, 0, 70, shared, s);
    check_apply<double>(2, 3, 70, 130, 0.2, 5, 69, shared, s);
    check_apply<float>(3, 2, 70, 130, 0.2, 0, 70, 130 * 7 * 4, s);  // tiles of 6-7 rows
    check_apply<float>(4, 2, 70, 130, 0.2, 3, 50, 64, s);           // global workspace
    if (!small) {
      check_apply<float>(5, 1, 1, 65536, 0.5, 0, 1, shared, s);  // a row beyond shared memory
      check_apply<double>(6, 1, 4096, 4096, 0.1, 0, 4096, shared, s);
    }
    check_apply<float>(7, 50, 128, 128, 0.125, 0, 128, shared, s);
    check_apply<float>(10, 3, 70, 130, 0.2, 5, 69, shared, s, 40, 101);  // a coordinate window
    check_apply<double>(11, 2, 70, 130, 0.2, 0, 70, 64, s, 0, 1);
    // The workspace capped below the tiles: 2 matrices x 4 tiles of 32 rows in 3 slots (blocks
    // take 3, 3 and 2 tiles), and 5 tiles in 1 slot.
    check_apply<float>(12, 2, 128, 130, 0.2, 0, 128, 64, s, 0, -1, 3);
    check_apply<double>(13, 1, 150, 150, 0.3, 0, 150, 64, s, 0, -1, 1);
    // Compact tiles (csrc/cuda/compact_tile.h): as chosen for a sparse plan whose full rows
    // fit 3 to a tile; with the capacity of exactly one row's worst case (m values), which
    // splits the 32-row tiles; a coordinate window and a row range, float and double.
    check_apply<float>(14, 3, 40, 300, 0.02, 0, 40, 300 * 3 * 4, s, 0, -1, 0, 0, true);
    check_apply<double>(15, 2, 100, 400, 0.05, 5, 97, 400 * 5 * 8, s, 0, -1, 0, 0, true);
    check_apply<float>(16, 2, 100, 400, 0.05, 0, 100, shared, s, 0, -1, 0, 400, true);
    check_apply<double>(17, 2, 70, 260, 0.1, 3, 50, shared, s, 40, 201, 0, 260, true);
    if (!small) {
      // 16384 coordinates, 3 full rows in an H200's 227 KiB: compact tiles of about 19 rows.
      check_apply<float>(18, 1, 2048, 16384, 0.01, 0, 2048, shared, s, 0, -1, 0, 0, shared < 16384 * 32 * 4);
    }
    check_masks_and_top_up(8, 3, 70, 130, 0.2, 0, 70, s);
    check_masks_and_top_up(9, 2, 200, 300, 0.1, 63, 130, s);
  }
  cudaStreamDestroy(stream);
  return check_report();
}
