// Writing a CPU tile's rows into a row-major output (csrc/core/apply_rotations.h): the
// tile is coordinate-major (work[c * L + lane]), the output row-major, so every value
// moves through a transpose.
//
// Done one value at a time, the transpose cost more than the rotations themselves: for a
// batch of 1000 128 x 128 matrices it took 24 ms on one thread against an 8 ms memset of
// the same output (benchmarks/RESULTS.md, "CPU tile writes"). With SSE the tile is
// transposed in 4 x 4 (float) or 2 x 2 (double) blocks, one 16-byte load per coordinate
// and one 16-byte store per row. The arithmetic is the scalar code's, gain * x + 0 in the
// compute type (the `+ 0` writes zeros as +0, apply_rotations.h), one IEEE operation per
// lane, so both give the same bits (csrc/core/tests/test_apply_rotations.cpp compares).
#pragma once

#include <algorithm>
#include <cstdint>
#include <type_traits>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace eoi {

// gain * work[c * L + lane] + 0 for coordinates [c_begin, c_end) and lanes
// [lane_begin, lane_end) into out[lane * row_stride + (c - out_c0)], one value at a time.
template <int64_t L, typename compute_t, typename out_t>
inline void write_tile_values(const compute_t* work, int64_t c_begin, int64_t c_end, int64_t lane_begin,
                              int64_t lane_end, compute_t gain, out_t* out, int64_t row_stride,
                              int64_t out_c0) {
  for (int64_t lane = lane_begin; lane < lane_end; ++lane) {
    out_t* dst = out + lane * row_stride - out_c0;
    for (int64_t c = c_begin; c < c_end; ++c) dst[c] = static_cast<out_t>(gain * work[c * L + lane] + compute_t(0));
  }
}

#if defined(__SSE2__)
// One block of kSide lanes x kSide coordinates, [lane0, lane0 + kSide) x [c, c + kSide).
inline void write_tile_block(const float* work, int64_t L, int64_t c, int64_t lane0, __m128 gain, float* out,
                             int64_t row_stride) {
  __m128 r0 = _mm_loadu_ps(work + (c + 0) * L + lane0);
  __m128 r1 = _mm_loadu_ps(work + (c + 1) * L + lane0);
  __m128 r2 = _mm_loadu_ps(work + (c + 2) * L + lane0);
  __m128 r3 = _mm_loadu_ps(work + (c + 3) * L + lane0);
  _MM_TRANSPOSE4_PS(r0, r1, r2, r3);  // r_k: lane lane0 + k, coordinates c .. c + 3
  const __m128 zero = _mm_setzero_ps();
  _mm_storeu_ps(out + 0 * row_stride + c, _mm_add_ps(_mm_mul_ps(gain, r0), zero));
  _mm_storeu_ps(out + 1 * row_stride + c, _mm_add_ps(_mm_mul_ps(gain, r1), zero));
  _mm_storeu_ps(out + 2 * row_stride + c, _mm_add_ps(_mm_mul_ps(gain, r2), zero));
  _mm_storeu_ps(out + 3 * row_stride + c, _mm_add_ps(_mm_mul_ps(gain, r3), zero));
}

inline void write_tile_block(const double* work, int64_t L, int64_t c, int64_t lane0, __m128d gain, double* out,
                             int64_t row_stride) {
  const __m128d a = _mm_loadu_pd(work + c * L + lane0);  // coordinate c, lanes lane0, lane0 + 1
  const __m128d b = _mm_loadu_pd(work + (c + 1) * L + lane0);
  const __m128d zero = _mm_setzero_pd();
  _mm_storeu_pd(out + c, _mm_add_pd(_mm_mul_pd(gain, _mm_unpacklo_pd(a, b)), zero));
  _mm_storeu_pd(out + row_stride + c, _mm_add_pd(_mm_mul_pd(gain, _mm_unpackhi_pd(a, b)), zero));
}
#endif

// Writes gain * A[lane][c] for lanes [0, lanes) and coordinates [coord_begin, coord_end)
// to out[lane * row_stride + (c - coord_begin)], from the tile work[c * L + lane].
template <int64_t L, typename compute_t, typename out_t>
void write_tile_rows(const compute_t* work, int64_t lanes, int64_t coord_begin, int64_t coord_end,
                     compute_t gain, out_t* out, int64_t row_stride) {
  // Blocks of kBlock coordinates (one cache line of each output row), so the tile's reads
  // stay in L1 when m is large.
  constexpr int64_t kBlock = 16;
#if defined(__SSE2__)
  constexpr bool kSimd = std::is_same_v<compute_t, out_t> &&
                         (std::is_same_v<compute_t, float> || std::is_same_v<compute_t, double>);
#else
  constexpr bool kSimd = false;
#endif
  for (int64_t c0 = coord_begin; c0 < coord_end; c0 += kBlock) {
    const int64_t c1 = std::min(c0 + kBlock, coord_end);
    if constexpr (kSimd) {
#if defined(__SSE2__)
      constexpr int64_t kSide = 16 / sizeof(compute_t);
      const auto g = [&] {
        if constexpr (std::is_same_v<compute_t, float>) return _mm_set1_ps(gain);
        else return _mm_set1_pd(gain);
      }();
      const int64_t lanes_simd = lanes / kSide * kSide;
      const int64_t c_simd = c0 + (c1 - c0) / kSide * kSide;
      for (int64_t lane0 = 0; lane0 < lanes_simd; lane0 += kSide)
        for (int64_t c = c0; c < c_simd; c += kSide)
          write_tile_block(work, L, c, lane0, g, out + lane0 * row_stride - coord_begin, row_stride);
      write_tile_values<L>(work, c_simd, c1, 0, lanes, gain, out, row_stride, coord_begin);
      write_tile_values<L>(work, c0, c_simd, lanes_simd, lanes, gain, out, row_stride, coord_begin);
#endif
    } else {
      write_tile_values<L>(work, c0, c1, 0, lanes, gain, out, row_stride, coord_begin);
    }
  }
}

}  // namespace eoi
