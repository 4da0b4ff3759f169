// rotation_levels: ASAP levels are disjoint within a level, respect every dependency,
// and applying level by level reproduces sequential application bit for bit.
#include "rotation_levels.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <vector>

#include "check.h"
#include "random_stream.h"
#include "support_tracker.h"

using namespace eoi;

namespace {

struct Plan {
  int64_t m;
  std::vector<int32_t> pairs;
  std::vector<double> cos_sin;
  int64_t count() const { return static_cast<int64_t>(pairs.size() / 2); }
};

Plan raw_plan(uint64_t seed, int64_t m, int64_t count) {
  Plan p{m, {}, {}};
  for (int64_t k = 0; k < count; ++k) {
    const RotationDraw r = draw_rotation(seed, k, m);
    p.pairs.push_back(static_cast<int32_t>(r.i));
    p.pairs.push_back(static_cast<int32_t>(r.j));
    p.cos_sin.push_back(std::cos(r.theta));
    p.cos_sin.push_back(std::sin(r.theta));
  }
  return p;
}

Plan sampled_plan(uint64_t seed, int64_t n, int64_t m, double d) {
  Plan p{m, {}, {}};
  std::vector<uint64_t> support(m * support_words(n));
  std::vector<double> thetas;
  sample_rotations(seed, n, m, d, StopRule::kNearest, p.pairs, thetas, support.data());
  for (double theta : thetas) {
    p.cos_sin.push_back(std::cos(theta));
    p.cos_sin.push_back(std::sin(theta));
  }
  return p;
}

// Naive dense A = [I_n | 0] G_{order[0]} G_{order[1]} ..., row-major n x m.
std::vector<double> dense_apply(const Plan& p, int64_t n, const std::vector<int64_t>& order) {
  const int64_t m = p.m;
  std::vector<double> a(n * m, 0.0);
  for (int64_t r = 0; r < n; ++r) a[r * m + r] = 1.0;
  for (int64_t k : order) {
    const int64_t i = p.pairs[2 * k], j = p.pairs[2 * k + 1];
    const double c = p.cos_sin[2 * k], s = p.cos_sin[2 * k + 1];
    for (int64_t r = 0; r < n; ++r) {
      const double x = a[r * m + i], y = a[r * m + j];
      a[r * m + i] = c * x - s * y;
      a[r * m + j] = s * x + c * y;
    }
  }
  return a;
}

}  // namespace

