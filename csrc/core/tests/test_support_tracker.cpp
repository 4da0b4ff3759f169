// support_tracker: symbolic support against a dense boolean simulation, nnz_after, and the
// two stopping rules of sample_rotations checked by replaying the chosen pairs.
#include "support_tracker.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <utility>
#include <vector>

#include "check.h"
#include "random_stream.h"

using namespace eoi;

namespace {

const std::pair<int64_t, int64_t> kShapes[] = {{3, 1000}, {1, 7}, {70, 130}, {64, 64},
                                                {65, 65}, {2, 2}, {128, 200}, {5, 9}};

// Recount of the bitsets; also fails if any padding bit above row n - 1 is set.
int64_t recount(const std::vector<uint64_t>& bits, int64_t n, int64_t m, bool* padding_clean) {
  const int64_t words = support_words(n);
  int64_t total = 0;
  *padding_clean = true;
  for (int64_t c = 0; c < m; ++c)
    for (int64_t w = 0; w < words; ++w) {
      uint64_t x = bits[c * words + w];
      const int64_t valid = std::min<int64_t>(64, n - 64 * w);
      if (valid < 64 && (x >> valid) != 0) *padding_clean = false;
      for (; x; x &= x - 1) ++total;
    }
  return total;
}

bool bit(const std::vector<uint64_t>& bits, int64_t n, int64_t r, int64_t c) {
  return (bits[c * support_words(n) + r / 64] >> (r % 64)) & 1u;
}

// Dense boolean model: dense[r * m + c] is true where A[r][c] can be nonzero.
struct DenseSupport {
  int64_t n, m;
  std::vector<char> s;
  DenseSupport(int64_t n_, int64_t m_) : n(n_), m(m_), s(n_ * m_, 0) {
    for (int64_t r = 0; r < n; ++r) s[r * m + r] = 1;
  }
  void rotate(int64_t i, int64_t j) {
    for (int64_t r = 0; r < n; ++r) s[r * m + i] = s[r * m + j] = s[r * m + i] | s[r * m + j];
  }
  int64_t nnz() const {
    int64_t t = 0;
    for (char x : s) t += x;
    return t;
  }
  bool same_as(const std::vector<uint64_t>& bits) const {
    for (int64_t r = 0; r < n; ++r)
      for (int64_t c = 0; c < m; ++c)
        if (bit(bits, n, r, c) != (s[r * m + c] != 0)) return false;
    return true;
  }
};

// nnz after each prefix of `pairs` (entry k: after k rotations), and the final bits.
std::vector<int64_t> replay(int64_t n, int64_t m, const std::vector<int32_t>& pairs,
                            std::vector<uint64_t>& bits) {
  bits.assign(m * support_words(n), ~uint64_t{0});
  SupportTracker t(n, m, bits.data());
  std::vector<int64_t> nnz{t.nnz()};
  for (size_t k = 0; k < pairs.size() / 2; ++k) nnz.push_back(t.rotate(pairs[2 * k], pairs[2 * k + 1]));
  return nnz;
}

}  // namespace

static void test_initial_state() {
  for (auto [n, m] : kShapes) {
    std::vector<uint64_t> bits(m * support_words(n), ~uint64_t{0});  // garbage is reset
    SupportTracker t(n, m, bits.data());
    bool clean;
    CHECK(t.nnz() == n);
    CHECK(recount(bits, n, m, &clean) == n);
    CHECK(clean);
    CHECK(DenseSupport(n, m).same_as(bits));
    CHECK(t.full() == (n == m && n == 1));
  }
}

static void test_rotations_match_dense_model() {
  for (auto [n, m] : kShapes) {
    if (m < 2) continue;
    std::vector<uint64_t> bits(m * support_words(n));
    SupportTracker t(n, m, bits.data());
    DenseSupport dense(n, m);
    bool ok = true, clean_all = true;
    for (int64_t k = 0; k < 6 * m && !t.full(); ++k) {
      const RotationDraw r = draw_rotation(11 + n, k, m);
      const int64_t returned = t.rotate(r.i, r.j);
      dense.rotate(r.i, r.j);
      bool clean;
      ok &= returned == t.nnz() && returned == recount(bits, n, m, &clean) && returned == dense.nnz();
      clean_all &= clean;
      if (k % 7 == 0) ok &= dense.same_as(bits);
    }
    CHECK_MSG(ok, "n=%lld m=%lld", (long long)n, (long long)m);
    CHECK(clean_all);
    CHECK(dense.same_as(bits));
  }
}

