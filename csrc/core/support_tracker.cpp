#include "support_tracker.h"

#include <algorithm>

#include "random_stream.h"

namespace eoi {

SupportTracker::SupportTracker(int64_t n, int64_t m, uint64_t* bits)
    : n_(n), m_(m), words_(support_words(n)), bits_(bits), nnz_(n) {
  std::fill(bits_, bits_ + m_ * words_, uint64_t{0});
  for (int64_t c = 0; c < n_; ++c) bits_[c * words_ + c / 64] = uint64_t{1} << (c % 64);
}

SupportTracker::SupportTracker(int64_t n, int64_t m, uint64_t* bits, int64_t nnz)
    : n_(n), m_(m), words_(support_words(n)), bits_(bits), nnz_(nnz) {}

double target_count(int64_t n, int64_t m, double density) {
  return density * static_cast<double>(n) * static_cast<double>(m);
}

bool stops_at_identity(int64_t n, int64_t m, double target, StopRule rule) {
  const auto start_nnz = static_cast<double>(n);
  return m < 2 || (rule == StopRule::kNearest ? start_nnz >= target : start_nnz > target);
}

int64_t sample_rotations(uint64_t seed, int64_t n, int64_t m, double density, StopRule rule,
                         std::vector<int32_t>& pairs, std::vector<double>& thetas,
                         uint64_t* support) {
  SupportTracker tracker(n, m, support);
  const double target = target_count(n, m, density);
  if (stops_at_identity(n, m, target, rule)) return 0;
  return sample_rotations_from(seed, 0, target, rule, tracker, pairs, thetas);
}

EOI_POPCNT_CLONES
int64_t sample_rotations_from(uint64_t seed, int64_t first, double target, StopRule rule,
                              SupportTracker& tracker, std::vector<int32_t>& pairs,
                              std::vector<double>& thetas) {
  auto accept = [&](const RotationDraw& r, int64_t nnz_after_rotation) {
    tracker.rotate(r.i, r.j, nnz_after_rotation);
    pairs.push_back(static_cast<int32_t>(r.i));
    pairs.push_back(static_cast<int32_t>(r.j));
    thetas.push_back(r.theta);
  };
  for (int64_t k = first;; ++k) {
    const RotationDraw r = draw_rotation(seed, k, tracker.m());
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
