// The compact apply kernel's logic, run on the CPU (csrc/cuda/compact_tile.h;
// docs/levels.md, "Compact tiles"). A launch of apply_plans_compact_kernel
// (csrc/cuda/apply_plans.cu) is emulated block by block: each block runs the kernel's own
// driver, compact_apply_tile, with a Block that runs a phase on every thread one after
// another (the kernel's barriers separate the phases), in its own "shared memory" of the
// launch's size, poisoned so that a value read before it is written shows. Checked bit for bit
// against the CPU kernel (csrc/core/apply_rotations.h): batches, n < m, row ranges,
// coordinate windows, both layouts, float and double, several block sizes and thread orders,
// the tilings choose_apply_tiling picks and forced ones whose capacity makes tiles split
// (to 4 rows, to 1 row) or never split. The number of splits must be what the split policy
// gives on the tracker's supports.
//
// Pass 1 alone (compact_find_coordinates) must find exactly the coordinates the symbolic
// tracker's final support (csrc/core/support_tracker.h) gives the rows, ranked. Also checks
// the compact tiling's choice (apply_tiling.h).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "core/tests/check.h"
#include "cuda/apply_tiling.h"
#include "cuda/compact_tile.h"
#include "cuda/tests/batch_plan.h"

using namespace eoi::gpu;
using namespace eoi_test;

namespace {

// The kernel's DeviceBlock (apply_plans.cu) on the CPU: a phase runs on every thread, in
// `order`, before the next phase starts.
struct HostBlock {
  const std::vector<int64_t>* order;
  template <typename Phase>
  void run(const Phase& phase) const {
    for (int64_t t : *order) phase(t, static_cast<int64_t>(order->size()));
  }
};

template <typename compute_t>
MatrixLevels<compute_t> matrix_levels(const Schedule<compute_t>& s, int64_t matrix) {
  return {s.level_starts.data(), s.pairs.data(), s.cos_sin.data(), s.matrix_levels[matrix],
          s.matrix_levels[matrix + 1]};
}

// The coordinates rows [first_row, first_row + rows) of matrix b reach: c with a row of the
// range in the tracker's final S_c.
std::vector<bool> tracked_coordinates(const BatchPlan& p, int64_t b, int64_t first_row, int64_t rows) {
  const int64_t words = eoi::support_words(p.n);
  std::vector<bool> reached(p.m, false);
  for (int64_t c = 0; c < p.m; ++c) {
    const uint64_t* s = p.support.data() + (b * p.m + c) * words;
    for (int64_t r = first_row; r < first_row + rows; ++r) reached[c] = reached[c] || ((s[r >> 6] >> (r & 63)) & 1u);
  }
  return reached;
}

int64_t tracked_count(const BatchPlan& p, int64_t b, int64_t first_row, int64_t rows) {
  const std::vector<bool> reached = tracked_coordinates(p, b, first_row, rows);
  return std::count(reached.begin(), reached.end(), true);
}

// The splits compact_apply_tile makes on a tile of `rows` rows from first_row with
// `capacity` values, from the tracker's supports: halve on overflow, keep after a success.
int64_t expected_overflows(const BatchPlan& p, int64_t b, int64_t first_row, int32_t rows, int64_t capacity) {
  int64_t overflows = 0;
  int32_t part_rows = rows;
  for (int32_t done = 0; done < rows;) {
    const int32_t part = std::min(part_rows, rows - done);
    if (tracked_count(p, b, first_row + done, part) * odd_pitch(part) > capacity) {
      ++overflows;
      part_rows = std::max(1, part / 2);
    } else {
      done += part;
    }
  }
  return overflows;
}

// One launch of apply_plans_compact_kernel<compute_t, compute_t> with `threads` threads per
// block, emulated; adds the blocks' overflows to *overflows. Returns the output buffer.
template <typename compute_t>
std::vector<compute_t> emulate_compact_launch(const BatchPlan& p, const Schedule<compute_t>& s,
                                              const ApplyTiling& tiling, int64_t threads, int64_t row_begin,
                                              int64_t row_end, int64_t coord_begin, int64_t coord_end,
                                              bool transposed, compute_t gain, ThreadOrder order_kind,
                                              int64_t* overflows) {
  const int64_t k = row_end - row_begin;
  std::vector<compute_t> out(p.count() * k * (coord_end - coord_begin), compute_t(-77));
  const std::vector<int64_t> order = thread_order(threads, order_kind);
  for (int64_t block = 0; block < p.count() * tiling.tiles; ++block) {
    const TileGeometry g =
        tile_geometry(block, tiling.tiles, tiling.tile_rows, coord_end - coord_begin, row_begin, row_end, transposed);
    // The launch's dynamic shared memory, exactly (ASan sees a slot past it), not zeroed.
    std::vector<uint32_t> shared(tiling.tile_bytes / 4, 0xA5A5A5A5u);
    const CompactStorage<compute_t> storage =
        compact_storage<compute_t>(reinterpret_cast<unsigned char*>(shared.data()), p.m, tiling.compact_values);
    const OutputRows<compute_t> rows_out{out.data() + g.out_offset, g.row_stride, g.col_stride, coord_begin,
                                         coord_end};
    *overflows += compact_apply_tile(HostBlock{&order}, storage, matrix_levels(s, g.matrix), g.first_row, g.rows,
                                     gain, rows_out);
  }
  return out;
}

template <typename compute_t>
bool same_bits(const std::vector<compute_t>& a, const std::vector<compute_t>& b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(compute_t)) == 0);
}

