// support_mask: the mask written from tracked support (both layouts, row ranges) and
// the exact-density top-up against a brute-force selection.
#include "support_mask.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <tuple>
#include <utility>
#include <vector>

#include "check.h"
#include "random_stream.h"
#include "support_tracker.h"

using namespace eoi;

namespace {

bool bit(const std::vector<uint64_t>& support, int64_t n, int64_t r, int64_t c) {
  return (support[c * support_words(n) + r / 64] >> (r % 64)) & 1u;
}

// Top-up as specified, written plainly: draw t = 0, 1, 2, ... of the top-up stream picks
// position floor(u_t * total); a free position joins the mask, until `need` have joined.
std::vector<uint8_t> brute_top_up(uint64_t seed, int64_t total, int64_t target, std::vector<uint8_t> mask) {
  int64_t held = 0;
  for (uint8_t x : mask) held += x != 0;
  int64_t need = std::min(target, total) - held;
  for (uint64_t t = 0; need > 0; ++t) {
    const double u = static_cast<double>(stream_draw(topup_seed(seed), t) >> 11) / 9007199254740992.0;
    const auto p = static_cast<int64_t>(std::floor(u * static_cast<double>(total)));
    if (!mask[p]) {
      mask[p] = 1;
      --need;
    }
  }
  return mask;
}

int64_t count_set(const std::vector<uint8_t>& mask) {
  int64_t t = 0;
  for (uint8_t x : mask) t += x != 0;
  return t;
}

// Mask of an n x m sampled matrix (row-major), or a random one for density d.
std::vector<uint8_t> random_mask(uint64_t seed, int64_t total, double d) {
  std::vector<uint8_t> mask(total);
  for (int64_t p = 0; p < total; ++p) mask[p] = stream_uniform(seed, p) < d;
  return mask;
}

}  // namespace

static void test_write_support_mask() {
  const std::tuple<uint64_t, int64_t, int64_t, double> cases[] = {
      {1, 3, 1000, 0.01}, {2, 1, 7, 0.5}, {3, 70, 130, 0.2}, {4, 20, 20, 0.3}, {5, 65, 65, 0.1}, {6, 1, 1, 1.0}};
  for (auto [seed, n, m, d] : cases) {
    std::vector<int32_t> pairs;
    std::vector<double> cs;
    std::vector<uint64_t> support(m * support_words(n));
    sample_rotations(seed, n, m, d, StopRule::kNearest, pairs, cs, support.data());
    // Row ranges: all rows, a single row, and an unaligned middle block.
    const std::pair<int64_t, int64_t> ranges[] = {{0, n}, {n - 1, n}, {n / 3, n - n / 4}};
    for (auto [b, e] : ranges) {
      if (e <= b) continue;
      const int64_t k = e - b;
      std::vector<uint8_t> rows(k * m + 4, 7), cols(m * k + 4, 7);
      write_support_mask(support.data(), n, m, b, e, rows.data(), m, 1);  // mask of A
      write_support_mask(support.data(), n, m, b, e, cols.data(), 1, k);  // mask of A^T block
      bool ok = true;
      int64_t ones = 0;
      for (int64_t r = b; r < e; ++r)
        for (int64_t c = 0; c < m; ++c) {
          const uint8_t expect = bit(support, n, r, c) ? 1 : 0;
          ok &= rows[(r - b) * m + c] == expect && cols[c * k + (r - b)] == expect;
          ones += expect;
        }
      for (int t = 0; t < 4; ++t) ok &= rows[k * m + t] == 7 && cols[m * k + t] == 7;
      CHECK_MSG(ok, "n=%lld m=%lld rows [%lld, %lld)", (long long)n, (long long)m, (long long)b, (long long)e);
      CHECK(ones >= k);  // every row holds at least one entry
      // General strides (neither is 1): out[(r - b) * 2 + c * (2k + 1)], gaps untouched.
      std::vector<uint8_t> strided(m * (2 * k + 1), 7);
      write_support_mask(support.data(), n, m, b, e, strided.data(), 2, 2 * k + 1);
      int64_t untouched = 0;
      ok = true;
      for (int64_t r = b; r < e; ++r)
        for (int64_t c = 0; c < m; ++c) ok &= strided[(r - b) * 2 + c * (2 * k + 1)] == (bit(support, n, r, c) ? 1 : 0);
      for (uint8_t x : strided) untouched += x == 7;
      CHECK(ok);
      CHECK(untouched == m * (2 * k + 1) - k * m);
      // A window of coordinates [cb, ce), both layouts.
      const int64_t cb = m / 3, ce = std::max(cb + 1, m - m / 5);
      const int64_t w = ce - cb;
      std::vector<uint8_t> window_rows(k * w + 4, 7), window_cols(w * k + 4, 7);
      write_support_mask(support.data(), n, m, b, e, window_rows.data(), w, 1, cb, ce);
      write_support_mask(support.data(), n, m, b, e, window_cols.data(), 1, k, cb, ce);
      ok = true;
      for (int64_t r = b; r < e; ++r)
        for (int64_t c = cb; c < ce; ++c) {
          const uint8_t expect = bit(support, n, r, c) ? 1 : 0;
          ok &= window_rows[(r - b) * w + (c - cb)] == expect && window_cols[(c - cb) * k + (r - b)] == expect;
        }
      for (int t = 0; t < 4; ++t) ok &= window_rows[k * w + t] == 7 && window_cols[w * k + t] == 7;
      CHECK_MSG(ok, "window n=%lld m=%lld [%lld, %lld)", (long long)n, (long long)m, (long long)cb, (long long)ce);
    }
  }
}

