// Kernel-only timing of the CUDA kernels against a measured write floor (issue 16, item 8).
// Torch-free: the plan is built on the host by the core, as csrc/ops.cpp (sample_plans) and
// csrc/ops_cuda.cpp (build_schedule) build it, and the raw launchers of csrc/cuda are driven
// as csrc/cuda/tests/test_cuda_launch.cu drives them.
//
// benchmarks/test_speed_cuda.py times whole op calls (checks, host schedule, pinned copies,
// allocation, launch), and its floor is a fill_ with its own launch overhead, so its ratio
// says little about the kernels. Here every device time is a cudaEvent pair on one stream
// around one kernel (median of --reps after warm-up), beside two floors for the same output
// bytes: a plain vectorized write kernel (the write floor the targets refer to) and a
// device-to-device memcpy (which also reads as many bytes). Host stages are timed with
// std::chrono (median of the host reps).
//
//   kernel_timing [--quick] [--cases 4096,batch,16384,COUNTxNxM@DENSITY] [--dtype float32]
//                 [--reps N] [--threads N] [--json FILE]
//
// Exits 0 after a run (targets missed are reported, not failed), 2 on a bad argument, 1 on
// a CUDA error, 77 when there is no CUDA device (scripts/gpu_check.sh runs it; a CPU dry run
// checks the 77).
//
// The parts: timing_options.h (cases, options, parsing), host_plan.h (pinned buffers, the host
// stages), device_timing.cuh (Timer, write floor), timing_report.h (table, JSON); here one
// case's run and main.
#include <cuda_runtime_api.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <stdexcept>
#include <vector>

#include "cuda/apply_plans.h"
#include "cuda/apply_tiling.h"
#include "cuda/bench/cuda_check.h"
#include "cuda/bench/device_timing.cuh"
#include "cuda/bench/host_plan.h"
#include "cuda/bench/timing_options.h"
#include "cuda/bench/timing_report.h"
#include "cuda/support_masks.h"