// The tilings a case runs: the one choose_apply_tiling picks for `budget` (when compact), and
// forced ones of min(32, k) rows with a capacity of exactly one row's worst case (m), with the
// least capacity every aligned 4-row sub-tile fits (tiles of more rows overflow), and with
// room for everything (no split).
template <typename compute_t>
std::vector<ApplyTiling> case_tilings(const BatchPlan& p, const Schedule<compute_t>& s, int64_t row_begin,
                                      int64_t row_end, int64_t budget) {
  const int64_t k = row_end - row_begin;
  const int64_t levels = s.matrix_levels.back();
  const double per_level = levels ? static_cast<double>(p.offsets.back()) / levels : 0.0;
  std::vector<ApplyTiling> tilings;
  const ApplyTiling chosen = choose_apply_tiling(p.m, k, sizeof(compute_t), budget, per_level, max_rotations(p));
  if (chosen.compact) tilings.push_back(chosen);
  const auto rows = static_cast<int32_t>(std::min<int64_t>(kMaxTileRows, k));
  int64_t fits_4 = p.m;
  for (int64_t b = 0; b < p.count(); ++b)
    for (int64_t first = row_begin; first < row_end; first += 4)
      fits_4 = std::max(fits_4, tracked_count(p, b, first, std::min<int64_t>(4, row_end - first)) * odd_pitch(4));
  for (int64_t values : {p.m, fits_4, p.m * odd_pitch(rows)})
    tilings.push_back(compact_tiling(p.m, k, sizeof(compute_t), rows, values, chosen.threads));
  return tilings;
}

