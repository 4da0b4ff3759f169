// random_stream.h: the SplitMix64 stream contract and draw_rotation's distribution.
#include "random_stream.h"

#include <cmath>
#include <cstdint>
#include <vector>

#include "check.h"

using namespace eoi;

static void test_known_splitmix64_values() {
  // Standard SplitMix64 with state 0: state += golden; output mix64(state).
  CHECK(stream_draw(0, 0) == 0xE220A8397B1DCDAFull);
  CHECK(stream_draw(0, 1) == 0x6E789E6AA1B965F4ull);
  CHECK(stream_draw(0, 2) == 0x06C45D188009454Full);
  CHECK(mix64(kGolden) == 0xE220A8397B1DCDAFull);
  CHECK(mix64(0) == 0);
  // The stream of seed s continues the generator whose state is s.
  uint64_t state = 12345;
  for (uint64_t c = 0; c < 16; ++c) {
    state += kGolden;
    CHECK_MSG(stream_draw(12345, c) == mix64(state), "c=%llu", (unsigned long long)c);
  }
  CHECK(topup_seed(7) == mix64(7 ^ kTopUpSalt));
  CHECK(topup_seed(7) != topup_seed(8));
}

static void test_uniform() {
  const uint64_t seed = 0x1234ABCDull;
  const int64_t n = 200000;
  double sum = 0.0;
  int64_t bins[10] = {};
  bool in_range = true, matches = true;
  for (int64_t c = 0; c < n; ++c) {
    const double u = stream_uniform(seed, c);
    in_range &= (u >= 0.0 && u < 1.0);
    matches &= (u == static_cast<double>(stream_draw(seed, c) >> 11) / 9007199254740992.0);
    sum += u;
    ++bins[static_cast<int>(u * 10)];
  }
  CHECK(in_range);
  CHECK(matches);
  CHECK(std::fabs(sum / n - 0.5) < 0.005);
  for (int b = 0; b < 10; ++b) CHECK_MSG(std::abs(bins[b] - n / 10) < n / 100, "bin %d: %lld", b, (long long)bins[b]);
}

static void test_rotation_counters() {
  // Rotation k uses draws 3k, 3k+1, 3k+2 of the stream.
  const uint64_t seed = 99;
  const int64_t m = 1000;
  for (int64_t k = 0; k < 50; ++k) {
    const RotationDraw r = draw_rotation(seed, k, m);
    const auto i = static_cast<int64_t>(std::floor(stream_uniform(seed, 3 * k) * m));
    const auto j0 = static_cast<int64_t>(std::floor(stream_uniform(seed, 3 * k + 1) * (m - 1)));
    CHECK(r.i == i);
    CHECK(r.j == (j0 >= i ? j0 + 1 : j0));
    CHECK(r.theta == stream_uniform(seed, 3 * k + 2) * kTwoPi);
  }
  // Pure function of (seed, k): drawing out of order gives the same values.
  const RotationDraw a = draw_rotation(5, 17, 64), b = draw_rotation(5, 17, 64);
  CHECK(a.i == b.i && a.j == b.j && a.theta == b.theta);
}

static void test_rotation_validity() {
  for (int64_t m : {2, 3, 7, 64, 1000}) {
    bool ok = true;
    double min_theta = 10, max_theta = -1;
    for (int64_t k = 0; k < 20000; ++k) {
      const RotationDraw r = draw_rotation(0xC0FFEEull + m, k, m);
      ok &= r.i != r.j && r.i >= 0 && r.i < m && r.j >= 0 && r.j < m;
      ok &= r.theta >= 0.0 && r.theta < kTwoPi;
      min_theta = std::fmin(min_theta, r.theta);
      max_theta = std::fmax(max_theta, r.theta);
    }
    CHECK_MSG(ok, "m=%lld", (long long)m);
    CHECK(min_theta < 0.01 && max_theta > kTwoPi - 0.01);
  }
}

static void test_rotation_pair_frequencies() {
  // Every ordered pair of m = 4 appears equally often (12 cells).
  const int64_t m = 4, draws = 120000;
  std::vector<int64_t> counts(m * m, 0);
  for (int64_t k = 0; k < draws; ++k) {
    const RotationDraw r = draw_rotation(2024, k, m);
    ++counts[r.i * m + r.j];
  }
  const double expected = static_cast<double>(draws) / (m * (m - 1));
  double chi2 = 0.0;
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < m; ++j) {
      if (i == j) {
        CHECK(counts[i * m + j] == 0);
        continue;
      }
      const double d = counts[i * m + j] - expected;
      chi2 += d * d / expected;
    }
  // 11 degrees of freedom: mean 11, P(chi2 > 60) < 1e-8. A biased index (e.g. the
  // j-shift removed) gives a chi2 in the thousands.
  CHECK_MSG(chi2 < 60.0, "chi2=%g", chi2);

  // m = 2: only (0, 1) and (1, 0), about half each.
  int64_t zero_first = 0;
  for (int64_t k = 0; k < 10000; ++k) {
    const RotationDraw r = draw_rotation(3, k, 2);
    CHECK(r.i + r.j == 1);
    zero_first += r.i == 0;
  }
  CHECK(std::abs(zero_first - 5000) < 300);
}

int main() {
  test_known_splitmix64_values();
  test_uniform();
  test_rotation_counters();
  test_rotation_validity();
  test_rotation_pair_frequencies();
  return check_report();
}
