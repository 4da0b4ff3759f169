// CPU application of a rotation sequence to rows of A = [I_n | 0] G_1 ... G_R
// (DESIGN.md 1.3).
//
// Row r of A is e_r^T G_1 ... G_R: rows are independent, so any row range can be
// computed alone. A tile of kLanes rows is kept coordinate-major in `work`
// (work[c * kLanes + lane]), so each rotation is two contiguous loads of kLanes values,
// four multiplies, two adds and two stores: the compiler vectorizes the lane loop.
// Header-only because it is instantiated for the caller's output type (float, double,
// or a 16-bit float type constructible from float, such as c10::Half).
#pragma once

#include <algorithm>
#include <cstdint>

namespace eoi {

// Lanes per tile: one 64-byte cache line of compute values.
template <typename compute_t>
constexpr int64_t tile_lanes() {
  return 64 / static_cast<int64_t>(sizeof(compute_t));
}

// Applies rotations (i_k, j_k) with (cos_k, sin_k) = cos_sin[2k], cos_sin[2k + 1] to
// rows [row_begin, row_end) of A (at most tile_lanes<compute_t>() rows), and writes
// gain * A[r][c] to out[(r - row_begin) * row_stride + c * col_stride] for all
// c in [0, m). `work` is scratch of m * tile_lanes<compute_t>() values.
//
// Right-multiplying by G(i, j, theta) maps a row x to
//   x_i <- cos * x_i - sin * x_j,   x_j <- sin * x_i + cos * x_j.
template <typename compute_t, typename out_t>
void apply_rotations_tile(const int32_t* pairs, const compute_t* cos_sin, int64_t count,
                          int64_t m, int64_t row_begin, int64_t row_end, compute_t gain,
                          compute_t* work, out_t* out, int64_t row_stride,
                          int64_t col_stride) {
  constexpr int64_t L = tile_lanes<compute_t>();
  const int64_t lanes = row_end - row_begin;
  std::fill(work, work + m * L, compute_t(0));
  for (int64_t lane = 0; lane < lanes; ++lane) work[(row_begin + lane) * L + lane] = compute_t(1);

  for (int64_t k = 0; k < count; ++k) {
    compute_t* __restrict xi = work + static_cast<int64_t>(pairs[2 * k]) * L;
    compute_t* __restrict xj = work + static_cast<int64_t>(pairs[2 * k + 1]) * L;
    const compute_t c = cos_sin[2 * k];
    const compute_t s = cos_sin[2 * k + 1];
#pragma GCC ivdep
    for (int64_t lane = 0; lane < L; ++lane) {
      const compute_t a = xi[lane];
      const compute_t b = xj[lane];
      xi[lane] = c * a - s * b;
      xj[lane] = s * a + c * b;
    }
  }

  if (col_stride == 1) {
    for (int64_t lane = 0; lane < lanes; ++lane) {
      out_t* row = out + lane * row_stride;
      for (int64_t col = 0; col < m; ++col) row[col] = static_cast<out_t>(gain * work[col * L + lane]);
    }
  } else {
    for (int64_t col = 0; col < m; ++col) {
      out_t* dst = out + col * col_stride;
      const compute_t* src = work + col * L;
      for (int64_t lane = 0; lane < lanes; ++lane) dst[lane * row_stride] = static_cast<out_t>(gain * src[lane]);
    }
  }
}

}  // namespace eoi
