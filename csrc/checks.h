// Argument checks shared by the CPU and CUDA bindings (ops.cpp, ops_cuda.cpp): every op
// validates its inputs before touching an output, with an error naming the argument.
// eoi_ext/fallback/checks.py mirrors them with the same messages, and the fake kernels in
// eoi_ext/ops.py run the ones that need no data (tests/test_op_validation.py).
#pragma once

#include <ATen/ATen.h>
#include <c10/util/Exception.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <new>
#include <vector>

#include "core/support_tracker.h"

namespace eoi_ext {

// The largest side a plan may have: pair indices are int32 (docs/backends.md, "The
// compiled ops"). A larger m, or a negative one, would size scratch and bitsets from a
// meaningless number.
constexpr int64_t kMaxSide = std::numeric_limits<int32_t>::max();
// More host memory than one op may ask for: 2^48 bytes is the whole address space of
// common 64-bit CPUs (48-bit virtual addresses), so a larger plan is a wrong argument,
// not a memory shortage.
constexpr int64_t kMaxHostBytes = int64_t{1} << 48;

inline void check_cpu_contiguous(const at::Tensor& t, const char* name, at::ScalarType dtype) {
  TORCH_CHECK(t.device().is_cpu(), "eoi_ext: ", name,
              " must be a CPU tensor (plans, seeds and supports are built on the CPU), got ",
              t.device());
  TORCH_CHECK(t.scalar_type() == dtype, "eoi_ext: ", name, " must have dtype ", dtype, ", got ",
              t.scalar_type());
  TORCH_CHECK(t.is_contiguous(), "eoi_ext: ", name, " must be contiguous");
}

// The larger side m of a plan: 1 <= m <= 2^31 - 1.
inline void check_m(int64_t m) {
  TORCH_CHECK(1 <= m && m <= kMaxSide, "eoi_ext: m must be in [1, 2^31 - 1] (pairs are int32), got ", m);
}

// Both sides of a plan: 1 <= n <= m <= 2^31 - 1.
inline void check_sides(int64_t n, int64_t m) {
  check_m(m);
  TORCH_CHECK(1 <= n && n <= m, "eoi_ext: n must be in [1, m = ", m, "], got ", n);
}

// Validates the rotation lists (offsets, pairs) of a plan whose larger side is m, so the
// kernels never index outside their scratch, and every pair is a rotation (i != j: a
// "rotation" of a coordinate with itself is not orthogonal). Returns the number of
// coordinates the rotations touch (1 + the largest index, 0 without rotations), which
// bounds the scratch of a level schedule.
inline int64_t check_pairs(const at::Tensor& offsets, const at::Tensor& pairs, int64_t m) {
  check_m(m);
  check_cpu_contiguous(offsets, "offsets", at::kLong);
  check_cpu_contiguous(pairs, "pairs", at::kInt);
  TORCH_CHECK(offsets.dim() == 1 && offsets.numel() >= 1, "eoi_ext: offsets must be 1-D (count + 1,)");
  TORCH_CHECK(pairs.dim() == 2 && pairs.size(1) == 2, "eoi_ext: pairs must have shape (R, 2)");
  TORCH_CHECK(offsets[0].item<int64_t>() == 0 && offsets[-1].item<int64_t>() == pairs.size(0),
              "eoi_ext: offsets must start at 0 and end at the number of rotations");
  TORCH_CHECK(offsets.numel() == 1 || (offsets.diff() >= 0).all().item<bool>(),
              "eoi_ext: offsets must be non-decreasing");
  if (pairs.numel() == 0) return 0;
  const int64_t largest = pairs.max().item<int32_t>();
  TORCH_CHECK(pairs.min().item<int32_t>() >= 0 && largest < m,
              "eoi_ext: pairs must lie in [0, m) with m = ", m);
  const at::Tensor degenerate = (pairs.select(1, 0) == pairs.select(1, 1)).nonzero();
  TORCH_CHECK(degenerate.size(0) == 0,
              "eoi_ext: pairs must join two distinct coordinates (i != j), got i == j at rotation ",
              degenerate[0][0].item<int64_t>());
  return largest + 1;
}

// Machine epsilon of a floating-point dtype (the float8 types share bfloat16's bound).
inline double epsilon(at::ScalarType dtype) {
  switch (dtype) {
    case at::kDouble: return std::numeric_limits<double>::epsilon();
    case at::kFloat: return std::numeric_limits<float>::epsilon();
    case at::kHalf: return 0x1p-10;
    default: return 0x1p-7;
  }
}

// Validates (offsets, pairs, cos_sin) of a plan whose larger side is m: every (cos, sin)
// is a unit vector to the rounding of its dtype, so the applied product is orthogonal
// (a NaN or a scaled angle fails here, not in the weights). Returns check_pairs' count of
// coordinates touched.
inline int64_t check_plan(const at::Tensor& offsets, const at::Tensor& pairs, const at::Tensor& cos_sin,
                          int64_t m) {
  const int64_t coords = check_pairs(offsets, pairs, m);
  TORCH_CHECK(cos_sin.device().is_cpu() && cos_sin.is_floating_point(),
              "eoi_ext: cos_sin must be a floating-point CPU tensor");
  TORCH_CHECK(cos_sin.dim() == 2 && cos_sin.size(1) == 2 && cos_sin.size(0) == pairs.size(0),
              "eoi_ext: cos_sin must have shape (R, 2) like pairs");
  if (cos_sin.numel() == 0) return coords;
  // argmax picks a NaN first, and a NaN fails the comparison.
  const at::Tensor error = (cos_sin.to(at::kDouble).square().sum(1) - 1.0).abs();
  const int64_t worst = error.argmax().item<int64_t>();
  const double worst_error = error[worst].item<double>();
  TORCH_CHECK(worst_error <= 16 * epsilon(cos_sin.scalar_type()),
              "eoi_ext: cos_sin must hold unit vectors (cos^2 + sin^2 = 1 to the rounding of ",
              cos_sin.scalar_type(), "), got |cos^2 + sin^2 - 1| = ", worst_error, " at rotation ", worst);
  return coords;
}

// gain must be finite with gain^2 finite in out's dtype (the limit of
// eoi_ext/checks.py check_gain_fits): a gain that overflows the compute type would turn
// the zeros outside the mask into inf * 0 = NaN (docs/reliability.md, "Exact zeros
// outside the mask"). Other dtypes are refused by the op's dtype check.
inline void check_gain(double gain, at::ScalarType out_dtype) {
  TORCH_CHECK(std::isfinite(gain), "eoi_ext: gain must be finite, got ", gain);
  double largest = 0.0;
  switch (out_dtype) {
    case at::kDouble: largest = std::numeric_limits<double>::max(); break;
    case at::kFloat: largest = std::numeric_limits<float>::max(); break;
    case at::kBFloat16: largest = static_cast<double>(std::numeric_limits<c10::BFloat16>::max()); break;
    case at::kHalf: largest = 65504.0; break;
    default: return;
  }
  const double limit = std::sqrt(largest);
  TORCH_CHECK(std::fabs(gain) <= limit, "eoi_ext: gain must be at most ", limit, " in magnitude for out's dtype ",
              out_dtype, " (gain^2 must be finite in it), got ", gain);
}

// Resolves a coordinate window (coord_end = -1 means m; no other negative does) after
// checking 0 <= coord_begin <= coord_end <= m; returns coord_end.
inline int64_t coord_window_end(int64_t m, int64_t coord_begin, int64_t coord_end) {
  TORCH_CHECK(coord_end >= -1, "eoi_ext: coord_end must be -1 (meaning m) or in [coord_begin, m], got ",
              coord_end);
  const int64_t end = coord_end == -1 ? m : coord_end;
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
// the CPU ops; the CPU or the output's GPU for the CUDA ops) of plans with sides n, m.
inline void check_support(const at::Tensor& support, int64_t n, int64_t m) {
  check_sides(n, m);
  TORCH_CHECK(support.scalar_type() == at::kLong && support.is_contiguous(),
              "eoi_ext: support must be a contiguous int64 tensor");
  TORCH_CHECK(support.dim() == 3 && support.size(1) == m && support.size(2) == eoi::support_words(n),
              "eoi_ext: support must have shape (count, m = ", m, ", ceil(n / 64) = ", eoi::support_words(n),
              "), got ", support.sizes());
}

// The arguments of top_up_masks but mask's device and dtype (checked by each binding):
// seeds (count,) int64 on the CPU, target_count >= 0, mask (count, rows, cols).
inline void check_top_up(const at::Tensor& seeds, int64_t target_count, const at::Tensor& mask) {
  check_cpu_contiguous(seeds, "seeds", at::kLong);
  TORCH_CHECK(seeds.dim() == 1, "eoi_ext: seeds must be 1-D (count,)");
  TORCH_CHECK(target_count >= 0, "eoi_ext: target_count must be >= 0, got ", target_count);
  TORCH_CHECK(mask.dim() == 3 && mask.size(0) == seeds.size(0),
              "eoi_ext: mask must have shape (count, rows, cols) with count = len(seeds)");
}

// Runs `body`, which allocates host memory sized by the op's arguments (scratch of m
// values per thread, rotation lists, supports), so that a size the machine cannot hold
// fails as torch.OutOfMemoryError naming `what`, never as a raw std::bad_alloc or a bare
// allocator message.
template <typename Body>
void with_host_memory(const char* what, int64_t m, Body&& body) {
  try {
    body();
  } catch (const std::bad_alloc&) {
    TORCH_CHECK_WITH(OutOfMemoryError, false, "eoi_ext: not enough host memory for ", what, " (m = ", m, ")");
  } catch (const c10::OutOfMemoryError& error) {
    TORCH_CHECK_WITH(OutOfMemoryError, false, "eoi_ext: not enough host memory for ", what, " (m = ", m,
                     "): ", error.what_without_backtrace());
  }
}

}  // namespace eoi_ext
