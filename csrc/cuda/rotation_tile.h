// The phases of the CUDA apply kernel (apply_plans.cu) for one tile of rows of one
// matrix, written as host/device functions of (thread, threads).
//
// The kernel runs each phase with all threads of a block and puts a barrier after it.
// Within a phase no thread reads a value another thread writes (the rotations of one
// level touch disjoint coordinates, docs/levels.md, "ASAP levels"), so running the threads one after
// another gives the kernel's result: csrc/cuda/tests/test_rotation_tile.cpp does that on
// the CPU (both tile locations, several thread orders and block sizes) and compares with
// the CPU kernel, which is how this code is tested on machines without a GPU.
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

// The storage of block `block`'s tile (m * pitch values): its own shared memory, or slot
// `block` of the workspace, where the block computes each of its tiles in turn
// (apply_plans.cu). Where the tile lives is a compile-time case of the kernel
// (apply_plans.cu instantiates both and picks by ApplyTiling::in_shared): in the shared case
// the pointer comes straight from the kernel's `extern __shared__` array, so nvcc sees its
// address space and emits ld.shared / st.shared; chosen at run time, the two pointers merged
// into a generic one and every tile access was a generic ld / st (issue 16, item 3).
template <bool kInShared, typename compute_t>
EOI_HOST_DEVICE inline compute_t* tile_storage(unsigned char* shared, void* workspace, int64_t block, int64_t m,
                                               int32_t pitch) {
  if constexpr (kInShared) return reinterpret_cast<compute_t*>(shared);
  else return static_cast<compute_t*>(workspace) + block * m * pitch;
}

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

// One rotation of the level-ordered schedule: its pair (i, j) and its (cos, sin), each
// loaded as one 8- or 16-byte vector. On the device the loads go through the read-only
// path (__ldg: ld.global.nc.v2), as the schedule never changes during a launch; on the host
// (the emulation) they are plain loads.
struct RotationPair {
  int32_t i, j;
};

template <typename compute_t>
struct RotationCosSin {
  compute_t c, s;
};

// The vector loads need rotation q's pair at an 8-byte boundary and its (cos, sin) at a
// 2 * sizeof(compute_t) one: true when both arrays start at such a boundary, since rotation
// q is at element 2q of each. The binding's buffers come from the CUDA caching allocator
// (csrc/ops_cuda.cpp) and the tests' from cudaMalloc, both 256-byte aligned; the launcher
// refuses others (apply_plans.cu).
template <typename compute_t>
inline bool schedule_aligned(const int32_t* pairs, const void* cos_sin) {
  return reinterpret_cast<uintptr_t>(pairs) % sizeof(RotationPair) == 0 &&
         reinterpret_cast<uintptr_t>(cos_sin) % sizeof(RotationCosSin<compute_t>) == 0;
}

EOI_HOST_DEVICE inline RotationPair load_pair(const int32_t* __restrict__ pairs, int64_t q) {
#if defined(__CUDA_ARCH__)
  const int2 v = __ldg(reinterpret_cast<const int2*>(pairs) + q);
  return {v.x, v.y};
#else
  return {pairs[2 * q], pairs[2 * q + 1]};
#endif
}

