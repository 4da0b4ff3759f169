// The phases of the CUDA apply kernel (apply_plans.cu) for one tile of rows of one
// matrix, written as host/device functions of (thread, threads).
//
// The kernel runs each phase with all threads of a block and puts a barrier after it.
// Within a phase no thread reads a value another thread writes (the rotations of one
// level touch disjoint coordinates, docs/levels.md, "ASAP levels"), so running the threads one after
// another gives the kernel's result: csrc/cuda/tests/test_rotation_tile.cpp does that on
// the CPU and compares with the CPU kernel, which is how this code is tested on
// machines without a GPU.
#pragma once

#include <cstdint>

#include "core/host_device.h"

namespace eoi::gpu {

// Rows [first_row, first_row + rows) of A (rows of e_r^T G_1 ... G_R), stored
// coordinate-major: values[c * pitch + r] = A[first_row + r][c] for c < m. The rows of
// one coordinate are contiguous, so the threads that apply one rotation to the tile's
// rows touch consecutive words; pitch >= rows is odd, so threads that walk one row
// across coordinates (tile_write) hit distinct shared-memory banks.
template <typename compute_t>
struct RotationTile {
  compute_t* values;
  int64_t m;
  int64_t first_row;
  int32_t rows;
  int32_t pitch;
};

// Where block `block` of a launch works: matrix block / tiles, rows of A from
// row_begin + (block % tiles) * tile_rows (fewer in a matrix's last tile), and where
// those rows go in the output (count, k, width), or (count, width, k) when transposed,
// width = the number of coordinates written (a window of A's m coordinates).
struct TileGeometry {
  int64_t matrix;
  int64_t first_row;
  int32_t rows;
  int64_t out_offset;  // element offset of the tile's first row in the output
  int64_t row_stride;  // output stride between rows of A
  int64_t col_stride;  // output stride between coordinates
};

EOI_HOST_DEVICE inline TileGeometry tile_geometry(int64_t block, int64_t tiles, int32_t tile_rows,
                                                  int64_t width, int64_t row_begin, int64_t row_end,
                                                  bool transposed) {
  const int64_t k = row_end - row_begin;
  TileGeometry g;
  g.matrix = block / tiles;
  g.first_row = row_begin + (block - g.matrix * tiles) * tile_rows;
  const int64_t left = row_end - g.first_row;
  g.rows = static_cast<int32_t>(left < tile_rows ? left : tile_rows);
  g.row_stride = transposed ? 1 : width;
  g.col_stride = transposed ? k : 1;
  g.out_offset = g.matrix * k * width + (g.first_row - row_begin) * g.row_stride;
  return g;
}

// Correctly rounded products and sums, never fused into a multiply-add, so the GPU
// computes cos * a - sin * b with the same roundings as the CPU kernel
// (csrc/core/apply_rotations.h) and the backends agree bit for bit on nonzero entries.
template <typename T>
EOI_HOST_DEVICE inline T mul_rn(T a, T b) {
#if defined(__CUDA_ARCH__)
  if constexpr (sizeof(T) == 4) return __fmul_rn(a, b);
  else return __dmul_rn(a, b);
#else
  return a * b;
#endif
}

template <typename T>
EOI_HOST_DEVICE inline T add_rn(T a, T b) {
#if defined(__CUDA_ARCH__)
  if constexpr (sizeof(T) == 4) return __fadd_rn(a, b);
  else return __dadd_rn(a, b);
#else
  return a + b;
#endif
}

template <typename T>
EOI_HOST_DEVICE inline T sub_rn(T a, T b) {
#if defined(__CUDA_ARCH__)
  if constexpr (sizeof(T) == 4) return __fsub_rn(a, b);
  else return __dsub_rn(a, b);
#else
  return a - b;
#endif
}

// Conversion of a computed value to the output type; apply_plans.cu specializes it for
// the CUDA 16-bit float types (round to nearest even, like c10::Half / c10::BFloat16).
template <typename out_t>
struct OutputCast {
  template <typename compute_t>
  EOI_HOST_DEVICE static out_t from(compute_t value) {
    return static_cast<out_t>(value);
  }
};

// Phase 1: zero the tile.
template <typename compute_t>
EOI_HOST_DEVICE void tile_zero(const RotationTile<compute_t>& tile, int64_t thread,
                               int64_t threads) {
  const int64_t size = tile.m * tile.pitch;
  for (int64_t e = thread; e < size; e += threads) tile.values[e] = compute_t(0);
}

// Phase 2: row r starts as the unit vector e_{first_row + r} (first_row + r < n <= m).
template <typename compute_t>
EOI_HOST_DEVICE void tile_set_identity(const RotationTile<compute_t>& tile, int64_t thread,
                                       int64_t threads) {
  for (int64_t r = thread; r < tile.rows; r += threads)
    tile.values[(tile.first_row + r) * tile.pitch + r] = compute_t(1);
}

// Phase 3, once per level: applies rotations begin .. end - 1 of the level-ordered
// schedule (pairs (i, j), cos_sin (cos, sin)) to every row of the tile:
//   x_i <- cos * x_i - sin * x_j,   x_j <- sin * x_i + cos * x_j.
// Each thread keeps one row lane and strides over the level's rotations, so the loop
// has no division. Needs threads >= tile.rows.
template <typename compute_t>
EOI_HOST_DEVICE void tile_apply_level(const RotationTile<compute_t>& tile, const int32_t* pairs,
                                      const compute_t* cos_sin, int64_t begin, int64_t end,
                                      int64_t thread, int64_t threads) {
  const int64_t per_pass = threads / tile.rows;  // rotations applied side by side
  if (thread >= per_pass * tile.rows) return;
  const int64_t lane = thread % tile.rows;
  for (int64_t q = begin + thread / tile.rows; q < end; q += per_pass) {
    compute_t* xi = tile.values + static_cast<int64_t>(pairs[2 * q]) * tile.pitch + lane;
    compute_t* xj = tile.values + static_cast<int64_t>(pairs[2 * q + 1]) * tile.pitch + lane;
    const compute_t c = cos_sin[2 * q];
    const compute_t s = cos_sin[2 * q + 1];
    const compute_t a = *xi;
    const compute_t b = *xj;
    *xi = sub_rn(mul_rn(c, a), mul_rn(s, b));
    *xj = add_rn(mul_rn(s, a), mul_rn(c, b));
  }
}

// Phase 4: writes gain * A[first_row + r][c] for the coordinates c in
// [coord_begin, coord_end) to out[r * row_stride + (c - coord_begin) * col_stride],
// walking the output's contiguous side so consecutive threads write consecutive
// addresses. Needs threads >= tile.rows.
template <typename compute_t, typename out_t>
EOI_HOST_DEVICE void tile_write(const RotationTile<compute_t>& tile, compute_t gain, out_t* out,
                                int64_t row_stride, int64_t col_stride, int64_t coord_begin,
                                int64_t coord_end, int64_t thread, int64_t threads) {
  // `+ 0`: every zero is written as +0, as the CPU core writes it (core/apply_rotations.h).
  const int64_t width = coord_end - coord_begin;
  const compute_t* values = tile.values + coord_begin * tile.pitch;
  if (col_stride == 1) {
    // Rows of the output are contiguous (W = gain * A): threads walk the coordinates.
    for (int64_t r = 0; r < tile.rows; ++r) {
      for (int64_t c = thread; c < width; c += threads)
        out[r * row_stride + c] =
            OutputCast<out_t>::from(add_rn(mul_rn(gain, values[c * tile.pitch + r]), compute_t(0)));
    }
  } else {
    // Row r of A is column r of the output (W = gain * A^T, row_stride == 1): the tile's
    // rows of one coordinate are contiguous there, one lane per row.
    const int64_t per_pass = threads / tile.rows;
    if (thread >= per_pass * tile.rows) return;
    const int64_t lane = thread % tile.rows;
    for (int64_t c = thread / tile.rows; c < width; c += per_pass)
      out[lane * row_stride + c * col_stride] =
          OutputCast<out_t>::from(add_rn(mul_rn(gain, values[c * tile.pitch + lane]), compute_t(0)));
  }
}

}  // namespace eoi::gpu
