// The CUDA apply kernel's logic, run on the CPU: a launch of apply_plans_kernel
// (csrc/cuda/apply_plans.cu) is emulated over the whole grid, each phase of rotation_tile.h
// run for every thread of a block one after another (the kernel's barriers separate the
// phases) and the blocks side by side, phase by phase, so two blocks sharing a tile would
// corrupt each other. Checked bit for bit against the CPU kernel
// (csrc/core/apply_rotations.h): batches, both layouts, row ranges, float and double,
// tiles in "shared memory" of several sizes and in the global workspace, both of the
// kernel's tile locations (the template parameter kInShared), the workspace with a slot per
// tile or fewer slots than tiles (its persistent blocks reuse their slot), several block sizes,
// including ones that leave a thread a long run of rotations, idle threads, or more threads
// than rotations. Running a phase's threads in reverse and in a shuffled order must give
// the same bits, which fails if two threads of a phase touch the same value. The grouped
// loop of tile_apply_level is also checked on single levels against rotation after
// rotation, for every level size around the group's multiples. Also checks the tiling
// heuristics and the workspace's slot count (apply_tiling.h), the level schedule
// (level_schedule.h) and the alignment the vector loads need.
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

// One launch of apply_plans_kernel<compute_t, out_t, kInShared> with `threads` threads per
// block, emulated. `slots`: the workspace's (ApplyPlansParams::workspace_blocks; 0: a slot
// per tile); the shared instantiation always has a block per tile. Returns the output buffer.
//
// The grid is the launcher's (apply_plans.cu, launch_typed): a block per tile, or a
// persistent block per workspace slot. Block s computes tiles s, s + grid, ... in the
// kernel's order, in the storage tile_storage gives it (slot s, used again for each of its
// tiles). The blocks go round by round, each round phase by phase for every block with a
// tile left, so two blocks sharing a slot would corrupt each other's tiles, and a tile
// that found its slot not cleaned of the previous one would be wrong.
template <bool kInShared, typename compute_t>
std::vector<compute_t> emulate_launch(const BatchPlan& p, const Schedule<compute_t>& s,
                                      const ApplyTiling& tiling, int64_t threads, int64_t slots,
                                      int64_t row_begin, int64_t row_end, int64_t coord_begin, int64_t coord_end,
                                      bool transposed, compute_t gain, ThreadOrder order_kind) {
  const int64_t k = row_end - row_begin;
  const int64_t total = p.count() * tiling.tiles;
  const int64_t grid = !kInShared && slots > 0 ? workspace_slots(total, slots) : total;
  const int64_t tile_size = p.m * tiling.pitch;
  std::vector<compute_t> out(p.count() * k * (coord_end - coord_begin), compute_t(-77));
  // Neither the workspace nor shared memory is zeroed on a GPU. Each block has its own
  // shared memory, which the kernel sees at the same address. The workspace has the
  // launcher's slots, no more, so a slot index past them is caught under ASan.
  std::vector<compute_t> workspace(kInShared ? 0 : grid * tile_size, compute_t(123));
  std::vector<compute_t> shared(kInShared ? grid * tile_size : 0, compute_t(-45));
  const std::vector<int64_t> order = thread_order(threads, order_kind);
  for (int64_t first = 0; first < total; first += grid) {
    // This round: block b computes tile first + b.
    const int64_t blocks = std::min(grid, total - first);
    std::vector<TileGeometry> geometry;
    std::vector<RotationTile<compute_t>> tiles;
    for (int64_t block = 0; block < blocks; ++block) {
      const TileGeometry g = tile_geometry(first + block, tiling.tiles, tiling.tile_rows, coord_end - coord_begin,
                                           row_begin, row_end, transposed);
      compute_t* own_shared = kInShared ? shared.data() + block * tile_size : nullptr;
      compute_t* values = tile_storage<kInShared, compute_t>(reinterpret_cast<unsigned char*>(own_shared),
                                                             workspace.data(), block, p.m, tiling.pitch);
      geometry.push_back(g);
      tiles.push_back({values, p.m, g.first_row, g.rows, tiling.pitch});
    }
    for (int64_t block = 0; block < blocks; ++block)
      for (int64_t t : order) tile_zero(tiles[block], t, threads);
    for (int64_t block = 0; block < blocks; ++block)
      for (int64_t t : order) tile_set_identity(tiles[block], t, threads);
    // Each block's levels with the bounds the kernel's loop carries; a step applies the next
    // level of every block that has one left.
    std::vector<int64_t> level(blocks), begin(blocks);
    for (int64_t block = 0; block < blocks; ++block) {
      level[block] = s.matrix_levels[geometry[block].matrix];
      begin[block] = s.level_starts[level[block]];
    }
    for (bool more = true; more;) {
      more = false;
      for (int64_t block = 0; block < blocks; ++block) {
        if (level[block] == s.matrix_levels[geometry[block].matrix + 1]) continue;
        const int64_t end = s.level_starts[level[block] + 1];
        for (int64_t t : order)
          tile_apply_level(tiles[block], s.pairs.data(), s.cos_sin.data(), begin[block], end, t, threads);
        begin[block] = end;
        ++level[block];
        more = true;
      }
    }
    for (int64_t block = 0; block < blocks; ++block) {
      const TileGeometry& g = geometry[block];
      for (int64_t t : order)
        tile_write(tiles[block], gain, out.data() + g.out_offset, g.row_stride, g.col_stride, coord_begin,
                   coord_end, t, threads);
    }
  }
  return out;
}