template <typename compute_t>
EOI_HOST_DEVICE inline RotationCosSin<compute_t> load_cos_sin(const compute_t* __restrict__ cos_sin,
                                                              int64_t q) {
#if defined(__CUDA_ARCH__)
  if constexpr (sizeof(compute_t) == 4) {
    const float2 v = __ldg(reinterpret_cast<const float2*>(cos_sin) + q);
    return {v.x, v.y};
  } else {
    const double2 v = __ldg(reinterpret_cast<const double2*>(cos_sin) + q);
    return {v.x, v.y};
  }
#else
  return {cos_sin[2 * q], cos_sin[2 * q + 1]};
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

// The coordinates of a full tile: all m, coordinate c at slot c. A compact tile's set
// (compact_tile.h, CompactSet) holds only some, at their ranks (-1: not in the set). The
// phases below take either, so the two tiles share their code.
struct EveryCoordinate {
  static constexpr bool kAll = true;
  EOI_HOST_DEVICE int32_t slot(int64_t c) const { return static_cast<int32_t>(c); }  // c < m < 2^31
};

// Phase 2: row r starts as the unit vector e_{first_row + r} (first_row + r < n <= m), of
// a tile values[slot * pitch + lane] whose slots come from `coordinates`.
template <typename compute_t, typename Coordinates>
EOI_HOST_DEVICE void set_identity_rows(compute_t* values, int64_t first_row, int32_t rows, int32_t pitch,
                                       const Coordinates& coordinates, int64_t thread, int64_t threads) {
  for (int64_t r = thread; r < rows; r += threads)
    values[static_cast<int64_t>(coordinates.slot(first_row + r)) * pitch + r] = compute_t(1);
}

template <typename compute_t>
EOI_HOST_DEVICE void tile_set_identity(const RotationTile<compute_t>& tile, int64_t thread,
                                       int64_t threads) {
  set_identity_rows(tile.values, tile.first_row, tile.rows, tile.pitch, EveryCoordinate{}, thread, threads);
}

// Rotations a thread of tile_apply_level takes at a time: it loads all of them (pair,
// cos / sin, the two tile values) before it stores any, so their latencies overlap instead
// of adding up (issue 16, item 3). 2 in float64: with 4, the 64 registers a thread has at
// 1024 threads per block did not hold the group and ptxas spilled (sm_90).
template <typename compute_t>
constexpr int32_t kRotationGroup = sizeof(compute_t) == 4 ? 4 : 2;

// Phase 3, once per level: applies rotations begin .. end - 1 of the level-ordered
// schedule (pairs (i, j), cos_sin (cos, sin)) to every row of a tile (values[slot * pitch +
// lane] for `rows` lanes, slots from `coordinates`):
//   x_i <- cos * x_i - sin * x_j,   x_j <- sin * x_i + cos * x_j.
// Each thread keeps one row lane and strides over the level's rotations, so the loop
// has no division; it takes its rotations kRotationGroup at a time. Loading a group's
// values before storing any gives the same bits as rotation after rotation because a
// level's rotations touch disjoint coordinates (docs/levels.md, "ASAP levels"): no
// rotation of the group reads a value another one writes, in this thread or in another.
// Past the level's end a group member loads rotation q again and stores nothing, so the
// loads need no branch and the compiler can issue them together; so does a rotation with a
// coordinate outside a compact tile's set, which it skips (it maps zeros to zeros,
// docs/levels.md, "Compact tiles"), loading slot 0. Needs threads >= rows.
template <typename compute_t, typename Coordinates>
EOI_HOST_DEVICE void apply_level_to_rows(compute_t* values, int32_t rows, int32_t pitch,
                                         const Coordinates& coordinates, const int32_t* __restrict__ pairs,
                                         const compute_t* __restrict__ cos_sin, int64_t begin, int64_t end,
                                         int64_t thread, int64_t threads) {
  constexpr int32_t group = kRotationGroup<compute_t>;
  const int64_t per_pass = threads / rows;  // rotations applied side by side
  if (thread >= per_pass * rows) return;
  const int64_t lane = thread % rows;
  for (int64_t q = begin + thread / rows; q < end; q += group * per_pass) {
    RotationCosSin<compute_t> cs[group];
    compute_t* xi[group];
    compute_t* xj[group];
    compute_t a[group];
    compute_t b[group];
    bool store[group];
    for (int32_t g = 0; g < group; ++g) {
      const int64_t next = q + g * per_pass;
      const int64_t rotation = next < end ? next : q;
      const RotationPair ij = load_pair(pairs, rotation);
      cs[g] = load_cos_sin(cos_sin, rotation);
      int32_t si = ij.i, sj = ij.j;
      store[g] = next < end;
      if constexpr (!Coordinates::kAll) {
        si = coordinates.slot(ij.i);
        sj = coordinates.slot(ij.j);
        store[g] = store[g] && si >= 0 && sj >= 0;
        si = si >= 0 ? si : 0;
        sj = sj >= 0 ? sj : 0;
      }
      xi[g] = values + static_cast<int64_t>(si) * pitch + lane;
      xj[g] = values + static_cast<int64_t>(sj) * pitch + lane;
      a[g] = *xi[g];
      b[g] = *xj[g];
    }
    for (int32_t g = 0; g < group; ++g) {
      if (!store[g]) continue;
      *xi[g] = sub_rn(mul_rn(cs[g].c, a[g]), mul_rn(cs[g].s, b[g]));
      *xj[g] = add_rn(mul_rn(cs[g].s, a[g]), mul_rn(cs[g].c, b[g]));
    }
  }
}

// Phase 3 on a full tile.
template <typename compute_t>
EOI_HOST_DEVICE void tile_apply_level(const RotationTile<compute_t>& tile, const int32_t* __restrict__ pairs,
                                      const compute_t* __restrict__ cos_sin, int64_t begin, int64_t end,
                                      int64_t thread, int64_t threads) {
  apply_level_to_rows(tile.values, tile.rows, tile.pitch, EveryCoordinate{}, pairs, cos_sin, begin, end, thread,
                      threads);
}

// Phase 4: writes gain * A[first_row + r][c] for the coordinates c in
// [coord_begin, coord_end) to out[r * row_stride + (c - coord_begin) * col_stride], from a
// tile values[slot * pitch + lane] whose slots come from `coordinates` (a coordinate outside
// a compact set is +0), walking the output's contiguous side so consecutive threads write
// consecutive addresses. Needs threads >= rows.
template <typename compute_t, typename out_t, typename Coordinates>
EOI_HOST_DEVICE void write_rows(const compute_t* values, int32_t rows, int32_t pitch, const Coordinates& coordinates,
                                compute_t gain, out_t* out, int64_t row_stride, int64_t col_stride,
                                int64_t coord_begin, int64_t coord_end, int64_t thread, int64_t threads) {
  // `+ 0`: every zero is written as +0, as the CPU core writes it (core/apply_rotations.h).
  const auto value = [&](int64_t c, int64_t r) {
    compute_t x;
    if constexpr (Coordinates::kAll) {
      x = values[c * pitch + r];
    } else {
      const int32_t s = coordinates.slot(c);
      x = s >= 0 ? values[static_cast<int64_t>(s) * pitch + r] : compute_t(0);
    }
    return OutputCast<out_t>::from(add_rn(mul_rn(gain, x), compute_t(0)));
  };
  const int64_t width = coord_end - coord_begin;
  if (col_stride == 1) {
    // Rows of the output are contiguous (W = gain * A): threads walk the coordinates.
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t c = thread; c < width; c += threads) out[r * row_stride + c] = value(coord_begin + c, r);
    }
  } else {
    // Row r of A is column r of the output (W = gain * A^T, row_stride == 1): the tile's
    // rows of one coordinate are contiguous there, one lane per row.
    const int64_t per_pass = threads / rows;
    if (thread >= per_pass * rows) return;
    const int64_t lane = thread % rows;
    for (int64_t c = thread / rows; c < width; c += per_pass)
      out[lane * row_stride + c * col_stride] = value(coord_begin + c, lane);
  }
}

template <typename compute_t, typename out_t>
EOI_HOST_DEVICE void tile_write(const RotationTile<compute_t>& tile, compute_t gain, out_t* out,
                                int64_t row_stride, int64_t col_stride, int64_t coord_begin,
                                int64_t coord_end, int64_t thread, int64_t threads) {
  write_rows(tile.values, tile.rows, tile.pitch, EveryCoordinate{}, gain, out, row_stride, col_stride, coord_begin,
             coord_end, thread, threads);
}

}  // namespace eoi::gpu
