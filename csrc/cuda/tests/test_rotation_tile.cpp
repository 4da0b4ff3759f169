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

#include "core/tests/check.h"
#include "cuda/apply_tiling.h"
#include "cuda/rotation_tile.h"
#include "cuda/tests/batch_plan.h"

using namespace eoi::gpu;
using namespace eoi_test;

namespace {

enum class ThreadOrder { kForward, kReverse, kShuffled };

// One launch of apply_plans_kernel, emulated. Returns the output buffer.
template <typename compute_t>
std::vector<compute_t> emulate_launch(const BatchPlan& p, const Schedule<compute_t>& s,
                                      const ApplyTiling& tiling, int64_t row_begin, int64_t row_end,
                                      int64_t coord_begin, int64_t coord_end, bool transposed,
                                      compute_t gain, ThreadOrder order_kind) {
  const int64_t k = row_end - row_begin;
  std::vector<compute_t> out(p.count() * k * (coord_end - coord_begin), compute_t(-77));
  std::vector<compute_t> workspace(tiling.tiles * p.count() * p.m * tiling.pitch, compute_t(123));
  std::vector<int64_t> order(tiling.threads);
  std::iota(order.begin(), order.end(), 0);
  if (order_kind == ThreadOrder::kReverse) std::reverse(order.begin(), order.end());
  if (order_kind == ThreadOrder::kShuffled) std::shuffle(order.begin(), order.end(), std::mt19937(7));
  std::vector<compute_t> shared(tiling.in_shared ? p.m * tiling.pitch : 0);
  for (int64_t block = 0; block < p.count() * tiling.tiles; ++block) {
    const TileGeometry g = tile_geometry(block, tiling.tiles, tiling.tile_rows, coord_end - coord_begin,
                                         row_begin, row_end, transposed);
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
      tile_write(tile, gain, out.data() + g.out_offset, g.row_stride, g.col_stride, coord_begin, coord_end, t,
                 tiling.threads);
  }
  return out;
}

template <typename compute_t>
bool same_bits(const std::vector<compute_t>& a, const std::vector<compute_t>& b) {
  // memcmp's pointers must be non-null even for 0 bytes (UBSan: an empty batch's data()).
  return a.size() == b.size() &&
         (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(compute_t)) == 0);
}

template <typename compute_t>
void check_case(uint64_t seed, int64_t count, int64_t n, int64_t m, double d, int64_t row_begin, int64_t row_end,
                int64_t max_shared_bytes, int64_t coord_begin = 0, int64_t coord_end = -1) {
  if (coord_end < 0) coord_end = m;
  const BatchPlan p = make_batch(seed, count, n, m, d);
  const Schedule<compute_t> s = build_schedule<compute_t>(p);
  const int64_t levels = s.matrix_levels.back();
  const double per_level = levels ? static_cast<double>(p.offsets.back()) / levels : 0.0;
  const ApplyTiling tiling =
      choose_apply_tiling(m, row_end - row_begin, sizeof(compute_t), max_shared_bytes, per_level);
  const compute_t gain = compute_t(1.25);
  for (bool transposed : {false, true}) {
    const auto expected = cpu_result<compute_t>(p, row_begin, row_end, transposed, gain, coord_begin, coord_end);
    const auto run = [&](ThreadOrder order) {
      return emulate_launch(p, s, tiling, row_begin, row_end, coord_begin, coord_end, transposed, gain, order);
    };
    const auto forward = run(ThreadOrder::kForward);
    // Bit for bit, signed zeros included (issue 16, item 7): same_values took -0 == +0.
    CHECK_MSG(same_bits(forward, expected),
              "n=%lld m=%lld rows [%lld, %lld) transposed=%d tile_rows=%d shared=%d threads=%d bytes=%zu",
              (long long)n, (long long)m, (long long)row_begin, (long long)row_end, transposed, tiling.tile_rows,
              tiling.in_shared, tiling.threads, sizeof(compute_t));
    CHECK(same_bits(forward, run(ThreadOrder::kReverse)));
    CHECK(same_bits(forward, run(ThreadOrder::kShuffled)));
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
  check_case<compute_t>(15, 2, 70, 130, 0.2, 0, 70, big, 40, 101);                // a coordinate window
  check_case<compute_t>(16, 2, 70, 130, 0.2, 5, 69, 64, 0, 1);                    // one coordinate, global
  check_case<compute_t>(17, 3, 128, 128, 0.125, 30, 31, big, 64, 128);
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
