// apply_rotations_tile against a naive dense reference, in float and double, both
// output layouts, aligned and unaligned row ranges, gain, orthogonality, and exact
// zeros outside the symbolic support.
#include "apply_rotations.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdint>
#include <cstring>
#include <limits>
#include <utility>
#include <vector>

#include "check.h"
#include "random_stream.h"
#include "support_tracker.h"

using namespace eoi;

namespace {

struct Plan {
  int64_t n, m;
  std::vector<int32_t> pairs;
  std::vector<double> cos_sin;
  std::vector<uint64_t> support;
  int64_t count() const { return static_cast<int64_t>(pairs.size() / 2); }
  bool in_support(int64_t r, int64_t c) const {
    return (support[c * support_words(n) + r / 64] >> (r % 64)) & 1u;
  }
};

Plan make_plan(uint64_t seed, int64_t n, int64_t m, double d) {
  Plan p{n, m, {}, {}, std::vector<uint64_t>(m * support_words(n))};
  std::vector<double> thetas;
  sample_rotations(seed, n, m, d, StopRule::kNearest, p.pairs, thetas, p.support.data());
  for (double theta : thetas) {
    p.cos_sin.push_back(std::cos(theta));
    p.cos_sin.push_back(std::sin(theta));
  }
  return p;
}

// Naive dense A (n x m, row-major), in long double.
std::vector<long double> dense_reference(const Plan& p) {
  const int64_t n = p.n, m = p.m;
  std::vector<long double> a(n * m, 0.0L);
  for (int64_t r = 0; r < n; ++r) a[r * m + r] = 1.0L;
  for (int64_t k = 0; k < p.count(); ++k) {
    const int64_t i = p.pairs[2 * k], j = p.pairs[2 * k + 1];
    const long double c = p.cos_sin[2 * k], s = p.cos_sin[2 * k + 1];
    for (int64_t r = 0; r < n; ++r) {
      const long double x = a[r * m + i], y = a[r * m + j];
      a[r * m + i] = c * x - s * y;
      a[r * m + j] = s * x + c * y;
    }
  }
  return a;
}

// Tilings of [0, n): tile-aligned blocks, and an unaligned walk of partial tiles.
std::vector<std::pair<int64_t, int64_t>> tiling(int64_t n, int64_t lanes, bool aligned) {
  std::vector<std::pair<int64_t, int64_t>> out;
  const int64_t steps[] = {3, lanes, 1, lanes - 1, 5};
  int64_t begin = 0;
  for (int s = 0; begin < n; ++s) {
    const int64_t step = aligned ? lanes : steps[s % 5];
    const int64_t end = std::min(n, begin + step);
    out.emplace_back(begin, end);
    begin = end;
  }
  return out;
}

template <typename T>
void check_plan(const Plan& p, T tol, const char* name) {
  constexpr int64_t L = tile_lanes<T>();
  const int64_t n = p.n, m = p.m, count = p.count();
  const T nan = std::numeric_limits<T>::quiet_NaN();
  std::vector<T> cs(p.cos_sin.begin(), p.cos_sin.end());
  const std::vector<long double> ref = dense_reference(p);
  // Scratch sized for a larger m: one thread's scratch is reused across shapes.
  TileScratch<T> scratch(m + 5);

  for (bool aligned : {true, false})
    for (T gain : {T(1), T(2.5)}) {
      // Layout 1: W = gain * A, row-major n x m (row_stride = m, col_stride = 1).
      // Layout 2: W = gain * A^T, row-major m x n (row_stride = 1, col_stride = n).
      std::vector<T> rows(n * m, nan), cols(m * n, nan);
      for (auto [b, e] : tiling(n, L, aligned)) {
        CHECK(e - b <= L);
        apply_rotations_tile<T, T>(p.pairs.data(), cs.data(), count, m, b, e, gain, scratch,
                                   rows.data() + b * m, m, 1);
        apply_rotations_tile<T, T>(p.pairs.data(), cs.data(), count, m, b, e, gain, scratch,
                                   cols.data() + b, 1, n);
      }
      double max_err = 0.0;
      bool same_layouts = true, same_bits = true, zeros_outside = true, all_written = true;
      for (int64_t r = 0; r < n; ++r)
        for (int64_t c = 0; c < m; ++c) {
          const T x = rows[r * m + c];
          all_written &= !std::isnan(x);
          max_err = std::fmax(max_err, std::fabs(static_cast<double>(x - gain * ref[r * m + c])));
          same_layouts &= x == cols[c * n + r];
          // Bit for bit: the row-major write transposes with SIMD (tile_rows_out.h), the
          // column-major one writes value by value; zeros are +0 in both.
          same_bits &= std::memcmp(&x, &cols[c * n + r], sizeof(T)) == 0;
          if (!p.in_support(r, c)) zeros_outside &= x == T(0);
        }
      CHECK_MSG(all_written, "%s", name);
      CHECK_MSG(max_err <= tol * gain, "%s aligned=%d err=%g", name, aligned, max_err);
      CHECK_MSG(same_layouts, "%s", name);
      CHECK_MSG(same_bits, "%s aligned=%d gain=%g", name, aligned, static_cast<double>(gain));
      CHECK_MSG(zeros_outside, "%s", name);

      // Orthonormal rows: W W^T = gain^2 I.
      double max_gram = 0.0;
      for (int64_t r = 0; r < n; ++r)
        for (int64_t q = 0; q <= r; ++q) {
          double dot = 0.0;
          for (int64_t c = 0; c < m; ++c) dot += static_cast<double>(rows[r * m + c]) * rows[q * m + c];
          max_gram = std::fmax(max_gram, std::fabs(dot / (gain * gain) - (r == q ? 1.0 : 0.0)));
        }
      CHECK_MSG(max_gram <= tol, "%s gram err=%g", name, max_gram);
    }

  // One partial tile in the middle, written to a tile-local transposed buffer
  // (row_stride = 1, col_stride = tile rows): only its rows, every entry written.
  if (n >= 3) {
    const int64_t b = 1, e = std::min(n - 1, 1 + L - 1);
    const int64_t k = e - b;
    std::vector<T> tile(m * k + 8, nan);
    apply_rotations_tile<T, T>(p.pairs.data(), cs.data(), count, m, b, e, T(1), scratch, tile.data(), 1, k);
    double err = 0.0;
    for (int64_t r = b; r < e; ++r)
      for (int64_t c = 0; c < m; ++c)
        err = std::fmax(err, std::fabs(static_cast<double>(tile[c * k + (r - b)] - ref[r * m + c])));
    CHECK_MSG(err <= tol, "%s partial tile err=%g", name, err);
    bool tail_untouched = true;
    for (int64_t t = 0; t < 8; ++t) tail_untouched &= std::isnan(tile[m * k + t]);
    CHECK(tail_untouched);

    // General strides (neither is 1): out[(r - b) * 2 + c * (2k + 1)], gaps untouched.
    const int64_t rs = 2, cst = 2 * k + 1;
    std::vector<T> strided(m * cst, nan);
    apply_rotations_tile<T, T>(p.pairs.data(), cs.data(), count, m, b, e, T(1), scratch, strided.data(), rs, cst);
    err = 0.0;
    int64_t written = 0;
    for (int64_t r = b; r < e; ++r)
      for (int64_t c = 0; c < m; ++c)
        err = std::fmax(err, std::fabs(static_cast<double>(strided[(r - b) * rs + c * cst] - ref[r * m + c])));
    for (T x : strided) written += !std::isnan(x);
    CHECK_MSG(err <= tol, "%s strided err=%g", name, err);
    CHECK(written == k * m);

    // A window of coordinates [cb, ce) only, in both layouts: exactly those written.
    const int64_t cb = m / 3, ce = std::max(cb + 1, m - m / 4);
    const int64_t w = ce - cb;
    std::vector<T> window_rows(k * w + 4, nan), window_cols(w * k + 4, nan);
    apply_rotations_tile<T, T>(p.pairs.data(), cs.data(), count, m, b, e, T(1), scratch,
                               window_rows.data(), w, 1, cb, ce);
    apply_rotations_tile<T, T>(p.pairs.data(), cs.data(), count, m, b, e, T(1), scratch,
                               window_cols.data(), 1, k, cb, ce);
    err = 0.0;
    for (int64_t r = b; r < e; ++r)
      for (int64_t c = cb; c < ce; ++c) {
        const double want = ref[r * m + c];
        err = std::fmax(err, std::fabs(static_cast<double>(window_rows[(r - b) * w + (c - cb)]) - want));
        err = std::fmax(err, std::fabs(static_cast<double>(window_cols[(c - cb) * k + (r - b)]) - want));
      }
    CHECK_MSG(err <= tol, "%s window err=%g", name, err);
    bool window_bits = true;
    for (int64_t r = 0; r < k; ++r)
      for (int64_t c = 0; c < w; ++c)
        window_bits &= std::memcmp(&window_rows[r * w + c], &window_cols[c * k + r], sizeof(T)) == 0;
    CHECK_MSG(window_bits, "%s window bits", name);
    bool window_tail = true;
    for (int64_t t = 0; t < 4; ++t) window_tail &= std::isnan(window_rows[k * w + t]) && std::isnan(window_cols[w * k + t]);
    CHECK(window_tail);
  }
}

// Compute in double, write float: the conversion happens after the gain.
void check_mixed_output(const Plan& p) {
  constexpr int64_t L = tile_lanes<double>();
  const int64_t n = p.n, m = p.m;
  const std::vector<long double> ref = dense_reference(p);
  TileScratch<double> scratch(m);
  std::vector<float> out(n * m);
  for (auto [b, e] : tiling(n, L, false))
    apply_rotations_tile<double, float>(p.pairs.data(), p.cos_sin.data(), p.count(), m, b, e, 0.5,
                                        scratch, out.data() + b * m, m, 1);
  bool ok = true;
  for (int64_t i = 0; i < n * m; ++i) ok &= out[i] == static_cast<float>(0.5 * static_cast<double>(ref[i])) ||
                                            std::fabs(out[i] - 0.5 * static_cast<double>(ref[i])) < 1e-7;
  CHECK(ok);
}

}  // namespace