static void test_nnz_after() {
  for (auto [n, m] : kShapes) {
    if (m < 2) continue;
    std::vector<uint64_t> bits(m * support_words(n));
    SupportTracker t(n, m, bits.data());
    bool ok = true;
    for (int64_t k = 0; k < 3 * m; ++k) {
      const std::vector<uint64_t> before = bits;
      const int64_t nnz_before = t.nnz();
      const RotationDraw r = draw_rotation(77, k, m);
      const int64_t predicted = t.nnz_after(r.i, r.j);
      // A query changes nothing; the rotation then gives exactly the predicted count.
      ok &= bits == before && t.nnz() == nnz_before;
      ok &= t.rotate(r.i, r.j) == predicted && t.nnz() == predicted;
    }
    CHECK_MSG(ok, "n=%lld m=%lld", (long long)n, (long long)m);
  }
}

// Common checks on a sample_rotations result: pairs are the stream's rotations 0..R-1
// with their angles, and `support` is the replayed support. Returns replayed nnz(0..R).
static std::vector<int64_t> check_sample(uint64_t seed, int64_t n, int64_t m, int64_t R,
                                         const std::vector<int32_t>& pairs,
                                         const std::vector<double>& thetas,
                                         const std::vector<uint64_t>& support) {
  CHECK(R >= 0);
  CHECK(static_cast<int64_t>(pairs.size()) == 2 * R);
  CHECK(static_cast<int64_t>(thetas.size()) == R);
  bool ok = true;
  for (int64_t k = 0; k < R && ok; ++k) {
    const RotationDraw r = draw_rotation(seed, k, m);
    ok &= pairs[2 * k] == r.i && pairs[2 * k + 1] == r.j;
    ok &= thetas[k] == r.theta;
  }
  CHECK(ok);
  std::vector<uint64_t> bits;
  std::vector<int64_t> nnz = replay(n, m, pairs, bits);
  CHECK(bits == support);
  return nnz;
}

// nnz after rotation R (the one the sampler drew but did not keep), from state `bits`.
static int64_t nnz_after_next(uint64_t seed, int64_t n, int64_t m, int64_t R,
                              const std::vector<int32_t>& pairs) {
  std::vector<int32_t> more = pairs;
  const RotationDraw r = draw_rotation(seed, R, m);
  more.push_back(static_cast<int32_t>(r.i));
  more.push_back(static_cast<int32_t>(r.j));
  std::vector<uint64_t> bits;
  return replay(n, m, more, bits).back();
}

static void test_stop_rules() {
  const double densities[] = {0.001, 0.01, 0.05, 0.1, 0.125, 0.3, 0.5, 0.77, 0.9, 0.99, 1.0};
  int nearest_cases = 0, dropped_last = 0;
  for (auto [n, m] : kShapes) {
    if (m < 2) continue;
    for (double d : densities)
      for (uint64_t seed : {uint64_t{1}, uint64_t{42}, uint64_t{0xDEADBEEF}}) {
        const double target = d * static_cast<double>(n) * static_cast<double>(m);
        const int64_t full = n * m;
        {  // kNearest
          std::vector<int32_t> pairs;
          std::vector<double> cs;
          std::vector<uint64_t> support(m * support_words(n));
          const int64_t R = sample_rotations(seed, n, m, d, StopRule::kNearest, pairs, cs, support.data());
          std::vector<int64_t> nnz = check_sample(seed, n, m, R, pairs, cs, support);
          for (int64_t k = 0; k + 1 < R; ++k) CHECK_MSG(nnz[k] < target, "k=%lld", (long long)k);
          const auto at = [&](int64_t k) { return static_cast<double>(nnz[k]); };
          bool stopped_here = at(R) >= target && (R == 0 || !(target - at(R - 1) < at(R) - target));
          bool stopped_before = false;
          if (at(R) < target) {
            const auto next = static_cast<double>(nnz_after_next(seed, n, m, R, pairs));
            stopped_before = next >= target && target - at(R) < next - target;
            dropped_last += stopped_before;
          }
          CHECK_MSG(stopped_here != stopped_before, "n=%lld m=%lld d=%g R=%lld", (long long)n,
                    (long long)m, d, (long long)R);
          if (d == 1.0) CHECK(nnz[R] == full);
          if (target <= n) CHECK(R == 0);
          ++nearest_cases;
        }
        {  // kAtMost
          std::vector<int32_t> pairs;
          std::vector<double> cs;
          std::vector<uint64_t> support(m * support_words(n));
          const int64_t R = sample_rotations(seed, n, m, d, StopRule::kAtMost, pairs, cs, support.data());
          std::vector<int64_t> nnz = check_sample(seed, n, m, R, pairs, cs, support);
          for (int64_t k = 0; k <= R; ++k) CHECK(static_cast<double>(nnz[k]) <= target || (k == 0 && R == 0));
          for (int64_t k = 0; k < R; ++k) CHECK(nnz[k] < full);  // stops at the first full support
          if (nnz[R] == full) {
            CHECK(static_cast<double>(full) <= target);
          } else if (static_cast<double>(nnz[0]) <= target) {
            CHECK_MSG(static_cast<double>(nnz_after_next(seed, n, m, R, pairs)) > target,
                      "n=%lld m=%lld d=%g R=%lld", (long long)n, (long long)m, d, (long long)R);
          }
          if (d == 1.0) CHECK(nnz[R] == full);
          if (target < n) CHECK(R == 0);
        }
      }
  }
  CHECK(nearest_cases > 100);
  CHECK(dropped_last > 0);  // the "R - 1 is strictly closer" branch was exercised
}

