// The host side of one case, timed with std::chrono as the ops run it: the plan sampled and
// tracked (csrc/ops.cpp, sample_plans), cos and sin, the ASAP levels and the level schedule
// (csrc/ops_cuda.cpp, build_schedule), in reused pinned buffers; and the device buffers the
// run uploads them to. Plain C++ over the CUDA runtime API (no kernels).
#pragma once

#include <cuda_runtime_api.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <functional>
#include <thread>
#include <vector>

#include "core/parallel_tracker.h"
#include "core/rotation_levels.h"
#include "core/support_tracker.h"
#include "cuda/bench/cuda_check.h"
#include "cuda/bench/timing_options.h"
#include "cuda/level_schedule.h"

namespace eoi::bench {

// ---- Memory ------------------------------------------------------------------------------

template <typename T>
class DeviceArray {
 public:
  explicit DeviceArray(int64_t size) : size_(size) {
    check(cudaMalloc(&ptr_, std::max<int64_t>(size, 1) * sizeof(T)), "cudaMalloc");
  }
  ~DeviceArray() { cudaFree(ptr_); }
  DeviceArray(const DeviceArray&) = delete;
  DeviceArray& operator=(const DeviceArray&) = delete;
  T* get() const { return ptr_; }
  int64_t bytes() const { return size_ * static_cast<int64_t>(sizeof(T)); }

 private:
  T* ptr_ = nullptr;
  int64_t size_;
};

// Pinned host memory, as the binding's copies come from (csrc/ops_cuda.cpp, to_device_async);
// kept across repetitions like torch's caching host allocator, so only the warm-up allocates.
template <typename T>
class PinnedArray {
 public:
  PinnedArray() = default;
  ~PinnedArray() { cudaFreeHost(ptr_); }
  PinnedArray(const PinnedArray&) = delete;
  PinnedArray& operator=(const PinnedArray&) = delete;
  void resize(int64_t size) {
    if (ptr_ == nullptr || size > capacity_) {
      check(cudaFreeHost(ptr_), "cudaFreeHost");
      ptr_ = nullptr;
      check(cudaMallocHost(&ptr_, std::max<int64_t>(size, 1) * sizeof(T)), "cudaMallocHost");
      capacity_ = size;
    }
    size_ = size;
  }
  T* get() const { return ptr_; }
  int64_t size() const { return size_; }
  int64_t bytes() const { return size_ * static_cast<int64_t>(sizeof(T)); }