int main() {
  CHECK(tile_lanes<float>() == 16);
  CHECK(tile_lanes<double>() == 8);
  const struct {
    uint64_t seed;
    int64_t n, m;
    double d;
  } cases[] = {{1, 3, 1000, 0.01}, {2, 1, 7, 0.6},   {3, 70, 130, 0.2}, {4, 70, 130, 1.0},
               {5, 20, 20, 0.5},   {6, 17, 33, 0.3}, {7, 40, 40, 0.05}, {8, 1, 1, 1.0},
               {9, 16, 16, 0.4},   {10, 33, 50, 0.02}};
  for (const auto& tc : cases) {
    const Plan p = make_plan(tc.seed, tc.n, tc.m, tc.d);
    char name[96];
    std::snprintf(name, sizeof name, "%lldx%lld d=%g R=%lld", (long long)tc.n, (long long)tc.m, tc.d,
                  (long long)p.count());
    check_plan<float>(p, 1e-5f, name);
    check_plan<double>(p, 1e-12, name);
    check_mixed_output(p);
  }
  // A long raw sequence (many more rotations than the stop rule would keep).
  Plan p{12, 24, {}, {}, std::vector<uint64_t>(24 * support_words(12))};
  SupportTracker tracker(12, 24, p.support.data());
  for (int64_t k = 0; k < 2000; ++k) {
    const RotationDraw r = draw_rotation(123, k, 24);
    tracker.rotate(r.i, r.j);
    p.pairs.push_back(static_cast<int32_t>(r.i));
    p.pairs.push_back(static_cast<int32_t>(r.j));
    p.cos_sin.push_back(std::cos(r.theta));
    p.cos_sin.push_back(std::sin(r.theta));
  }
  check_plan<double>(p, 1e-12, "12x24 2000 rotations");
  check_plan<float>(p, 1e-4f, "12x24 2000 rotations");  // float error grows with R
  return check_report();
}
