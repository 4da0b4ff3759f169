// From tracked support to the bool mask of W, and the exact-density top-up.
#pragma once

#include <cstdint>

#include "host_device.h"
#include "random_stream.h"

namespace eoi {

// Mask of rows [row_begin, row_end) of A (n x m): writes 1 where A[r][c] can be
// nonzero (bit r of S_c), else 0, to
// mask[(r - row_begin) * row_stride + (c - coord_begin) * col_stride] for c in
// [coord_begin, coord_end) (coord_end = -1: m), the same addressing as
// apply_rotations_tile. `support` is the tracker's result (m * ceil(n / 64) words).
void write_support_mask(const uint64_t* support, int64_t n, int64_t m, int64_t row_begin,
                        int64_t row_end, uint8_t* mask, int64_t row_stride, int64_t col_stride,
                        int64_t coord_begin = 0, int64_t coord_end = -1);

// Adds positions to a (rows x cols, row-major) mask until it holds `target_count`
// entries. Draw t = 0, 1, 2, ... of the top-up stream, u_t = stream_uniform(
// topup_seed(seed), t), names position floor(u_t * rows * cols); a free one joins the
// mask. Each joining position is uniform over the positions still free, so the added set
// is a uniform random subset, the same on every backend. Expected draws: need / (free
// fraction), where need is at most one rotation's growth of the mask. Returns the number
// of positions added (0 when the mask already holds target_count or more).
int64_t top_up_mask(uint64_t seed, int64_t rows, int64_t cols, int64_t target_count,
                    uint8_t* mask);

// The sampling loop of top_up_mask, given need = target_count - (entries held) > 0 (or
// <= 0 for nothing to add): shared with the CUDA kernel (one thread per matrix), which
// counts the held entries with a parallel reduction first.
EOI_HOST_DEVICE inline void add_free_positions(uint64_t seed, int64_t total, int64_t need,
                                               uint8_t* mask) {
  const uint64_t stream = topup_seed(seed);
  int64_t added = 0;
  for (uint64_t t = 0; added < need; ++t) {
    const auto p = static_cast<int64_t>(stream_uniform(stream, t) * static_cast<double>(total));
    if (!mask[p]) {
      mask[p] = 1;
      ++added;
    }
  }
}

}  // namespace eoi