namespace eoi::bench {

// ---- One case ---------------------------------------------------------------------------------

template <typename compute_t>
Result run_case(const Case& c, const Options& o, const Device& d, cudaStream_t stream) {
  Result r;
  r.c = c;
  HostPlan<compute_t> h;
  double seconds[kHostStageCount];
  build_plan(c, o.threads, h, seconds);  // warm-up: allocates the pinned buffers
  std::vector<std::vector<double>> stage_ms(kHostStageCount);
  for (int rep = 0; rep < o.host_reps; ++rep) {
    build_plan(c, o.threads, h, seconds);
    for (int s = 0; s < kHostStageCount; ++s) stage_ms[s].push_back(seconds[s] * 1e3);
  }
  for (int s = 0; s < kHostStageCount; ++s) {
    r.host_ms[s] = median(stage_ms[s]);
    r.host_total_ms += r.host_ms[s];
  }
  r.rotations = h.rotations();
  r.levels = h.level_starts.size() - 1;
  const int64_t max_rotations = eoi::gpu::most_rotations(h.offsets.data(), c.count);
  r.tiling = eoi::gpu::choose_apply_tiling(c.m, c.n, sizeof(compute_t), d.max_shared,
                                           r.levels ? double(r.rotations) / double(r.levels) : 0.0, max_rotations);
  if (c.count * r.tiling.tiles > INT32_MAX) throw std::runtime_error("too many row tiles for one launch");

  // Uploaded once (pinned host to device, as the binding copies), the upload timed on its own.
  DeviceArray<int64_t> matrix_levels(h.matrix_levels.size()), level_starts(h.level_starts.size());
  DeviceArray<int32_t> pairs(h.sorted_pairs.size());
  DeviceArray<compute_t> cos_sin(h.sorted_cos_sin.size());
  DeviceArray<uint64_t> support(h.support.size());
  struct Copy {
    void* to;
    const void* from;
    int64_t bytes;
  };
  const Copy copies[] = {{matrix_levels.get(), h.matrix_levels.get(), h.matrix_levels.bytes()},
                         {level_starts.get(), h.level_starts.get(), h.level_starts.bytes()},
                         {pairs.get(), h.sorted_pairs.get(), h.sorted_pairs.bytes()},
                         {cos_sin.get(), h.sorted_cos_sin.get(), h.sorted_cos_sin.bytes()},
                         {support.get(), h.support.get(), h.support.bytes()}};
  Timer timer(stream, o.warmup, o.reps);
  r.upload_ms = timer.median_ms("upload", [&] {
    for (const Copy& copy : copies) {
      const cudaError_t status = cudaMemcpyAsync(copy.to, copy.from, copy.bytes, cudaMemcpyHostToDevice, stream);
      if (status != cudaSuccess) return status;
    }
    return cudaSuccess;
  });
  for (const Copy& copy : copies) r.upload_bytes += double(copy.bytes);

  const int64_t entries = c.count * c.n * c.m;
  const int64_t weight_bytes = entries * value_bytes(o.dtype), mask_bytes = entries;
  DeviceArray<unsigned char> out(weight_bytes), mask(mask_bytes), source(weight_bytes);
  // A slot per block the device runs at once, as the binding allocates (csrc/ops_cuda.cpp).
  if (!r.tiling.in_shared) {
    int64_t resident = 0;
    check(eoi::gpu::apply_workspace_resident_blocks(o.dtype, r.tiling.threads, &resident), "resident blocks");
    r.workspace_slots = eoi::gpu::workspace_slots(c.count * r.tiling.tiles, resident);
    r.workspace_bytes = r.workspace_slots * r.tiling.tile_bytes;
  }
  DeviceArray<unsigned char> workspace(r.workspace_bytes);
  check(cudaMemsetAsync(source.get(), 0, weight_bytes, stream), "cudaMemsetAsync");

  eoi::gpu::ApplyPlansParams apply{};
  apply.matrix_levels = matrix_levels.get();
  apply.level_starts = level_starts.get();
  apply.pairs = pairs.get();
  apply.cos_sin = cos_sin.get();
  apply.count = c.count;
  apply.m = c.m;
  apply.row_begin = 0;
  apply.row_end = c.n;
  apply.coord_begin = 0;
  apply.coord_end = c.m;
  apply.transposed = false;
  apply.gain = 1.0;
  apply.out_type = o.dtype;
  apply.out = out.get();
  apply.tiling = r.tiling;
  apply.workspace = workspace.get();
  apply.workspace_blocks = r.workspace_slots;
  eoi::gpu::SupportMasksParams masks{};
  masks.support = support.get();
  masks.count = c.count;
  masks.n = c.n;
  masks.m = c.m;
  masks.row_begin = 0;
  masks.row_end = c.n;
  masks.coord_begin = 0;
  masks.coord_end = c.m;
  masks.transposed = false;
  masks.mask = mask.get();

  const auto floors = [&](int64_t bytes, void* dst, double kernel_ms, const char* kernel) {
    const double write_ms = timer.median_ms("write kernel", [&] { return launch_write(d, dst, bytes, stream); });
    const double copy_ms = timer.median_ms("memcpy", [&] {
      return cudaMemcpyAsync(dst, source.get(), bytes, cudaMemcpyDeviceToDevice, stream);
    });
    r.rows.push_back({kernel, bytes, kernel_ms, write_ms});
    r.rows.push_back({"  write kernel", bytes, write_ms, 0});
    r.rows.push_back({"  memcpy D2D", bytes, copy_ms, 0});
  };
  const double apply_ms =
      timer.median_ms("apply_plans", [&] { return eoi::gpu::launch_apply_plans(apply, stream); });
  floors(weight_bytes, out.get(), apply_ms, "apply_plans");
  const double masks_ms =
      timer.median_ms("support_masks", [&] { return eoi::gpu::launch_support_masks(masks, stream); });
  floors(mask_bytes, mask.get(), masks_ms, "support_masks");
  check(cudaStreamSynchronize(stream), "synchronize");
  r.pipeline_ms = r.host_total_ms + r.upload_ms + apply_ms + masks_ms;
  return r;
}

}  // namespace eoi::bench

int main(int argc, char** argv) {
  using namespace eoi::bench;
  Options o;
  if (const int status = parse_options(argc, argv, o)) return status < 0 ? 0 : status;
  int devices = 0;
  const cudaError_t status = cudaGetDeviceCount(&devices);
  if (status != cudaSuccess || devices == 0) {
    std::printf("kernel_timing: no CUDA device (%s): nothing to time, skipped (exit 77)\n",
                status != cudaSuccess ? cudaGetErrorString(status) : "none found");
    return 77;
  }
  try {
    Device d;
    cudaDeviceProp props{};
    check(cudaGetDeviceProperties(&props, 0), "cudaGetDeviceProperties");
    d.name = props.name;
    check(cudaDeviceGetAttribute(&d.sms, cudaDevAttrMultiProcessorCount, 0), "attribute");
    check(cudaDeviceGetAttribute(&d.max_shared, cudaDevAttrMaxSharedMemoryPerBlockOptin, 0), "attribute");
    int per_sm = 0;
    check(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, write_kernel, kWriteThreads, 0), "occupancy");
    d.write_blocks = std::max(1, per_sm) * d.sms;
    cudaStream_t stream;
    check(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking), "cudaStreamCreate");
    print_banner(d, o);
    std::vector<Result> results;
    try {
      for (const Case& c : o.cases) {
        results.push_back(o.dtype == OutputType::kFloat64 ? run_case<double>(c, o, d, stream)
                                                          : run_case<float>(c, o, d, stream));
        print_result(results.back(), o);
        std::fflush(stdout);
      }
    } catch (...) {
      cudaStreamDestroy(stream);
      throw;
    }
    check(cudaStreamDestroy(stream), "cudaStreamDestroy");
    if (!o.json.empty()) {
      write_json(o.json, results, o, d);
      std::printf("\njson: %s\n", o.json.c_str());
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "kernel_timing: %s\n", e.what());
    return 1;
  }
  return 0;
}