template <typename compute_t>
bool same_bits(const std::vector<compute_t>& a, const std::vector<compute_t>& b) {
  // memcmp's pointers must be non-null even for 0 bytes (UBSan: an empty batch's data()).
  return a.size() == b.size() &&
         (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(compute_t)) == 0);
}

// Workspace slot counts to emulate for `total` tiles: a slot per tile (0, as callers that set
// no ApplyPlansParams::workspace_blocks get), 1, 2 and 3 slots, and the smallest count from 4
// and the largest below the tiles that do not divide them (the last round leaves slots idle).
std::vector<int64_t> workspace_slot_counts(int64_t total) {
  std::vector<int64_t> counts = {0};
  for (int64_t slots : {int64_t{1}, int64_t{2}, int64_t{3}})
    if (slots < total) counts.push_back(slots);
  for (int64_t slots = 4; slots < total; ++slots) {
    if (total % slots != 0) {
      counts.push_back(slots);
      break;
    }
  }
  if (total - 1 > 3 && total - 1 != counts.back()) counts.push_back(total - 1);
  return counts;
}

template <typename compute_t>
void check_case(uint64_t seed, int64_t count, int64_t n, int64_t m, double d, int64_t row_begin, int64_t row_end,
                int64_t max_shared_bytes, int64_t coord_begin = 0, int64_t coord_end = -1) {
  if (coord_end < 0) coord_end = m;
  const BatchPlan p = make_batch(seed, count, n, m, d);
  const Schedule<compute_t> s = build_schedule<compute_t>(p);
  CHECK(schedule_aligned<compute_t>(s.pairs.data(), s.cos_sin.data()));
  const int64_t levels = s.matrix_levels.back();
  const double per_level = levels ? static_cast<double>(p.offsets.back()) / levels : 0.0;
  const ApplyTiling tiling =
      choose_apply_tiling(m, row_end - row_begin, sizeof(compute_t), max_shared_bytes, per_level, max_rotations(p));
  const compute_t gain = compute_t(1.25);
  // The launcher's block size; one rotation side by side (each thread runs through whole
  // levels, group after group); idle threads (not a multiple of the rows); more threads than
  // any level has rotations.
  const int64_t block_sizes[] = {tiling.threads, tiling.tile_rows, 3 * tiling.tile_rows + 2, kMaxThreads};
  const std::vector<int64_t> slot_counts = workspace_slot_counts(count * tiling.tiles);
  for (bool transposed : {false, true}) {
    const auto expected = cpu_result<compute_t>(p, row_begin, row_end, transposed, gain, coord_begin, coord_end);
    for (int64_t threads : block_sizes) {
      for (ThreadOrder order : {ThreadOrder::kForward, ThreadOrder::kReverse, ThreadOrder::kShuffled}) {
        // Both instantiations, whichever the launcher would pick (tiling.in_shared): where the
        // tile lives, and how many workspace slots the tiles share, must not change a bit.
        const auto expect_same = [&](bool in_shared, int64_t slots, const std::vector<compute_t>& got) {
          // Bit for bit, signed zeros included (issue 16, item 7): same_values took -0 == +0.
          CHECK_MSG(same_bits(got, expected),
                    "n=%lld m=%lld rows [%lld, %lld) transposed=%d tile_rows=%d tiling.in_shared=%d "
                    "kInShared=%d slots=%lld threads=%lld order=%d bytes=%zu",
                    (long long)n, (long long)m, (long long)row_begin, (long long)row_end, transposed,
                    tiling.tile_rows, tiling.in_shared, in_shared, (long long)slots, (long long)threads,
                    static_cast<int>(order), sizeof(compute_t));
        };
        expect_same(true, 0,
                    emulate_launch<true>(p, s, tiling, threads, 0, row_begin, row_end, coord_begin, coord_end,
                                         transposed, gain, order));
        for (int64_t slots : slot_counts)
          expect_same(false, slots,
                      emulate_launch<false>(p, s, tiling, threads, slots, row_begin, row_end, coord_begin,
                                            coord_end, transposed, gain, order));
      }
    }
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

// tile_apply_level on one level of `size` rotations against rotation after rotation, for
// every size up to a few groups per thread (so every tail length), 1 to 7 rotations side by
// side, idle threads, more threads than rotations, tile padding (pitch > rows) that must stay
// untouched. The level sits between rotations that must not be applied (one before it and,
// unless it ends the schedule, some after it, on the same coordinates), or at the very end
// of the schedule, where a load past the end is caught under ASan.
template <typename compute_t>
void test_level_groups() {
  constexpr int64_t group = kRotationGroup<compute_t>;
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<double> angle(-3.2, 3.2), value(-1.0, 1.0);
  for (int32_t rows : {1, 2, 3, 5}) {
    const int32_t pitch = odd_pitch(rows) + 2;
    for (int64_t per_pass : {1, 2, 3, 7}) {
      for (int64_t size = 0; size <= 2 * group * per_pass + per_pass + 1; ++size) {
        for (int64_t idle : {int64_t{0}, int64_t{rows - 1}}) {
          for (bool ends_schedule : {true, false}) {
            const int64_t m = 2 * size + 3;
            const int64_t threads = per_pass * rows + idle;
            // The level's pairs: disjoint, from a random permutation of the coordinates.
            std::vector<int32_t> coords(m);
            std::iota(coords.begin(), coords.end(), 0);
            std::shuffle(coords.begin(), coords.end(), rng);
            std::vector<int32_t> pairs = {coords[0], coords[1]};  // rotation 0: the level before
            for (int64_t q = 0; q < size; ++q) {
              pairs.push_back(coords[2 * q + 1]);
              pairs.push_back(coords[2 * q + 2]);
            }
            if (!ends_schedule) {
              for (int64_t q = 0; q < 3; ++q) {
                pairs.push_back(coords[(2 * q + 1) % m]);
                pairs.push_back(coords[(2 * q + 2) % m]);
              }
            }
            std::vector<compute_t> cos_sin;
            for (size_t q = 0; q < pairs.size() / 2; ++q) {
              const double theta = angle(rng);
              cos_sin.push_back(static_cast<compute_t>(std::cos(theta)));
              cos_sin.push_back(static_cast<compute_t>(std::sin(theta)));
            }
            CHECK(schedule_aligned<compute_t>(pairs.data(), cos_sin.data()));
            std::vector<compute_t> initial(m * pitch);
            for (compute_t& x : initial) x = static_cast<compute_t>(value(rng));
            const int64_t begin = 1;
            const int64_t end = 1 + size;
            std::vector<compute_t> expected = initial;
            for (int32_t lane = 0; lane < rows; ++lane) {
              for (int64_t q = begin; q < end; ++q) {
                compute_t& xi = expected[pairs[2 * q] * pitch + lane];
                compute_t& xj = expected[pairs[2 * q + 1] * pitch + lane];
                const compute_t c = cos_sin[2 * q], s = cos_sin[2 * q + 1], a = xi, b = xj;
                xi = sub_rn(mul_rn(c, a), mul_rn(s, b));
                xj = add_rn(mul_rn(s, a), mul_rn(c, b));
              }
            }
            for (ThreadOrder order : {ThreadOrder::kForward, ThreadOrder::kReverse, ThreadOrder::kShuffled}) {
              std::vector<compute_t> values = initial;
              const RotationTile<compute_t> tile{values.data(), m, 0, rows, pitch};
              for (int64_t t : thread_order(threads, order))
                tile_apply_level(tile, pairs.data(), cos_sin.data(), begin, end, t, threads);
              CHECK_MSG(same_bits(values, expected),
                        "rows=%d per_pass=%lld size=%lld idle=%lld ends_schedule=%d order=%d bytes=%zu", rows,
                        (long long)per_pass, (long long)size, (long long)idle, ends_schedule,
                        static_cast<int>(order), sizeof(compute_t));
            }
          }
        }
      }
    }
  }
}

void test_tiling() {
  for (int64_t value_bytes : {4, 8}) {
    for (int64_t m : {1, 7, 128, 4096, 16384, 65536, 1 << 22}) {
      for (int64_t k : {1, 2, 31, 32, 33, 1000}) {
        for (int64_t budget : {48 * 1024, 227 * 1024}) {
          for (double per_level : {0.0, 1.0, 13.0, 450.0, 1e6}) {
            // R = 2^40: every estimated support is full, so a compact tile never gets more rows
            // and the full tiles are checked here (compact ones in test_compact_tile.cpp).
            const ApplyTiling t = choose_apply_tiling(m, k, value_bytes, budget, per_level, int64_t{1} << 40);
            CHECK(!t.compact);
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
  CHECK(choose_apply_tiling(4096, 4096, 4, 227 * 1024, 450.0, int64_t{1} << 40).tile_rows == 13);
  // 65536 float coordinates do not fit one row: global workspace, full tiles.
  const ApplyTiling wide = choose_apply_tiling(65536, 1, 4, 227 * 1024, 1.0, 0);
  CHECK(!wide.in_shared && wide.tile_rows == 1 && wide.tiles == 1);

  // Workspace slots: the fewer of the tiles and the resident blocks, at least one.
  CHECK(workspace_slots(8, 3) == 3);
  CHECK(workspace_slots(8, 132) == 8);
  CHECK(workspace_slots(5, 0) == 1);  // an occupancy query that found no room still launches
  CHECK(workspace_slots(0, 132) == 1);
  // docs/levels.md, "Tiling": a float32 65536^2 matrix has 2048 tiles of 32 rows (17.7 GB of
  // workspace at a slot per tile); at one resident 1024-thread block per SM on 132 SMs it needs
  // 132 slots, 1.14 GB.
  const ApplyTiling square = choose_apply_tiling(65536, 65536, 4, 227 * 1024, 32768.0, 400000);
  CHECK(!square.in_shared && square.tiles == 2048 && square.threads == kMaxThreads);
  CHECK(square.tiles * square.tile_bytes == int64_t{2048} * 65536 * 33 * 4);
  CHECK(workspace_slots(square.tiles, 132) * square.tile_bytes == int64_t{132} * 65536 * 33 * 4);
}

}  // namespace

int main() {
  test_tiling();
  test_level_groups<float>();
  test_level_groups<double>();
  test_launches<float>();
  test_launches<double>();
  return check_report();
}
