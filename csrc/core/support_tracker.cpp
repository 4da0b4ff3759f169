#include "support_tracker.h"

#include <algorithm>

#include "random_stream.h"

namespace eoi {

namespace {

// |a ^ b| summed over `words` words. POPCNT is not in the x86-64 baseline the wheel
// targets, and the software fallback made tracking 3x slower: on x86-64 Linux the
// compiler emits a POPCNT clone and picks it at load time where the CPU has it.
#if defined(__x86_64__) && defined(__linux__) && (defined(__GNUC__) || defined(__clang__))
__attribute__((target_clones("popcnt", "default")))
#endif
int64_t symmetric_difference_size(const uint64_t* a, const uint64_t* b, int64_t words) {
  int64_t count = 0;
  for (int64_t w = 0; w < words; ++w) count += __builtin_popcountll(a[w] ^ b[w]);
  return count;
}

}  // namespace

SupportTracker::SupportTracker(int64_t n, int64_t m, uint64_t* bits)
    : n_(n), m_(m), words_(support_words(n)), bits_(bits), nnz_(n) {
  std::fill(bits_, bits_ + m_ * words_, uint64_t{0});
  for (int64_t c = 0; c < n_; ++c) bits_[c * words_ + c / 64] = uint64_t{1} << (c % 64);
}

int64_t SupportTracker::nnz_after(int64_t i, int64_t j) const {
  return nnz_ + symmetric_difference_size(bits_ + i * words_, bits_ + j * words_, words_);
}

int64_t SupportTracker::rotate(int64_t i, int64_t j, int64_t nnz_after_rotation) {
  nnz_ = nnz_after_rotation;
  uint64_t* si = bits_ + i * words_;
  uint64_t* sj = bits_ + j * words_;
  for (int64_t w = 0; w < words_; ++w) si[w] = sj[w] = si[w] | sj[w];
  return nnz_;
}

int64_t sample_rotations(uint64_t seed, int64_t n, int64_t m, double density, StopRule rule,
                         std::vector<int32_t>& pairs, std::vector<double>& thetas,
                         uint64_t* support) {
  SupportTracker tracker(n, m, support);
  const double target = density * static_cast<double>(n) * static_cast<double>(m);
  const auto start_nnz = static_cast<double>(tracker.nnz());
  if (m < 2 || (rule == StopRule::kNearest ? start_nnz >= target : start_nnz > target)) return 0;

  auto accept = [&](const RotationDraw& r, int64_t nnz_after_rotation) {
    tracker.rotate(r.i, r.j, nnz_after_rotation);
    pairs.push_back(static_cast<int32_t>(r.i));
    pairs.push_back(static_cast<int32_t>(r.j));
    thetas.push_back(r.theta);
  };
  for (int64_t k = 0;; ++k) {
    const RotationDraw r = draw_rotation(seed, k, m);
    const auto before = static_cast<double>(tracker.nnz());
    const int64_t after_count = tracker.nnz_after(r.i, r.j);
    const auto after = static_cast<double>(after_count);
    if (rule == StopRule::kNearest && after >= target) {
      if (target - before < after - target) return k;  // R - 1 is strictly closer
      accept(r, after_count);
      return k + 1;
    }
    if (rule == StopRule::kAtMost && after > target) return k;
    accept(r, after_count);
    // A full support cannot grow: stop there whatever the target (density 1, or a
    // target above n * m).
    if (tracker.full()) return k + 1;
  }
}

}  // namespace eoi