template <typename compute_t>
void check_case(uint64_t seed, int64_t count, int64_t n, int64_t m, double d, int64_t row_begin, int64_t row_end,
                int64_t budget, int64_t coord_begin = 0, int64_t coord_end = -1) {
  if (coord_end < 0) coord_end = m;
  const BatchPlan p = make_batch(seed, count, n, m, d);
  const Schedule<compute_t> s = build_schedule<compute_t>(p);
  const compute_t gain = compute_t(1.25);
  for (const ApplyTiling& tiling : case_tilings(p, s, row_begin, row_end, budget)) {
    CHECK(tiling.compact && tiling.compact_values >= m);
    int64_t expected_splits = 0;
    for (int64_t block = 0; block < count * tiling.tiles; ++block) {
      const TileGeometry g = tile_geometry(block, tiling.tiles, tiling.tile_rows, 1, row_begin, row_end, false);
      expected_splits += expected_overflows(p, g.matrix, g.first_row, g.rows, tiling.compact_values);
    }
    // A capacity of one row's worst case splits every tile of several rows that reaches more
    // than m / pitch coordinates; room for everything never splits.
    if (tiling.compact_values >= m * tiling.pitch) CHECK(expected_splits == 0);
    const int64_t block_sizes[] = {tiling.threads, tiling.tile_rows, 3 * tiling.tile_rows + 2, kMaxThreads};
    for (bool transposed : {false, true}) {
      const auto expected = cpu_result<compute_t>(p, row_begin, row_end, transposed, gain, coord_begin, coord_end);
      for (int64_t threads : block_sizes) {
        for (ThreadOrder order : {ThreadOrder::kForward, ThreadOrder::kReverse, ThreadOrder::kShuffled}) {
          int64_t splits = 0;
          const auto got = emulate_compact_launch<compute_t>(p, s, tiling, threads, row_begin, row_end, coord_begin,
                                                             coord_end, transposed, gain, order, &splits);
          CHECK_MSG(same_bits(got, expected) && splits == expected_splits,
                    "n=%lld m=%lld rows [%lld, %lld) coords [%lld, %lld) transposed=%d tile_rows=%d values=%lld "
                    "threads=%lld order=%d bytes=%zu splits=%lld expected %lld",
                    (long long)n, (long long)m, (long long)row_begin, (long long)row_end, (long long)coord_begin,
                    (long long)coord_end, transposed, tiling.tile_rows, (long long)tiling.compact_values,
                    (long long)threads, static_cast<int>(order), sizeof(compute_t), (long long)splits,
                    (long long)expected_splits);
        }
      }
    }
  }
}

// The forced capacities of case_tilings on plans where they bite: one row's worst case and
// the 4-row fit split 32-row tiles, room for everything does not. check_case has checked the
// splits against the policy on the tracker's supports; this checks that the split path ran.
template <typename compute_t>
void check_forced_splits(uint64_t seed, int64_t count, int64_t n, int64_t m, double d) {
  const BatchPlan p = make_batch(seed, count, n, m, d);
  const Schedule<compute_t> s = build_schedule<compute_t>(p);
  const std::vector<ApplyTiling> tilings = case_tilings(p, s, 0, n, 0);  // no budget: only the forced ones
  CHECK(tilings.size() == 3);
  std::vector<int64_t> splits;
  for (const ApplyTiling& tiling : tilings) {
    splits.push_back(0);
    emulate_compact_launch<compute_t>(p, s, tiling, 64, 0, n, 0, m, false, compute_t(1), ThreadOrder::kForward,
                                      &splits.back());
  }
  CHECK_MSG(splits.size() == 3 && splits[0] > 0 && splits[1] > 0 && splits[2] == 0,
            "m=%lld splits at capacities m, 4-row fit, room: %lld %lld %lld", (long long)m, (long long)splits[0],
            (long long)splits[1], (long long)splits[2]);
}

template <typename compute_t>
void test_launches() {
  const int64_t big = 1 << 20;
  const auto bytes = static_cast<int64_t>(sizeof(compute_t));
  // (seed, count, n, m, density, row range, shared-memory budget for choose_apply_tiling)
  check_case<compute_t>(1, 3, 40, 300, 0.02, 0, 40, 300 * 3 * bytes);        // sparse: compact is chosen
  check_case<compute_t>(2, 2, 70, 130, 0.2, 0, 70, big);
  check_case<compute_t>(3, 2, 100, 400, 0.05, 5, 97, 400 * 5 * bytes);       // a row range
  check_case<compute_t>(4, 2, 100, 400, 0.05, 31, 33, 400 * 5 * bytes);      // 2 rows across a 32-row edge
  check_case<compute_t>(5, 2, 70, 260, 0.1, 0, 70, 260 * 3 * bytes, 40, 201);  // a coordinate window
  check_case<compute_t>(6, 2, 70, 260, 0.1, 3, 50, 260 * 3 * bytes, 259, 260);  // the last coordinate
  check_case<compute_t>(7, 4, 1, 40, 0.5, 0, 1, big);                        // n = 1
  check_case<compute_t>(8, 1, 1, 1, 1.0, 0, 1, big);                         // 1 x 1
  check_case<compute_t>(9, 2, 64, 64, 0.6, 0, 64, big);                      // square, dense
  check_case<compute_t>(10, 2, 33, 97, 0.01, 0, 33, 97 * 3 * bytes);            // the identity or nearly
  check_case<compute_t>(11, 1, 200, 2000, 0.005, 0, 200, 2000 * 3 * bytes);  // several bitset words per chunk
}

