// The CUDA apply kernel's logic, run on the CPU: a launch is emulated block by block,
// each phase of rotation_tile.h run for every thread of the block one after another
// (the kernel's barriers separate the phases). Checked against the CPU kernel
// (csrc/core/apply_rotations.h): equal values for batches, both layouts, row ranges,
// float and double, tiles in "shared memory" of several sizes and in the global
// workspace, and several block sizes. Running a phase's threads in reverse and in a
// shuffled order must give the same bits, which fails if two threads of a phase touch
// the same value. Also checks the tiling heuristics (apply_tiling.h) and the level
// schedule (level_schedule.h).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <numeric>
#include <random>
#include <vector>

#include "core/apply_rotations.h"
#include "core/rotation_levels.h"
#include "core/support_tracker.h"
#include "core/tests/check.h"
#include "cuda/apply_tiling.h"
#include "cuda/level_schedule.h"
#include "cuda/rotation_tile.h"

using namespace eoi;
using namespace eoi::gpu;

namespace {

// A batch plan in the layout of the ops: offsets, pairs and cos_sin in plan order.
struct BatchPlan {
  int64_t n, m;
  std::vector<int64_t> offsets{0};
  std::vector<int32_t> pairs;
  std::vector<double> cos_sin;
  int64_t count() const { return static_cast<int64_t>(offsets.size()) - 1; }
};

BatchPlan make_batch(uint64_t seed, int64_t count, int64_t n, int64_t m, double d) {
  BatchPlan p;
  p.n = n;
  p.m = m;
  std::vector<uint64_t> support(m * support_words(n));
  for (int64_t b = 0; b < count; ++b) {
    std::vector<int32_t> pairs;
    std::vector<double> thetas;
    sample_rotations(seed + 977 * b, n, m, d, StopRule::kNearest, pairs, thetas, support.data());
    p.pairs.insert(p.pairs.end(), pairs.begin(), pairs.end());
    for (double theta : thetas) {
      p.cos_sin.push_back(std::cos(theta));
      p.cos_sin.push_back(std::sin(theta));
    }
    p.offsets.push_back(p.offsets.back() + static_cast<int64_t>(thetas.size()));
  }
  return p;
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
    write_level_schedule<compute_t>(
        p.pairs.data() + 2 * first, p.cos_sin.data() + 2 * first, levels.data() + first,
        p.offsets[b + 1] - first, static_cast<int32_t>(s.matrix_levels[b + 1] - s.matrix_levels[b]),
        first, s.level_starts.data() + s.matrix_levels[b], s.pairs.data() + 2 * first,
        s.cos_sin.data() + 2 * first);
  }
  s.level_starts.back() = rotations;
  return s;
}

enum class ThreadOrder { kForward, kReverse, kShuffled };

// One launch of apply_plans_kernel, emulated. Returns the output buffer.
template <typename compute_t>
std::vector<compute_t> emulate_launch(const BatchPlan& p, const Schedule<compute_t>& s,
                                      const ApplyTiling& tiling, int64_t row_begin, int64_t row_end,
                                      bool transposed, compute_t gain, ThreadOrder order_kind) {
  const int64_t k = row_end - row_begin;
  std::vector<compute_t> out(p.count() * k * p.m, compute_t(-77));
  std::vector<compute_t> workspace(tiling.tiles * p.count() * p.m * tiling.pitch, compute_t(123));
  std::vector<int64_t> order(tiling.threads);
  std::iota(order.begin(), order.end(), 0);
  if (order_kind == ThreadOrder::kReverse) std::reverse(order.begin(), order.end());
  if (order_kind == ThreadOrder::kShuffled) std::shuffle(order.begin(), order.end(), std::mt19937(7));
  std::vector<compute_t> shared(tiling.in_shared ? p.m * tiling.pitch : 0);
  for (int64_t block = 0; block < p.count() * tiling.tiles; ++block) {
    const TileGeometry g = tile_geometry(block, tiling.tiles, tiling.tile_rows, p.m, row_begin,
                                         row_end, transposed);
    // Shared memory is not zeroed between blocks on a GPU: leave the last block's values.
    RotationTile<compute_t> tile{tiling.in_shared ? shared.data() : workspace.data() + block * p.m * tiling.pitch,
                                 p.m, g.first_row, g.rows, tiling.pitch};
    for (int64_t t : order) tile_zero(tile, t, tiling.threads);
    for (int64_t t : order) tile_set_identity(tile, t, tiling.threads);
    for (int64_t l = s.matrix_levels[g.matrix]; l < s.matrix_levels[g.matrix + 1]; ++l) {
      for (int64_t t : order)
        tile_apply_level(tile, s.pairs.data(), s.cos_sin.data(), s.level_starts[l], s.level_starts[l + 1], t,
                         tiling.threads);
    }
    for (int64_t t : order)
      tile_write(tile, gain, out.data() + g.out_offset, g.row_stride, g.col_stride, t, tiling.threads);
  }
  return out;
}