 private:
  T* ptr_ = nullptr;
  int64_t size_ = 0, capacity_ = 0;
};

// ---- Host stages ---------------------------------------------------------------------------

// Matrices [0, count) split over `threads` std::threads, as at::parallel_for splits them in the
// ops (one matrix runs inline, as there). Thread start-up is timed too: an upper bound on the
// ops' OpenMP pool, which is already running.
template <typename F>
void parallel_for(int64_t count, int threads, const F& body) {
  const int64_t parts = std::min<int64_t>(threads, count);
  if (parts <= 1) {
    body(int64_t{0}, count);
    return;
  }
  std::vector<std::thread> pool;
  for (int64_t t = 0; t < parts; ++t) pool.emplace_back(body, count * t / parts, count * (t + 1) / parts);
  for (std::thread& thread : pool) thread.join();
}

// One case's plan and schedule. Plan order (offsets, pairs, cos_sin) as sample_plans returns it
// (csrc/ops.cpp); the level schedule the apply kernel walks (csrc/cuda/level_schedule.h) and the
// support the mask kernel reads, in pinned memory, as the binding uploads them.
template <typename compute_t>
struct HostPlan {
  std::vector<std::vector<int32_t>> matrix_pairs;
  std::vector<std::vector<double>> matrix_thetas;
  std::vector<int64_t> offsets;
  std::vector<int32_t> pairs, levels, depth;
  std::vector<double> thetas, cos_sin;
  PinnedArray<uint64_t> support;
  PinnedArray<int64_t> matrix_levels, level_starts;
  PinnedArray<int32_t> sorted_pairs;
  PinnedArray<compute_t> sorted_cos_sin;
  int64_t rotations() const { return offsets.back(); }
};

// (label, json key) of each timed stage of build_plan.
const char* const kHostStages[][2] = {
    {"sample + track", "sample_track"}, {"cos, sin", "cos_sin"}, {"levels", "levels"}, {"schedule", "schedule"}};
constexpr int kHostStageCount = 4;

// Builds the plan; seconds[s] gets the wall time of kHostStages[s].
template <typename compute_t>
void build_plan(const Case& c, int threads, HostPlan<compute_t>& h, double* seconds) {
  using clock = std::chrono::steady_clock;
  const int64_t count = c.count, n = c.n, m = c.m, words = m * eoi::support_words(n);
  auto start = clock::now();
  const auto lap = [&](int stage) {
    const auto now = clock::now();
    seconds[stage] = std::chrono::duration<double>(now - start).count();
    start = now;
  };

  // Sampling and tracking, then the flat plan (csrc/ops.cpp, sample_plans). Seeds as
  // csrc/cuda/tests/batch_plan.h draws them. As the op does, fewer large matrices than threads
  // share each matrix's words between the threads (core/parallel_tracker.h), else one thread
  // tracks whole matrices. Threads start at each fork-join here: an upper bound on the op's pool.
  h.matrix_pairs.resize(count);
  h.matrix_thetas.resize(count);
  h.support.resize(count * words);
  for (int64_t b = 0; b < count; ++b) h.matrix_pairs[b].clear(), h.matrix_thetas[b].clear();
  const auto seed = [](int64_t b) { return 1 + 977 * static_cast<uint64_t>(b); };
  if (eoi::worth_parallel_tracking(count, threads, n, m)) {
    const eoi::ParallelTracking tracking{threads, [](int64_t tasks, const std::function<void(int64_t)>& task) {
      std::vector<std::thread> pool;
      for (int64_t t = 1; t < tasks; ++t) pool.emplace_back(task, t);
      task(0);
      for (std::thread& thread : pool) thread.join();
    }};
    for (int64_t b = 0; b < count; ++b)
      eoi::sample_rotations_parallel(seed(b), n, m, c.density, eoi::StopRule::kNearest, h.matrix_pairs[b],
                                     h.matrix_thetas[b], h.support.get() + b * words, tracking);
  } else {
    parallel_for(count, threads, [&](int64_t begin, int64_t end) {
      for (int64_t b = begin; b < end; ++b)
        eoi::sample_rotations(seed(b), n, m, c.density, eoi::StopRule::kNearest, h.matrix_pairs[b],
                              h.matrix_thetas[b], h.support.get() + b * words);
    });
  }
  h.offsets.assign(count + 1, 0);
  for (int64_t b = 0; b < count; ++b)
    h.offsets[b + 1] = h.offsets[b] + static_cast<int64_t>(h.matrix_thetas[b].size());
  const int64_t rotations = h.rotations();
  h.pairs.resize(2 * rotations);
  h.thetas.resize(rotations);
  parallel_for(count, threads, [&](int64_t begin, int64_t end) {
    for (int64_t b = begin; b < end; ++b) {
      std::copy(h.matrix_pairs[b].begin(), h.matrix_pairs[b].end(), h.pairs.begin() + 2 * h.offsets[b]);
      std::copy(h.matrix_thetas[b].begin(), h.matrix_thetas[b].end(), h.thetas.begin() + h.offsets[b]);
    }
  });
  lap(0);

  // libm here; the op takes torch's vectorized cos and sin, several times faster.
  h.cos_sin.resize(2 * rotations);
  parallel_for(count, threads, [&](int64_t begin, int64_t end) {
    for (int64_t q = h.offsets[begin]; q < h.offsets[end]; ++q) {
      h.cos_sin[2 * q] = std::cos(h.thetas[q]);
      h.cos_sin[2 * q + 1] = std::sin(h.thetas[q]);
    }
  });
  lap(1);

  // ASAP levels (csrc/core/rotation_levels.h), as build_schedule in csrc/ops_cuda.cpp.
  h.levels.resize(rotations);
  h.depth.resize(count);
  parallel_for(count, threads, [&](int64_t begin, int64_t end) {
    std::vector<int32_t> last(m);
    for (int64_t b = begin; b < end; ++b)
      h.depth[b] = eoi::rotation_levels(h.pairs.data() + 2 * h.offsets[b], h.offsets[b + 1] - h.offsets[b], m,
                                        h.levels.data() + h.offsets[b], last.data());
  });
  lap(2);

  // The level-ordered schedule, packed in the compute type into pinned memory.
  h.matrix_levels.resize(count + 1);
  int64_t* ml = h.matrix_levels.get();
  ml[0] = 0;
  for (int64_t b = 0; b < count; ++b) ml[b + 1] = ml[b] + h.depth[b];
  h.level_starts.resize(ml[count] + 1);
  h.sorted_pairs.resize(2 * rotations);
  h.sorted_cos_sin.resize(2 * rotations);
  parallel_for(count, threads, [&](int64_t begin, int64_t end) {
    for (int64_t b = begin; b < end; ++b) {
      const int64_t first = h.offsets[b];
      eoi::gpu::write_level_schedule<compute_t>(h.pairs.data() + 2 * first, h.cos_sin.data() + 2 * first,
                                                h.levels.data() + first, h.offsets[b + 1] - first, h.depth[b],
                                                first, h.level_starts.get() + ml[b], h.sorted_pairs.get() + 2 * first,
                                                h.sorted_cos_sin.get() + 2 * first);
    }
  });
  h.level_starts.get()[ml[count]] = rotations;
  lap(3);
}

}  // namespace eoi::bench