// Pass 1 and the ranks alone, on windows of rows, against the tracker's support: exactly the
// tracked coordinates are members, each at its rank, and the count is their number. The
// flags, bitset and prefixes start poisoned, as shared memory does.
template <typename compute_t>
void check_coordinates(uint64_t seed, int64_t count, int64_t n, int64_t m, double d) {
  const BatchPlan p = make_batch(seed, count, n, m, d);
  const Schedule<compute_t> s = build_schedule<compute_t>(p);
  const int64_t bytes = m * static_cast<int64_t>(sizeof(compute_t)) + compact_index_bytes(m);
  for (int64_t b = 0; b < count; ++b) {
    for (int32_t rows : {1, 2, 5, 16, 32}) {
      for (int64_t first_row : {int64_t{0}, int64_t{1}, n / 2, n - rows}) {
        if (first_row < 0 || first_row + rows > n) continue;
        const std::vector<bool> tracked = tracked_coordinates(p, b, first_row, rows);
        for (int64_t threads : {1, 7, 64, 1024}) {
          for (ThreadOrder kind : {ThreadOrder::kForward, ThreadOrder::kReverse, ThreadOrder::kShuffled}) {
            // The least storage a compact tile has (one row's worst case, m values).
            std::vector<uint32_t> shared(bytes / 4, 0x5A5A5A5Au);
            const CompactStorage<compute_t> storage =
                compact_storage<compute_t>(reinterpret_cast<unsigned char*>(shared.data()), m, m);
            const CompactSet& set = storage.set;
            const std::vector<int64_t> order = thread_order(threads, kind);
            compact_find_coordinates(HostBlock{&order}, storage, matrix_levels(s, b), first_row, rows);
            bool same = true;
            int32_t below = 0;
            for (int64_t c = 0; c < m; ++c) {
              same = same && set.slot(c) == (tracked[c] ? below : -1);
              below += tracked[c];
            }
            CHECK_MSG(same && set.count() == below,
                      "m=%lld matrix %lld rows [%lld, %lld) threads=%lld order=%d count=%d tracked=%d", (long long)m,
                      (long long)b, (long long)first_row, (long long)(first_row + rows), (long long)threads,
                      static_cast<int>(kind), set.count(), below);
          }
        }
      }
    }
  }
}