static void test_top_up_brute_force() {
  int cases = 0;
  for (uint64_t seed = 0; seed < 300; ++seed) {
    const int64_t rows = 1 + seed % 9, cols = 1 + (seed / 9) % 11, total = rows * cols;
    std::vector<uint8_t> mask = random_mask(seed * 31 + 1, total, 0.1 + 0.8 * ((seed % 7) / 7.0));
    const int64_t held = count_set(mask);
    for (int64_t target : {held - 1, held, held + 1, held + 3, (held + total) / 2, total, total + 5}) {
      if (target < 0) continue;
      std::vector<uint8_t> got = mask;
      const int64_t added = top_up_mask(seed, rows, cols, target, got.data());
      const int64_t expect_added = std::max<int64_t>(0, std::min(target, total) - held);
      CHECK_MSG(added == expect_added, "seed=%llu target=%lld", (unsigned long long)seed, (long long)target);
      CHECK(count_set(got) == held + expect_added);
      bool kept = true;
      for (int64_t p = 0; p < total; ++p) kept &= !mask[p] || got[p] == 1;
      CHECK(kept);  // only free positions are added
      CHECK_MSG(got == brute_top_up(seed, total, target, mask), "seed=%llu target=%lld",
                (unsigned long long)seed, (long long)target);
      if (target <= held) CHECK(got == mask);
      ++cases;
    }
  }
  CHECK(cases > 1500);

  // Larger mask, small and large needs.
  for (uint64_t seed = 0; seed < 40; ++seed) {
    const int64_t rows = 300, cols = 200, total = rows * cols;
    std::vector<uint8_t> mask = random_mask(seed + 1000, total, 0.1);
    const int64_t held = count_set(mask);
    for (int64_t need : {1, 2, 5, 100, 4000}) {
      std::vector<uint8_t> got = mask;
      CHECK(top_up_mask(seed, rows, cols, held + need, got.data()) == need);
      CHECK(got == brute_top_up(seed, total, held + need, mask));
    }
  }
}

static void test_top_up_seeds() {
  const int64_t rows = 30, cols = 40;
  const std::vector<uint8_t> mask = random_mask(5, rows * cols, 0.2);
  const int64_t target = count_set(mask) + 50;
  std::vector<uint8_t> a = mask, b = mask, c = mask;
  top_up_mask(17, rows, cols, target, a.data());
  top_up_mask(17, rows, cols, target, b.data());
  top_up_mask(18, rows, cols, target, c.data());
  CHECK(a == b);
  CHECK(a != c);
  // The selection uses the top-up stream of the seed, not the seed's own stream.
  std::vector<uint8_t> d = mask;
  top_up_mask(topup_seed(17), rows, cols, target, d.data());
  CHECK(d != a);
}

static void test_top_up_uniformity() {
  // 4 x 5 mask with 5 held positions; add 3 of the 15 free ones, over many seeds.
  const int64_t rows = 4, cols = 5, total = 20, trials = 30000;
  std::vector<uint8_t> mask(total, 0);
  for (int64_t p : {0, 6, 7, 13, 19}) mask[p] = 1;
  std::vector<int64_t> picked(total, 0);
  for (int64_t s = 0; s < trials; ++s) {
    std::vector<uint8_t> got = mask;
    top_up_mask(static_cast<uint64_t>(s) * 0x9E3779B97F4A7C15ull + 3, rows, cols, 8, got.data());
    for (int64_t p = 0; p < total; ++p) picked[p] += got[p] && !mask[p];
  }
  const double expected = trials * 3.0 / 15.0;  // 6000; standard deviation about 70
  for (int64_t p = 0; p < total; ++p) {
    if (mask[p]) {
      CHECK(picked[p] == 0);
      continue;
    }
    CHECK_MSG(std::abs(picked[p] - expected) < 0.08 * expected, "p=%lld picked %lld", (long long)p,
              (long long)picked[p]);
  }
}

int main() {
  test_write_support_mask();
  test_top_up_brute_force();
  test_top_up_seeds();
  test_top_up_uniformity();
  return check_report();
}
