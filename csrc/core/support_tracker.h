// Symbolic support tracking (docs/algorithm.md, "Symbolic support tracking"): finds how many rotations a matrix needs
// and its mask without touching a single floating-point value.
//
// A = [I_n | 0] G_1 ... G_R has n rows and m >= n columns. Column c of A can be
// nonzero only on the rows in S_c, kept as a bitset of `words = ceil(n / 64)` words.
// A rotation on (i, j) sets S_i = S_j = S_i | S_j, so the symbolic nonzero count
// changes by 2|S_i | S_j| - |S_i| - |S_j| = |S_i ^ S_j|: O(n / 64) word operations per
// rotation.
#pragma once

#include <cstdint>
#include <vector>

#include "support_words.h"

namespace eoi {

inline int64_t support_words(int64_t n) { return (n + 63) / 64; }

// Which rotation count to stop at, for target count t = density * n * m.
enum class StopRule {
  // The published rule: the first R with nnz(R) >= t, or R - 1 if nnz(R - 1) is
  // strictly closer to t.
  kNearest,
  // For exact_density: the last R with nnz(R) <= t (the first R that reaches full
  // support when t >= n * m, since nnz can then never exceed t).
  kAtMost,
};

class SupportTracker {
 public:
  // `bits` holds m * support_words(n) words, owned by the caller; it is reset to the
  // support of [I_n | 0]: S_c = {c} for c < n, empty otherwise.
  SupportTracker(int64_t n, int64_t m, uint64_t* bits);
  // Adopts `bits` as they are, with `nnz` set bits: resumes, for its last rotations, a
  // tracking that the parallel tracker (parallel_tracker.h) carried to this point.
  SupportTracker(int64_t n, int64_t m, uint64_t* bits, int64_t nnz);

  int64_t nnz() const { return nnz_; }
  int64_t m() const { return m_; }
  bool full() const { return nnz_ == n_ * m_; }

  // The count a rotation on (i, j) would give, without applying it:
  // 2|S_i | S_j| - |S_i| - |S_j| = |S_i ^ S_j|, one popcount per word. Inline, like the
  // next two, so the POPCNT clone of sample_rotations_from compiles them with POPCNT
  // (support_words.h).
  int64_t nnz_after(int64_t i, int64_t j) const {
    return nnz_ + symmetric_difference_size(bits_ + i * words_, bits_ + j * words_, words_);
  }
  // S_i = S_j = S_i | S_j. Returns the new symbolic nonzero count.
  int64_t rotate(int64_t i, int64_t j) { return rotate(i, j, nnz_after(i, j)); }
  // The same, for a caller that already has nnz_after(i, j) (the sampler queries it to
  // decide whether to keep the rotation), so the popcount is not done twice.
  int64_t rotate(int64_t i, int64_t j, int64_t nnz_after_rotation) {
    nnz_ = nnz_after_rotation;
    unite_words(bits_ + i * words_, bits_ + j * words_, words_);
    return nnz_;
  }

 private:
  int64_t n_, m_, words_;
  uint64_t* bits_;
  int64_t nnz_;
};

// Draws rotations 0, 1, 2, ... from the stream of `seed` (random_stream.h) until the
// stopping rule holds. Appends the R chosen pairs to `pairs` as (i, j) int32 values
// and their angles to `thetas`, and leaves the support of A after R rotations in
// `support` (m * words words). Returns R. Matrices with m == 1 need no rotation (R = 0).
// (cos, sin) of the angles are left to the caller, which can vectorize them.
int64_t sample_rotations(uint64_t seed, int64_t n, int64_t m, double density, StopRule rule,
                         std::vector<int32_t>& pairs, std::vector<double>& thetas,
                         uint64_t* support);

// The target count density * n * m, and whether the identity already meets the rule
// (then R = 0): shared by sample_rotations and the parallel tracker.
double target_count(int64_t n, int64_t m, double density);
bool stops_at_identity(int64_t n, int64_t m, double target, StopRule rule);

// The loop of sample_rotations from rotation `first` on, for a tracker that holds the
// support after rotations 0 .. first - 1 (whose pairs and angles are in `pairs` and
// `thetas`). Returns R.
int64_t sample_rotations_from(uint64_t seed, int64_t first, double target, StopRule rule,
                              SupportTracker& tracker, std::vector<int32_t>& pairs,
                              std::vector<double>& thetas);

}  // namespace eoi