static void test_edge_cases() {
  std::vector<int32_t> pairs;
  std::vector<double> cs;
  // m == 1: nothing to rotate.
  {
    std::vector<uint64_t> support(1, 0);
    CHECK(sample_rotations(5, 1, 1, 1.0, StopRule::kNearest, pairs, cs, support.data()) == 0);
    CHECK(sample_rotations(5, 1, 1, 1.0, StopRule::kAtMost, pairs, cs, support.data()) == 0);
    CHECK(support[0] == 1 && pairs.empty() && cs.empty());
  }
  // Density below 1/m: R = 0 and the support is [I | 0].
  for (auto [n, m] : kShapes) {
    std::vector<uint64_t> support(m * support_words(n));
    for (StopRule rule : {StopRule::kNearest, StopRule::kAtMost}) {
      CHECK(sample_rotations(9, n, m, 0.5 / m, rule, pairs, cs, support.data()) == 0);
      CHECK(DenseSupport(n, m).same_as(support));
    }
  }
  CHECK(pairs.empty() && cs.empty());
  // Density 1.0 (and above it, or NaN: must terminate at full support, not loop).
  for (auto [n, m] : kShapes) {
    std::vector<uint64_t> support(m * support_words(n));
    for (StopRule rule : {StopRule::kNearest, StopRule::kAtMost})
      for (double d : {1.0, 1.5, std::nan("")}) {
        pairs.clear();
        const int64_t R = sample_rotations(3, n, m, d, rule, pairs, cs, support.data());
        bool clean;
        CHECK_MSG(recount(support, n, m, &clean) == n * m, "n=%lld m=%lld d=%g", (long long)n, (long long)m, d);
        CHECK(static_cast<int64_t>(pairs.size()) == 2 * R);
      }
  }
  // sample_rotations appends: existing contents are kept.
  pairs.assign({7, 8});
  cs.assign({0.5, 0.25});
  std::vector<uint64_t> support(130 * support_words(70));
  const int64_t R = sample_rotations(3, 70, 130, 0.2, StopRule::kNearest, pairs, cs, support.data());
  CHECK(R > 0 && static_cast<int64_t>(pairs.size()) == 2 + 2 * R && pairs[0] == 7 && cs[1] == 0.25);
}

static void test_rotation_count_scale() {
  // docs/algorithm.md, "Cost model": about 199 rotations for 128 x 128 at density 0.125.
  int64_t total = 0;
  for (uint64_t seed = 0; seed < 8; ++seed) {
    std::vector<int32_t> pairs;
    std::vector<double> cs;
    std::vector<uint64_t> support(128 * support_words(128));
    total += sample_rotations(seed, 128, 128, 0.125, StopRule::kNearest, pairs, cs, support.data());
  }
  CHECK_MSG(total / 8 > 150 && total / 8 < 260, "mean R = %lld", (long long)(total / 8));
}

int main() {
  test_initial_state();
  test_rotations_match_dense_model();
  test_nnz_after();
  test_stop_rules();
  test_edge_cases();
  test_rotation_count_scale();
  return check_report();
}
