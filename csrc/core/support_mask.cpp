#include "support_mask.h"

#include <algorithm>

#include "support_tracker.h"

namespace eoi {

void write_support_mask(const uint64_t* support, int64_t n, int64_t m, int64_t row_begin,
                        int64_t row_end, uint8_t* mask, int64_t row_stride, int64_t col_stride,
                        int64_t coord_begin, int64_t coord_end) {
  const int64_t words = support_words(n);
  const int64_t last_coord = coord_end < 0 ? m : coord_end;
  // Loop order follows the contiguous side of the output.
  if (row_stride == 1) {
    for (int64_t c = coord_begin; c < last_coord; ++c) {
      const uint64_t* s = support + c * words;
      uint8_t* out = mask + (c - coord_begin) * col_stride;
      for (int64_t r = row_begin; r < row_end; ++r)
        out[r - row_begin] = static_cast<uint8_t>((s[r >> 6] >> (r & 63)) & 1u);
    }
  } else {
    // Row r of the output takes bit r of every S_c: gather the words of a block of
    // columns once (they stay in L1), then write each row of the block from them.
    constexpr int64_t kBlock = 64;
    uint64_t block[kBlock];
    for (int64_t c0 = coord_begin; c0 < last_coord; c0 += kBlock) {
      const int64_t width = std::min(kBlock, last_coord - c0);
      int64_t loaded_word = -1;
      for (int64_t r = row_begin; r < row_end; ++r) {
        if ((r >> 6) != loaded_word) {
          loaded_word = r >> 6;
          for (int64_t t = 0; t < width; ++t) block[t] = support[(c0 + t) * words + loaded_word];
        }
        const int64_t bit = r & 63;
        uint8_t* out = mask + (r - row_begin) * row_stride + (c0 - coord_begin) * col_stride;
        for (int64_t t = 0; t < width; ++t) out[t * col_stride] = static_cast<uint8_t>((block[t] >> bit) & 1u);
      }
    }
  }
}

int64_t top_up_mask(uint64_t seed, int64_t rows, int64_t cols, int64_t target_count,
                    uint8_t* mask) {
  const int64_t total = rows * cols;
  int64_t held = 0;
  for (int64_t p = 0; p < total; ++p) held += mask[p] != 0;
  const int64_t need = std::min(target_count, total) - held;
  if (need <= 0) return 0;
  if (target_count >= total) {
    // Every free position joins whatever the draws: skip drawing the coupon collector's
    // tail (the Python mirror, eoi_ext/fallback/support_mask.py, does the same).
    std::fill(mask, mask + total, uint8_t{1});
    return need;
  }
  add_free_positions(seed, total, need, mask);
  return need;
}

}  // namespace eoi
