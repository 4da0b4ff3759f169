// CPU application of a rotation sequence to rows of A = [I_n | 0] G_1 ... G_R
// (docs/levels.md, "CPU tiles").
//
// Row r of A is e_r^T G_1 ... G_R: rows are independent, so any row range can be
// computed alone. A tile of tile_lanes() rows is kept coordinate-major
// (values[c * lanes + lane]), so a rotation is a few SIMD loads of both coordinates,
// four multiplies, two adds and the stores, for all rows of the tile at once.
// Header-only because it is instantiated for the caller's output type (float, double,
// or a 16-bit float type constructible from float, such as c10::Half).
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "tile_rows_out.h"

namespace eoi {

// Lanes per tile: one 64-byte cache line of compute values.
template <typename compute_t>
constexpr int64_t tile_lanes() {
  return 64 / static_cast<int64_t>(sizeof(compute_t));
}

// Scratch of one thread for apply_rotations_tile, reusable across tiles and matrices
// whose larger side is at most m.
template <typename compute_t>
struct TileScratch {
  explicit TileScratch(int64_t m) : values(m * tile_lanes<compute_t>()), live(m) {}
  std::vector<compute_t> values;  // values[c * lanes + lane] = A[row_begin + lane][c]
  std::vector<uint8_t> live;      // live[c]: coordinate c is nonzero in some row of the tile
};

// Applies rotations (i_k, j_k) with (cos_k, sin_k) = cos_sin[2k], cos_sin[2k + 1] to
// rows [row_begin, row_end) of A (at most tile_lanes<compute_t>() rows), and writes
// gain * A[r][c] to out[(r - row_begin) * row_stride + (c - coord_begin) * col_stride]
// for the coordinates c in [coord_begin, coord_end) (coord_end = -1: m), so a block of
// columns is written without the rest.
//
// Right-multiplying by G(i, j, theta) maps a row x to
//   x_i <- cos * x_i - sin * x_j,   x_j <- sin * x_i + cos * x_j.
// A rotation on two coordinates that are zero in every row of the tile leaves them
// exactly zero, so it is skipped: rows start as unit vectors and their supports grow
// only through rotations, so early rotations mostly miss the tile (about 3x less work
// at density 0.1, with the same numbers).
template <typename compute_t, typename out_t>
void apply_rotations_tile(const int32_t* pairs, const compute_t* cos_sin, int64_t count,
                          int64_t m, int64_t row_begin, int64_t row_end, compute_t gain,
                          TileScratch<compute_t>& scratch, out_t* out, int64_t row_stride,
                          int64_t col_stride, int64_t coord_begin = 0, int64_t coord_end = -1) {
  constexpr int64_t L = tile_lanes<compute_t>();
  constexpr int64_t kChunk = 16 / static_cast<int64_t>(sizeof(compute_t));
  typedef compute_t Chunk __attribute__((vector_size(16)));
  const int64_t lanes = row_end - row_begin;
  compute_t* work = scratch.values.data();
  uint8_t* live = scratch.live.data();
  std::fill(work, work + m * L, compute_t(0));
  std::fill(live, live + m, uint8_t{0});
  for (int64_t lane = 0; lane < lanes; ++lane) {
    work[(row_begin + lane) * L + lane] = compute_t(1);
    live[row_begin + lane] = 1;
  }

  for (int64_t k = 0; k < count; ++k) {
    const int32_t i = pairs[2 * k];
    const int32_t j = pairs[2 * k + 1];
    if (!(live[i] | live[j])) continue;
    live[i] = live[j] = 1;
    compute_t* xi = work + static_cast<int64_t>(i) * L;
    compute_t* xj = work + static_cast<int64_t>(j) * L;
    const compute_t c = cos_sin[2 * k];
    const compute_t s = cos_sin[2 * k + 1];
    // 16-byte vectors (GCC/Clang vector extension; SSE2 is the x86-64 baseline): each
    // chunk is loaded from both coordinates before either is stored, so the compiler
    // need not prove xi and xj apart, which left plain lane loops scalar.
    for (int64_t q = 0; q < L; q += kChunk) {
      Chunk a, b;
      std::memcpy(&a, xi + q, sizeof(Chunk));
      std::memcpy(&b, xj + q, sizeof(Chunk));
      const Chunk rotated_i = c * a - s * b;
      const Chunk rotated_j = s * a + c * b;
      std::memcpy(xi + q, &rotated_i, sizeof(Chunk));
      std::memcpy(xj + q, &rotated_j, sizeof(Chunk));
    }
  }

  // `+ 0` writes every zero as +0 (-0 + +0 = +0; any other value is unchanged): a
  // rotation of two zero coordinates can leave -0, and the backends rotate different
  // zeros (this one skips coordinates that are zero in its whole tile, the GPU does not),
  // so without it equal matrices differed in the sign bit (issue 16, item 7).
  const int64_t last_coord = coord_end < 0 ? m : coord_end;
  if (col_stride == 1) {
    // Rows of the output are contiguous: a transpose of the tile (tile_rows_out.h).
    write_tile_rows<L>(work, lanes, coord_begin, last_coord, gain, out, row_stride);
  } else {
    for (int64_t col = coord_begin; col < last_coord; ++col) {
      out_t* dst = out + (col - coord_begin) * col_stride;
      const compute_t* src = work + col * L;
      for (int64_t lane = 0; lane < lanes; ++lane)
        dst[lane * row_stride] = static_cast<out_t>(gain * src[lane] + compute_t(0));
    }
  }
}

}  // namespace eoi
