// The CUDA support-mask kernel's logic (csrc/cuda/mask_tile.h), run on the CPU: a launch of
// support_masks_kernel (csrc/cuda/support_masks.cu) is emulated block by block, over the
// whole grid, with grid.y capped low so the grid-stride loop takes several tiles per block,
// each phase run for every thread of the block one after another (the kernel's barriers
// separate the phases) forward, in reverse or shuffled. Checked byte for byte against
// write_support_mask (csrc/core/support_mask.cpp) on random supports: batches, n across
// word boundaries, row ranges and coordinate windows that start and end mid-word or
// mid-tile, both layouts, several block sizes and output alignments. Every output byte
// must be written exactly once, and nothing outside the output.
#include <algorithm>
#include <cstdint>
#include <numeric>
#include <random>
#include <utility>
#include <vector>

#include "core/support_mask.h"
#include "core/support_tracker.h"
#include "core/tests/check.h"
#include "cuda/mask_tile.h"

using namespace eoi::gpu;
using namespace eoi_test;

namespace {

enum class ThreadOrder { kForward, kReverse, kShuffled };

constexpr uint8_t kUnwritten = 0xEE;
constexpr int64_t kGuard = 8;  // bytes checked on each side of the output

// MaskStore's writes (csrc/cuda/mask_tile.h), counted per byte of the buffer, and the
// 4-byte stores to addresses that are not 4-byte aligned (a fault on a GPU).
struct CountingStore {
  const uint8_t* base;
  std::vector<int32_t>* writes;
  int64_t* misaligned;
  void byte(uint8_t* p, uint32_t value) const {
    ++(*writes)[p - base];
    MaskStore{}.byte(p, value);
  }
  void word(uint8_t* p, uint32_t value) const {
    *misaligned += reinterpret_cast<uintptr_t>(p) % 4 != 0;
    for (int i = 0; i < 4; ++i) ++(*writes)[p - base + i];
    MaskStore{}.word(p, value);
  }
};

struct Emulation {
  int32_t threads;
  int64_t grid_y;    // the kernel's cap on grid.y (65535), set low here
  int64_t misalign;  // output address mod 4 (up to 3 bytes of the allocation skipped)
  ThreadOrder order;
};

struct Result {
  std::vector<uint8_t> mask;    // the output bytes
  std::vector<int32_t> writes;  // writes to each output byte
  bool outside_untouched;       // no byte of the guards written
  int64_t misaligned;           // misaligned 4-byte stores
};

// One launch of support_masks_kernel, emulated.
Result emulate_launch(const MaskLayout& l, const std::vector<uint64_t>& support, const Emulation& e) {
  const int64_t size = l.count * (l.row_end - l.row_begin) * (l.coord_end - l.coord_begin);
  // 4 spare bytes in front so the output can start at any address mod 4.
  std::vector<uint8_t> buffer(4 + kGuard + size + kGuard, kUnwritten);
  std::vector<int32_t> writes(buffer.size(), 0);
  const auto guard_end = static_cast<int64_t>(reinterpret_cast<uintptr_t>(buffer.data() + kGuard) % 4);
  const int64_t lead = kGuard + (e.misalign - guard_end + 4) % 4;
  uint8_t* out = buffer.data() + lead;
  int64_t misaligned = 0;
  const CountingStore store{buffer.data(), &writes, &misaligned};

  std::vector<int64_t> order(e.threads);
  std::iota(order.begin(), order.end(), 0);
  if (e.order == ThreadOrder::kReverse) std::reverse(order.begin(), order.end());
  if (e.order == ThreadOrder::kShuffled) std::shuffle(order.begin(), order.end(), std::mt19937(7));
  // Shared memory is neither zeroed nor cleared between tiles on a GPU: start with junk and
  // keep the last tile's words.
  std::vector<uint64_t> staged(kMaskStagedWords, 0xA5A5A5A5A5A5A5A5ull);

  const int64_t row_tiles = mask_row_tiles(l);
  const int64_t coord_tiles = mask_coord_tiles(l);
  const int64_t tiles_y = l.count * coord_tiles;
  // The launcher's grid (launch_support_masks, csrc/cuda/support_masks.cu).
  const int64_t grid_y = std::min(tiles_y, e.grid_y);
  for (int64_t block_y = 0; block_y < grid_y; ++block_y) {
    for (int64_t block_x = 0; block_x < row_tiles; ++block_x) {
      for (int64_t y = block_y; y < tiles_y; y += grid_y) {
        const int64_t matrix = y / coord_tiles;
        const MaskTile tile = mask_tile(l, support.data(), out, matrix, block_x, y - matrix * coord_tiles);
        for (int64_t t : order) mask_tile_load(tile, staged.data(), t, e.threads);
        for (int64_t t : order) mask_tile_write(tile, staged.data(), store, t, e.threads);
      }
    }
  }

  Result r;
  r.misaligned = misaligned;
  r.mask.assign(out, out + size);
  r.writes.assign(writes.begin() + lead, writes.begin() + lead + size);
  r.outside_untouched = true;
  for (int64_t i = 0; i < static_cast<int64_t>(buffer.size()); ++i) {
    if (i < lead || i >= lead + size) r.outside_untouched &= writes[i] == 0 && buffer[i] == kUnwritten;
  }
  return r;
}

// The CPU core's masks, one matrix at a time into the (count, k, w) or (count, w, k) output.
std::vector<uint8_t> expected_masks(const MaskLayout& l, const std::vector<uint64_t>& support) {
  const int64_t k = l.row_end - l.row_begin;
  const int64_t width = l.coord_end - l.coord_begin;
  const int64_t words = eoi::support_words(l.n);
  std::vector<uint8_t> mask(l.count * k * width, kUnwritten);
  for (int64_t b = 0; b < l.count; ++b)
    eoi::write_support_mask(support.data() + b * l.m * words, l.n, l.m, l.row_begin, l.row_end,
                            mask.data() + b * k * width, l.transposed ? 1 : width, l.transposed ? k : 1,
                            l.coord_begin, l.coord_end);
  return mask;
}

// Random words, the whole word (bits at rows >= n too, which no mask may read). density 0:
// fair bits; 1: mostly set; -1: mostly clear.
std::vector<uint64_t> random_support(std::mt19937_64& rng, int64_t words, int density) {
  std::vector<uint64_t> support(words);
  for (auto& w : support) {
    w = rng();
    if (density > 0) w |= rng() | rng();
    if (density < 0) w &= rng() & rng();
  }
  return support;
}

// [begin, end) pairs within [0, size), size >= 1: whole, missing an end, one element, and
// ones that start and end inside a word (rows) or tile (coordinates).
std::vector<std::pair<int64_t, int64_t>> ranges(int64_t size) {
  const std::pair<int64_t, int64_t> candidates[] = {
      {0, size}, {1, size}, {0, size - 1}, {size / 2, size / 2 + 1}, {size - 1, size},
      {size / 3, size - size / 3}, {63, 65}, {60, 130}, {64, 128}, {5, 133}, {127, 257}, {0, 0}};
  std::vector<std::pair<int64_t, int64_t>> out;
  for (const auto& [begin, end] : candidates) {
    const bool empty = begin == end;
    if ((empty || (0 <= begin && begin < end && end <= size)) &&
        std::find(out.begin(), out.end(), std::make_pair(begin, end)) == out.end())
      out.emplace_back(begin, end);
  }
  return out;
}

bool all_once(const std::vector<int32_t>& writes) {
  return std::all_of(writes.begin(), writes.end(), [](int32_t w) { return w == 1; });
}

// One layout, emulated twice: with the kernel's block size (kThreads = 256,
// csrc/cuda/support_masks.cu) and a small grid.y, then with a block size below the tile's
// coordinates and chunks (the phases' stride loops), another grid.y cap and thread order.
// `run` numbers the cases and picks the variations.
void check_case(const MaskLayout& l, const std::vector<uint64_t>& support, int64_t run) {
  const auto expected = expected_masks(l, support);
  const ThreadOrder other_order = run % 2 ? ThreadOrder::kReverse : ThreadOrder::kShuffled;
  const Emulation emulations[] = {
      {256, 2, run % 4, ThreadOrder::kForward},
      {run % 2 ? 33 : 96, 1 + run % 5, (run + 1) % 4, other_order},
  };
  for (const Emulation& e : emulations) {
    const Result r = emulate_launch(l, support, e);
    const bool equal = r.mask == expected;
    const bool once = all_once(r.writes);
    CHECK_MSG(equal && once && r.outside_untouched && r.misaligned == 0,
              "count=%lld n=%lld m=%lld rows [%lld, %lld) coords [%lld, %lld) transposed=%d threads=%d "
              "grid_y=%lld misalign=%lld: equal=%d once=%d outside_untouched=%d misaligned=%lld",
              (long long)l.count, (long long)l.n, (long long)l.m, (long long)l.row_begin,
              (long long)l.row_end, (long long)l.coord_begin, (long long)l.coord_end, l.transposed, e.threads,
              (long long)e.grid_y, (long long)e.misalign, equal, once, r.outside_untouched,
              (long long)r.misaligned);
  }
}

void test_launches() {
  std::mt19937_64 rng(2024);
  int64_t run = 0;
  for (int64_t n : {1, 63, 64, 65, 130, 200}) {
    for (int64_t m : {n, n + 37, int64_t{300}}) {
      for (const auto& [row_begin, row_end] : ranges(n)) {
        for (const auto& [coord_begin, coord_end] : ranges(m)) {
          for (bool transposed : {false, true}) {
            ++run;
            const int64_t count = 1 + run % 3;
            const int density = static_cast<int>(run / 3 % 3) - 1;  // not in step with count
            check_case(MaskLayout{count, n, m, row_begin, row_end, coord_begin, coord_end, transposed},
                       random_support(rng, count * m * eoi::support_words(n), density), run);
          }
        }
      }
    }
  }
}

void test_tiling() {
  // Rows [60, 130) meet words 0, 1 and 2; [64, 128) only word 1; coordinates tile by 128.
  CHECK(mask_row_tiles(MaskLayout{1, 200, 200, 60, 130, 0, 200, false}) == 3);
  CHECK(mask_row_tiles(MaskLayout{1, 200, 200, 64, 128, 0, 200, false}) == 1);
  CHECK(mask_row_tiles(MaskLayout{1, 200, 200, 7, 7, 0, 200, false}) == 0);
  CHECK(mask_coord_tiles(MaskLayout{1, 200, 300, 0, 1, 0, 300, false}) == 3);
  CHECK(mask_coord_tiles(MaskLayout{1, 200, 300, 0, 1, 44, 172, false}) == 1);
  // The padded slots stay distinct and within the shared array.
  for (int32_t t = 1; t < kMaskTileCoords; ++t) CHECK(mask_staged_index(t) > mask_staged_index(t - 1));
  CHECK(mask_staged_index(kMaskTileCoords - 1) < kMaskStagedWords);
  // No bank conflicts in phase 2 of a (count, k, w) mask (mask_staged_index, mask_tile.h):
  // 16 lanes on consecutive chunks j read the words of coordinates 4j + o (o = byte of the
  // chunk - the line's misalignment, -3 to 3), which must lie in 16 distinct 8-byte bank
  // pairs (32 banks of 4 bytes).
  for (int32_t first_chunk = 0; first_chunk <= kMaskTileCoords / 4; ++first_chunk) {
    for (int32_t o = -3; o <= 3; ++o) {
      std::vector<int32_t> lanes_on_pair(16, 0);
      for (int32_t j = first_chunk; j < first_chunk + 16; ++j) {
        if (4 * j + o >= 0 && 4 * j + o < kMaskTileCoords) ++lanes_on_pair[mask_staged_index(4 * j + o) % 16];
      }
      CHECK(*std::max_element(lanes_on_pair.begin(), lanes_on_pair.end()) <= 1);
    }
  }
}

}  // namespace

int main() {
  test_tiling();
  test_launches();
  return check_report();
}