// The CPU kernel's result in the same layout.
template <typename compute_t>
std::vector<compute_t> cpu_result(const BatchPlan& p, int64_t row_begin, int64_t row_end, bool transposed,
                                  compute_t gain) {
  const int64_t k = row_end - row_begin;
  constexpr int64_t lanes = tile_lanes<compute_t>();
  std::vector<compute_t> out(p.count() * k * p.m);
  std::vector<compute_t> cs(p.cos_sin.begin(), p.cos_sin.end());
  TileScratch<compute_t> scratch(p.m);
  const int64_t row_stride = transposed ? 1 : p.m;
  const int64_t col_stride = transposed ? k : 1;
  for (int64_t b = 0; b < p.count(); ++b) {
    for (int64_t first = row_begin; first < row_end; first += lanes) {
      const int64_t last = std::min(first + lanes, row_end);
      apply_rotations_tile<compute_t, compute_t>(
          p.pairs.data() + 2 * p.offsets[b], cs.data() + 2 * p.offsets[b], p.offsets[b + 1] - p.offsets[b], p.m,
          first, last, gain, scratch, out.data() + b * k * p.m + (first - row_begin) * row_stride, row_stride,
          col_stride);
    }
  }
  return out;
}

bool same_values(const std::vector<double>& a, const std::vector<double>& b) { return a == b; }
bool same_values(const std::vector<float>& a, const std::vector<float>& b) { return a == b; }

template <typename compute_t>
bool same_bits(const std::vector<compute_t>& a, const std::vector<compute_t>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(compute_t)) == 0;
}

template <typename compute_t>
void check_case(uint64_t seed, int64_t count, int64_t n, int64_t m, double d, int64_t row_begin, int64_t row_end,
                int64_t max_shared_bytes) {
  const BatchPlan p = make_batch(seed, count, n, m, d);
  const Schedule<compute_t> s = build_schedule<compute_t>(p);
  const int64_t levels = s.matrix_levels.back();
  const double per_level = levels ? static_cast<double>(p.offsets.back()) / levels : 0.0;
  const ApplyTiling tiling =
      choose_apply_tiling(m, row_end - row_begin, sizeof(compute_t), max_shared_bytes, per_level);
  const compute_t gain = compute_t(1.25);
  for (bool transposed : {false, true}) {
    const auto expected = cpu_result<compute_t>(p, row_begin, row_end, transposed, gain);
    const auto forward = emulate_launch(p, s, tiling, row_begin, row_end, transposed, gain, ThreadOrder::kForward);
    CHECK_MSG(same_values(forward, expected),
              "n=%lld m=%lld rows [%lld, %lld) transposed=%d tile_rows=%d shared=%d threads=%d bytes=%zu",
              (long long)n, (long long)m, (long long)row_begin, (long long)row_end, transposed, tiling.tile_rows,
              tiling.in_shared, tiling.threads, sizeof(compute_t));
    CHECK(same_bits(forward, emulate_launch(p, s, tiling, row_begin, row_end, transposed, gain, ThreadOrder::kReverse)));
    CHECK(same_bits(forward, emulate_launch(p, s, tiling, row_begin, row_end, transposed, gain, ThreadOrder::kShuffled)));
  }
}