static void check_plan(const Plan& p, int64_t n, const char* name) {
  const int64_t count = p.count();
  std::vector<int32_t> levels(count + 1, -7), last(p.m, -9);
  levels[count] = 12345;  // canary: nothing is written past `count` levels
  const int32_t depth = rotation_levels(p.pairs.data(), count, p.m, levels.data(), last.data());
  CHECK(levels[count] == 12345);

  // Depth is one past the largest level; every level in [0, depth) is used.
  int32_t max_level = -1;
  for (int64_t k = 0; k < count; ++k) max_level = std::max(max_level, levels[k]);
  CHECK_MSG(depth == max_level + 1, "%s", name);
  std::vector<std::vector<int64_t>> by_level(std::max(depth, 0));
  bool in_range = true;
  for (int64_t k = 0; k < count; ++k) {
    in_range &= levels[k] >= 0 && levels[k] < depth;
    if (in_range) by_level[levels[k]].push_back(k);
  }
  CHECK_MSG(in_range, "%s", name);
  if (!in_range) return;
  for (int32_t l = 0; l < depth; ++l) CHECK(!by_level[l].empty());

  // Rotations of one level touch disjoint coordinates.
  bool disjoint = true;
  for (const auto& ks : by_level) {
    std::vector<char> used(p.m, 0);
    for (int64_t k : ks) {
      const int32_t i = p.pairs[2 * k], j = p.pairs[2 * k + 1];
      disjoint &= !used[i] && !used[j];
      used[i] = used[j] = 1;
    }
  }
  CHECK_MSG(disjoint, "%s", name);

  // Each level is above every earlier rotation sharing a coordinate, and is the lowest
  // such level (ASAP): 0 with no such rotation, else 1 + their maximum level.
  bool ordered = true, asap = true;
  for (int64_t k = 0; k < count; ++k) {
    int32_t need = 0;
    for (int64_t e = 0; e < k; ++e) {
      const bool shares = p.pairs[2 * e] == p.pairs[2 * k] || p.pairs[2 * e] == p.pairs[2 * k + 1] ||
                          p.pairs[2 * e + 1] == p.pairs[2 * k] || p.pairs[2 * e + 1] == p.pairs[2 * k + 1];
      if (shares) {
        ordered &= levels[k] > levels[e];
        need = std::max(need, levels[e] + 1);
      }
    }
    asap &= levels[k] == need;
  }
  CHECK_MSG(ordered, "%s", name);
  CHECK_MSG(asap, "%s", name);

  // Level-by-level order (stable sort by level) gives bitwise the same matrix.
  std::vector<int64_t> seq(count);
  std::iota(seq.begin(), seq.end(), 0);
  std::vector<int64_t> by_lvl = seq;
  std::stable_sort(by_lvl.begin(), by_lvl.end(), [&](int64_t a, int64_t b) { return levels[a] < levels[b]; });
  const std::vector<double> a_seq = dense_apply(p, n, seq);
  const std::vector<double> a_lvl = dense_apply(p, n, by_lvl);
  CHECK_MSG(a_seq == a_lvl, "%s", name);  // exact equality, not a tolerance
  // order_by_level is that stable sort, with the level boundaries.
  std::vector<int64_t> order(count + 1, -5), starts(depth + 2, -5);
  order_by_level(levels.data(), count, depth, starts.data(), order.data());
  CHECK_MSG(std::equal(by_lvl.begin(), by_lvl.end(), order.begin()), "%s", name);
  CHECK(order[count] == -5 && starts[depth + 1] == -5);  // canaries
  bool bounds = starts[0] == 0 && starts[depth] == count;
  for (int32_t l = 0; l < depth; ++l) {
    bounds &= starts[l + 1] - starts[l] == static_cast<int64_t>(by_level[l].size());
    for (int64_t q = starts[l]; q < starts[l + 1]; ++q) bounds &= levels[order[q]] == l;
  }
  CHECK_MSG(bounds, "%s", name);
  // Within a level, any order works too (the rotations commute exactly).
  std::vector<int64_t> by_lvl_rev = seq;
  std::stable_sort(by_lvl_rev.begin(), by_lvl_rev.end(), [&](int64_t a, int64_t b) {
    return levels[a] != levels[b] ? levels[a] < levels[b] : a > b;
  });
  CHECK_MSG(dense_apply(p, n, by_lvl_rev) == a_seq, "%s", name);
  // The check has teeth: fully reversed order differs.
  if (depth > 1) {
    std::vector<int64_t> rev(seq.rbegin(), seq.rend());
    CHECK_MSG(dense_apply(p, n, rev) != a_seq, "%s", name);
  }
}

static void test_plans() {
  check_plan(raw_plan(1, 2, 10), 2, "m=2 chain");
  check_plan(raw_plan(2, 10, 200), 6, "m=10 raw");
  check_plan(raw_plan(3, 64, 500), 64, "m=64 raw");
  check_plan(sampled_plan(4, 70, 130, 0.3), 70, "70x130 d=0.3");
  check_plan(sampled_plan(5, 3, 1000, 0.05), 3, "3x1000 d=0.05");
  check_plan(sampled_plan(6, 32, 32, 1.0), 32, "32x32 d=1");
}

static void test_hand_example() {
  // (0,1) (2,3) (1,2) (0,3) (4,5) (0,1): levels 0 0 1 1 0 2.
  const std::vector<int32_t> pairs{0, 1, 2, 3, 1, 2, 0, 3, 4, 5, 0, 1};
  std::vector<int32_t> levels(6), last(6);
  const int32_t depth = rotation_levels(pairs.data(), 6, 6, levels.data(), last.data());
  CHECK(depth == 3);
  CHECK((levels == std::vector<int32_t>{0, 0, 1, 1, 0, 2}));
  // Empty sequence: no levels. Scratch is reset on every call.
  CHECK(rotation_levels(pairs.data(), 0, 6, levels.data(), last.data()) == 0);
  std::vector<int32_t> dirty(6, 99);
  CHECK(rotation_levels(pairs.data(), 6, 6, levels.data(), dirty.data()) == 3);
  CHECK((levels == std::vector<int32_t>{0, 0, 1, 1, 0, 2}));
  std::vector<int64_t> starts(4), order(6);
  order_by_level(levels.data(), 6, 3, starts.data(), order.data());
  CHECK((starts == std::vector<int64_t>{0, 3, 5, 6}));
  CHECK((order == std::vector<int64_t>{0, 1, 4, 2, 3, 5}));
  order_by_level(levels.data(), 0, 0, starts.data(), order.data());
  CHECK(starts[0] == 0);
}

int main() {
  test_hand_example();
  test_plans();
  return check_report();
}
