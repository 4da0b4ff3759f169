#include "support_tracker.h"

#include <algorithm>
#include <cmath>

#include "random_stream.h"

namespace eoi {

namespace {
inline int64_t popcount(uint64_t x) { return __builtin_popcountll(x); }
}  // namespace

SupportTracker::SupportTracker(int64_t n, int64_t m, uint64_t* bits)
    : n_(n), m_(m), words_(support_words(n)), bits_(bits), nnz_(n), saved_(2 * words_) {
  std::fill(bits_, bits_ + m_ * words_, uint64_t{0});
  for (int64_t c = 0; c < n_; ++c) bits_[c * words_ + c / 64] = uint64_t{1} << (c % 64);
}

int64_t SupportTracker::rotate(int64_t i, int64_t j) {
  uint64_t* si = bits_ + i * words_;
  uint64_t* sj = bits_ + j * words_;
  std::copy(si, si + words_, saved_.begin());
  std::copy(sj, sj + words_, saved_.begin() + words_);
  int64_t before = 0, after = 0;
  for (int64_t w = 0; w < words_; ++w) {
    const uint64_t u = si[w] | sj[w];
    before += popcount(si[w]) + popcount(sj[w]);
    after += 2 * popcount(u);
    si[w] = u;
    sj[w] = u;
  }
  last_i_ = i;
  last_j_ = j;
  last_nnz_ = nnz_;
  nnz_ += after - before;
  return nnz_;
}

void SupportTracker::undo_last() {
  std::copy(saved_.begin(), saved_.begin() + words_, bits_ + last_i_ * words_);
  std::copy(saved_.begin() + words_, saved_.end(), bits_ + last_j_ * words_);
  nnz_ = last_nnz_;
}

int64_t sample_rotations(uint64_t seed, int64_t n, int64_t m, double density, StopRule rule,
                         std::vector<int32_t>& pairs, std::vector<double>& cos_sin,
                         uint64_t* support) {
  SupportTracker tracker(n, m, support);
  const double target = density * static_cast<double>(n) * static_cast<double>(m);
  const auto start_nnz = static_cast<double>(tracker.nnz());
  if (m < 2 || (rule == StopRule::kNearest ? start_nnz >= target : start_nnz > target)) return 0;

  for (int64_t k = 0;; ++k) {
    const RotationDraw r = draw_rotation(seed, k, m);
    const auto before = static_cast<double>(tracker.nnz());
    const auto after = static_cast<double>(tracker.rotate(r.i, r.j));
    bool keep = true;
    bool stop = true;
    if (rule == StopRule::kNearest && after >= target) {
      keep = !(target - before < after - target);
    } else if (rule == StopRule::kAtMost && after > target) {
      keep = false;
    } else {
      // A full support cannot grow: stop there whatever the target (density 1, or a
      // target above n * m).
      stop = tracker.full();
    }
    if (!keep) {
      tracker.undo_last();
      return k;
    }
    pairs.push_back(static_cast<int32_t>(r.i));
    pairs.push_back(static_cast<int32_t>(r.j));
    cos_sin.push_back(std::cos(r.theta));
    cos_sin.push_back(std::sin(r.theta));
    if (stop) return k + 1;
  }
}

}  // namespace eoi