template <typename compute_t>
void test_launches() {
  const int64_t big = 1 << 20;
  // (seed, count, n, m, density, row range, shared-memory budget)
  check_case<compute_t>(1, 3, 16, 16, 0.3, 0, 16, big);
  check_case<compute_t>(2, 2, 10, 33, 0.25, 0, 10, big);
  check_case<compute_t>(3, 4, 70, 130, 0.2, 0, 70, big);              // several tiles of 32 rows
  check_case<compute_t>(4, 2, 70, 130, 0.2, 5, 69, big);              // a row range
  check_case<compute_t>(5, 2, 70, 130, 0.2, 63, 65, big);
  check_case<compute_t>(6, 2, 70, 130, 0.2, 0, 70, 130 * 7 * sizeof(compute_t));  // tiles of 6-7 rows
  check_case<compute_t>(7, 2, 70, 130, 0.2, 0, 70, 130 * sizeof(compute_t));      // one row per tile
  check_case<compute_t>(8, 2, 70, 130, 0.2, 3, 50, 64);                           // global workspace
  check_case<compute_t>(9, 5, 1, 40, 0.5, 0, 1, big);                             // n = 1
  check_case<compute_t>(10, 1, 1, 1, 1.0, 0, 1, big);                             // 1 x 1
  check_case<compute_t>(11, 1, 3, 200, 0.9, 0, 3, big);
  check_case<compute_t>(12, 2, 128, 128, 0.125, 0, 128, big);
  check_case<compute_t>(13, 3, 64, 64, 1.0, 0, 64, 48 * 1024);
  check_case<compute_t>(14, 0, 8, 8, 0.5, 0, 8, big);                             // empty batch
}

void test_tiling() {
  for (int64_t value_bytes : {4, 8}) {
    for (int64_t m : {1, 7, 128, 4096, 16384, 65536, 1 << 22}) {
      for (int64_t k : {1, 2, 31, 32, 33, 1000}) {
        for (int64_t budget : {48 * 1024, 227 * 1024}) {
          for (double per_level : {0.0, 1.0, 13.0, 450.0, 1e6}) {
            const ApplyTiling t = choose_apply_tiling(m, k, value_bytes, budget, per_level);
            CHECK(t.tile_rows >= 1 && t.tile_rows <= kMaxTileRows && t.tile_rows <= k);
            CHECK(t.pitch % 2 == 1 && t.pitch >= t.tile_rows);
            CHECK(t.tiles == (k + t.tile_rows - 1) / t.tile_rows);
            CHECK(t.tile_bytes == m * t.pitch * value_bytes);
            CHECK(t.in_shared == (t.tile_bytes <= budget));
            CHECK(t.threads % 32 == 0 && t.threads >= kMinThreads && t.threads <= kMaxThreads);
            CHECK(t.threads >= t.tile_rows);
            // In shared memory the tile is as tall as fits: one more row would not.
            if (t.in_shared && t.tile_rows < std::min<int64_t>(k, kMaxTileRows))
              CHECK(m * odd_pitch(t.tile_rows + 1) * value_bytes > budget);
          }
        }
      }
    }
  }
  // 4096 float coordinates (16 KiB per row) in 227 KiB: 13 rows (pitch 13).
  CHECK(choose_apply_tiling(4096, 4096, 4, 227 * 1024, 450.0).tile_rows == 13);
  // 65536 float coordinates do not fit one row: global workspace, full tiles.
  const ApplyTiling wide = choose_apply_tiling(65536, 1, 4, 227 * 1024, 1.0);
  CHECK(!wide.in_shared && wide.tile_rows == 1 && wide.tiles == 1);
}

}  // namespace

int main() {
  test_tiling();
  test_launches<float>();
  test_launches<double>();
  return check_report();
}
