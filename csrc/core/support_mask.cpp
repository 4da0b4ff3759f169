#include "support_mask.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "random_stream.h"
#include "support_tracker.h"

namespace eoi {

void write_support_mask(const uint64_t* support, int64_t n, int64_t m, int64_t row_begin,
                        int64_t row_end, uint8_t* mask, int64_t row_stride, int64_t col_stride) {
  const int64_t words = support_words(n);
  // Loop order follows the contiguous side of the output.
  if (row_stride == 1) {
    for (int64_t c = 0; c < m; ++c) {
      const uint64_t* s = support + c * words;
      uint8_t* out = mask + c * col_stride;
      for (int64_t r = row_begin; r < row_end; ++r)
        out[r - row_begin] = static_cast<uint8_t>((s[r >> 6] >> (r & 63)) & 1u);
    }
  } else {
    // Row r of the output takes bit r of every S_c: gather the words of a block of
    // columns once (they stay in L1), then write each row of the block from them.
    constexpr int64_t kBlock = 64;
    uint64_t block[kBlock];
    for (int64_t c0 = 0; c0 < m; c0 += kBlock) {
      const int64_t width = std::min(kBlock, m - c0);
      int64_t loaded_word = -1;
      for (int64_t r = row_begin; r < row_end; ++r) {
        if ((r >> 6) != loaded_word) {
          loaded_word = r >> 6;
          for (int64_t t = 0; t < width; ++t) block[t] = support[(c0 + t) * words + loaded_word];
        }
        const int64_t bit = r & 63;
        uint8_t* out = mask + (r - row_begin) * row_stride + c0 * col_stride;
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
  const int64_t free_count = total - held;
  const uint64_t key_seed = topup_seed(seed);

  // Keys are uniform on [0, 2^63): the `need` smallest of `free_count` keys lie below
  // about need / free_count * 2^63. Collect candidates under a threshold with some
  // slack and double it until enough are found, so memory stays O(need) instead of
  // O(rows * cols). The selected set does not depend on the threshold.
  using Candidate = std::pair<uint64_t, int64_t>;
  std::vector<Candidate> candidates;
  double fraction = std::min(1.0, 2.0 * static_cast<double>(need) / static_cast<double>(free_count) + 1e-3);
  for (;;) {
    const uint64_t limit = fraction >= 1.0 ? ~uint64_t{0} : static_cast<uint64_t>(fraction * 0x1.0p63);
    candidates.clear();
    for (int64_t p = 0; p < total; ++p) {
      if (mask[p]) continue;
      const uint64_t key = stream_draw(key_seed, static_cast<uint64_t>(p)) >> 1;
      if (key <= limit) candidates.emplace_back(key, p);
    }
    if (static_cast<int64_t>(candidates.size()) >= need) break;
    fraction = std::min(1.0, 2.0 * fraction);
  }
  std::nth_element(candidates.begin(), candidates.begin() + (need - 1), candidates.end());
  for (int64_t k = 0; k < need; ++k) mask[candidates[k].second] = 1;
  return need;
}

}  // namespace eoi
