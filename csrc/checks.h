// Argument checks shared by the CPU and CUDA bindings (ops.cpp, ops_cuda.cpp): every op
// validates its inputs before touching an output, with an error naming the argument.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <vector>

#include "core/support_tracker.h"

namespace eoi_ext {

inline void check_cpu_contiguous(const at::Tensor& t, const char* name, at::ScalarType dtype) {
  TORCH_CHECK(t.device().is_cpu(), "eoi_ext: ", name,
              " must be a CPU tensor (plans, seeds and supports are built on the CPU), got ",
              t.device());
  TORCH_CHECK(t.scalar_type() == dtype, "eoi_ext: ", name, " must have dtype ", dtype, ", got ",
              t.scalar_type());
  TORCH_CHECK(t.is_contiguous(), "eoi_ext: ", name, " must be contiguous");
}

// Validates the rotation lists (offsets, pairs) of a plan whose larger side is m, so the
// kernels never index outside their scratch.
inline void check_pairs(const at::Tensor& offsets, const at::Tensor& pairs, int64_t m) {
  check_cpu_contiguous(offsets, "offsets", at::kLong);
  check_cpu_contiguous(pairs, "pairs", at::kInt);
  TORCH_CHECK(offsets.dim() == 1 && offsets.numel() >= 1, "eoi_ext: offsets must be 1-D (count + 1,)");
  TORCH_CHECK(pairs.dim() == 2 && pairs.size(1) == 2, "eoi_ext: pairs must have shape (R, 2)");
  TORCH_CHECK(offsets[0].item<int64_t>() == 0 && offsets[-1].item<int64_t>() == pairs.size(0),
              "eoi_ext: offsets must start at 0 and end at the number of rotations");
  TORCH_CHECK(offsets.numel() == 1 || (offsets.diff() >= 0).all().item<bool>(),
              "eoi_ext: offsets must be non-decreasing");
  if (pairs.numel() > 0) {
    TORCH_CHECK(pairs.min().item<int32_t>() >= 0 && pairs.max().item<int32_t>() < m,
                "eoi_ext: pairs must lie in [0, m) with m = ", m);
  }
}

// Validates (offsets, pairs, cos_sin) of a plan whose larger side is m.
inline void check_plan(const at::Tensor& offsets, const at::Tensor& pairs, const at::Tensor& cos_sin,
                       int64_t m) {
  check_pairs(offsets, pairs, m);
  TORCH_CHECK(cos_sin.device().is_cpu() && cos_sin.is_floating_point(),
              "eoi_ext: cos_sin must be a floating-point CPU tensor");
  TORCH_CHECK(cos_sin.dim() == 2 && cos_sin.size(1) == 2 && cos_sin.size(0) == pairs.size(0),
              "eoi_ext: cos_sin must have shape (R, 2) like pairs");
}

// Resolves a coordinate window (coord_end = -1 means m) after checking
// 0 <= coord_begin <= coord_end <= m; returns coord_end.
inline int64_t coord_window_end(int64_t m, int64_t coord_begin, int64_t coord_end) {
  const int64_t end = coord_end < 0 ? m : coord_end;
  TORCH_CHECK(0 <= coord_begin && coord_begin <= end && end <= m,
              "eoi_ext: need 0 <= coord_begin <= coord_end <= m = ", m, " (coord_end = -1: m), got coord_begin=",
              coord_begin, ", coord_end=", coord_end);
  return end;
}

// Checks 0 <= row_begin <= row_end <= rows and returns the shape of the block of rows
// [row_begin, row_end) and coordinates [coord_begin, coord_end) of `count` matrices A:
// (count, k, w), or (count, w, k) when transposed (k rows, w coordinates).
inline std::vector<int64_t> block_shape(int64_t count, int64_t rows, int64_t row_begin, int64_t row_end,
                                        int64_t coord_begin, int64_t coord_end, bool transposed,
                                        const char* rows_name) {
  TORCH_CHECK(0 <= row_begin && row_begin <= row_end && row_end <= rows,
              "eoi_ext: need 0 <= row_begin <= row_end <= ", rows_name, " = ", rows, ", got row_begin=",
              row_begin, ", row_end=", row_end);
  const int64_t k = row_end - row_begin;
  const int64_t w = coord_end - coord_begin;
  return transposed ? std::vector<int64_t>{count, w, k} : std::vector<int64_t>{count, k, w};
}

// Validates a support tensor (count, m, ceil(n / 64)) int64 (on `device`: the CPU for
// the CPU ops; the CPU or the output's GPU for the CUDA ops).
inline void check_support(const at::Tensor& support, int64_t n, int64_t m) {
  TORCH_CHECK(support.scalar_type() == at::kLong && support.is_contiguous(),
              "eoi_ext: support must be a contiguous int64 tensor");
  TORCH_CHECK(support.dim() == 3 && support.size(1) == m && support.size(2) == eoi::support_words(n),
              "eoi_ext: support must have shape (count, m, ceil(n / 64))");
}

}  // namespace eoi_ext
