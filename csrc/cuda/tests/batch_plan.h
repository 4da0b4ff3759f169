// Test helpers shared by the CUDA kernels' tests (the CPU emulation and the GPU
// launch test): batches of sampled plans, the level schedule as the binding builds
// it, and the CPU kernel's result to compare with.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <random>
#include <vector>

#include "core/apply_rotations.h"
#include "core/rotation_levels.h"
#include "core/support_tracker.h"
#include "cuda/apply_tiling.h"
#include "cuda/level_schedule.h"

namespace eoi_test {

using namespace eoi;

// A batch plan in the layout of the ops: offsets, pairs and cos_sin in plan order.
struct BatchPlan {
  int64_t n, m;
  std::vector<int64_t> offsets{0};
  std::vector<int32_t> pairs;
  std::vector<double> cos_sin;
  std::vector<uint64_t> support;  // (count, m, ceil(n / 64)) words
  int64_t count() const { return static_cast<int64_t>(offsets.size()) - 1; }
};

BatchPlan make_batch(uint64_t seed, int64_t count, int64_t n, int64_t m, double d) {
  BatchPlan p;
  p.n = n;
  p.m = m;
  const int64_t words = m * support_words(n);
  p.support.resize(count * words);
  for (int64_t b = 0; b < count; ++b) {
    std::vector<int32_t> pairs;
    std::vector<double> thetas;
    sample_rotations(seed + 977 * b, n, m, d, StopRule::kNearest, pairs, thetas,
                     p.support.data() + b * words);
    p.pairs.insert(p.pairs.end(), pairs.begin(), pairs.end());
    for (double theta : thetas) {
      p.cos_sin.push_back(std::cos(theta));
      p.cos_sin.push_back(std::sin(theta));
    }
    p.offsets.push_back(p.offsets.back() + static_cast<int64_t>(thetas.size()));
  }
  return p;
}

// The most rotations of a matrix of the batch, as the binding passes it to the tiling
// (csrc/ops_cuda.cpp).
inline int64_t max_rotations(const BatchPlan& p) { return gpu::most_rotations(p.offsets.data(), p.count()); }

// The order in which an emulation runs a phase's threads: any order must give the same bits.
enum class ThreadOrder { kForward, kReverse, kShuffled };

inline std::vector<int64_t> thread_order(int64_t threads, ThreadOrder kind) {
  std::vector<int64_t> order(threads);
  std::iota(order.begin(), order.end(), 0);
  if (kind == ThreadOrder::kReverse) std::reverse(order.begin(), order.end());
  if (kind == ThreadOrder::kShuffled) std::shuffle(order.begin(), order.end(), std::mt19937(7));
  return order;
}

// The schedule as csrc/ops_cuda.cpp builds it (there in parallel over matrices).
template <typename compute_t>
struct Schedule {
  std::vector<int64_t> matrix_levels;
  std::vector<int64_t> level_starts;
  std::vector<int32_t> pairs;
  std::vector<compute_t> cos_sin;
};

template <typename compute_t>
Schedule<compute_t> build_schedule(const BatchPlan& p) {
  const int64_t rotations = p.offsets.back();
  std::vector<int32_t> levels(rotations), last(p.m);
  Schedule<compute_t> s;
  s.matrix_levels.push_back(0);
  for (int64_t b = 0; b < p.count(); ++b) {
    const int64_t first = p.offsets[b];
    const int32_t depth = rotation_levels(p.pairs.data() + 2 * first, p.offsets[b + 1] - first, p.m,
                                          levels.data() + first, last.data());
    s.matrix_levels.push_back(s.matrix_levels.back() + depth);
  }
  s.level_starts.assign(s.matrix_levels.back() + 1, -1);
  s.pairs.assign(2 * rotations, -1);
  s.cos_sin.assign(2 * rotations, compute_t(0));
  for (int64_t b = 0; b < p.count(); ++b) {
    const int64_t first = p.offsets[b];
    gpu::write_level_schedule<compute_t>(
        p.pairs.data() + 2 * first, p.cos_sin.data() + 2 * first, levels.data() + first,
        p.offsets[b + 1] - first, static_cast<int32_t>(s.matrix_levels[b + 1] - s.matrix_levels[b]),
        first, s.level_starts.data() + s.matrix_levels[b], s.pairs.data() + 2 * first,
        s.cos_sin.data() + 2 * first);
  }
  s.level_starts.back() = rotations;
  return s;
}

// A compact tiling (csrc/cuda/apply_tiling.h) of `rows` rows per tile and a capacity of
// `values` values, whatever choose_apply_tiling would pick: small capacities force the
// kernel's overflow split (csrc/cuda/compact_tile.h).
inline gpu::ApplyTiling compact_tiling(int64_t m, int64_t k, int64_t value_bytes, int32_t rows, int64_t values,
                                       int32_t threads) {
  gpu::ApplyTiling t{};
  t.tile_rows = rows;
  t.pitch = gpu::odd_pitch(rows);
  t.tiles = (k + rows - 1) / rows;
  t.in_shared = t.compact = true;
  t.compact_values = values;
  t.tile_bytes = values * value_bytes + gpu::compact_index_bytes(m);
  t.threads = threads;
  return t;
}

// The CPU kernel's result in the same layout: rows [row_begin, row_end) and coordinates
// [coord_begin, coord_end) of every A.
template <typename compute_t>
std::vector<compute_t> cpu_result(const BatchPlan& p, int64_t row_begin, int64_t row_end, bool transposed,
                                  compute_t gain, int64_t coord_begin, int64_t coord_end) {
  const int64_t k = row_end - row_begin;
  const int64_t w = coord_end - coord_begin;
  constexpr int64_t lanes = tile_lanes<compute_t>();
  std::vector<compute_t> out(p.count() * k * w);
  std::vector<compute_t> cs(p.cos_sin.begin(), p.cos_sin.end());
  TileScratch<compute_t> scratch(p.m);
  const int64_t row_stride = transposed ? 1 : w;
  const int64_t col_stride = transposed ? k : 1;
  for (int64_t b = 0; b < p.count(); ++b) {
    for (int64_t first = row_begin; first < row_end; first += lanes) {
      const int64_t last = std::min(first + lanes, row_end);
      apply_rotations_tile<compute_t, compute_t>(
          p.pairs.data() + 2 * p.offsets[b], cs.data() + 2 * p.offsets[b], p.offsets[b + 1] - p.offsets[b], p.m,
          first, last, gain, scratch, out.data() + b * k * w + (first - row_begin) * row_stride, row_stride,
          col_stride, coord_begin, coord_end);
    }
  }
  return out;
}

}  // namespace eoi_test