void test_tiling() {
  const int64_t h200 = 227 * 1024;
  // docs/levels.md, "Compact tiles": float32 16384^2 at density 0.01 has R = 41930 rotations;
  // all 16384 coordinates fit 3 rows, the compact tile's estimate (about 2900 coordinates for
  // 19 rows) 19.
  const ApplyTiling big = choose_apply_tiling(16384, 16384, 4, h200, 1000.0, 41930);
  CHECK(big.compact && big.in_shared && big.tile_rows == 19 && big.pitch == 19);
  CHECK(choose_apply_tiling(16384, 16384, 4, h200, 1000.0, int64_t{1} << 40).tile_rows == 3);
  // 4096^2 at density 0.1, R = 12823: a compact tile would take 15 rows instead of 13, not
  // more than 1.5 times as many: the full tile stays.
  const ApplyTiling mid = choose_apply_tiling(4096, 4096, 4, h200, 450.0, 12823);
  CHECK(!mid.compact && mid.in_shared && mid.tile_rows == 13);
  // At 0.01 (R = 7600): compact.
  CHECK(choose_apply_tiling(4096, 4096, 4, h200, 380.0, 7600).compact);
  // Small m: all 32 rows fit whole; the full kernel, which has no membership pass, stays.
  for (int64_t m : {1, 128, 1000}) {
    const ApplyTiling t = choose_apply_tiling(m, 4096, 4, h200, 100.0, 10);
    CHECK(t.in_shared && !t.compact && t.tile_rows == 32);
  }
  // Huge m: one row's worst case does not fit beside the index: the global workspace.
  for (int64_t m : {65536, 131072}) {
    const ApplyTiling t = choose_apply_tiling(m, 4096, 4, h200, 100.0, 1000);
    CHECK(!t.in_shared && !t.compact && t.tile_rows == 32);
  }
  // A plan with nearly full supports: the estimate gives no more rows than the full tile.
  CHECK(!choose_apply_tiling(16384, 16384, 4, h200, 1000.0, 300000).compact);
  // Fewer rows than kMaxTileRows to compute: compact only where those do not fit whole.
  CHECK(!choose_apply_tiling(16384, 3, 4, h200, 1000.0, 41930).compact);
  CHECK(!choose_apply_tiling(16384, 4, 4, h200, 1000.0, 41930).compact);  // 4 rows, not > 1.5 x 3
  const ApplyTiling five = choose_apply_tiling(16384, 5, 4, h200, 1000.0, 41930);
  CHECK(five.compact && five.tile_rows == 5);

  for (int64_t value_bytes : {4, 8}) {
    for (int64_t m : {1, 7, 300, 4096, 16384, 50000, 65536}) {
      for (int64_t k : {1, 2, 31, 32, 33, 1000}) {
        for (int64_t budget : {int64_t{48 * 1024}, h200}) {
          for (int64_t rotations : {int64_t{0}, int64_t{100}, m, 5 * m, int64_t{1} << 40}) {
            const ApplyTiling t = choose_apply_tiling(m, k, value_bytes, budget, 100.0, rotations);
            CHECK(t.tile_rows >= 1 && t.tile_rows <= kMaxTileRows && t.tile_rows <= k);
            CHECK(t.pitch == odd_pitch(t.tile_rows) && t.tiles == (k + t.tile_rows - 1) / t.tile_rows);
            CHECK(t.threads >= t.tile_rows);
            const auto most = static_cast<int32_t>(std::min<int64_t>(kMaxTileRows, k));
            const ApplyTiling full = choose_apply_tiling(m, k, value_bytes, budget, 100.0, int64_t{1} << 40);
            if (!t.compact) {
              CHECK(t.tile_rows == full.tile_rows && t.in_shared == full.in_shared);
              continue;
            }
            // Compact: in shared memory, one row's worst case fits beside the index (a split
            // ends), more than 1.5 times the full tile's rows, and the estimate fits at those rows and not
            // at one more.
            CHECK(t.in_shared && t.tile_bytes <= budget && t.compact_values >= m);
            CHECK(t.tile_bytes == t.compact_values * value_bytes + compact_index_bytes(m));
            CHECK((t.compact_values + 1) * value_bytes + compact_index_bytes(m) > budget);
            CHECK(!(full.in_shared && full.tile_rows == most));
            CHECK(2 * t.tile_rows > 3 * (full.in_shared ? full.tile_rows : 0));
            CHECK(estimated_union(m, rotations, t.tile_rows) * t.pitch <= t.compact_values);
            if (t.tile_rows < most)
              CHECK(estimated_union(m, rotations, t.tile_rows + 1) * odd_pitch(t.tile_rows + 1) > t.compact_values);
          }
        }
      }
    }
  }
}

}  // namespace

int main() {
  test_tiling();
  check_coordinates<float>(21, 2, 70, 130, 0.2);
  check_coordinates<double>(22, 2, 100, 400, 0.05);
  check_coordinates<float>(23, 1, 200, 2000, 0.005);
  test_launches<float>();
  test_launches<double>();
  check_forced_splits<float>(31, 2, 100, 400, 0.05);
  check_forced_splits<double>(32, 1, 200, 2000, 0.005);
  return check_report();
}
