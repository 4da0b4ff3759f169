#include "rotation_levels.h"

#include <algorithm>

namespace eoi {

int32_t rotation_levels(const int32_t* pairs, int64_t count, int64_t m, int32_t* levels,
                        int32_t* last) {
  // last[c] = 1 + level of the latest rotation touching coordinate c (0: none yet).
  std::fill(last, last + m, 0);
  int32_t depth = 0;
  for (int64_t k = 0; k < count; ++k) {
    const int32_t i = pairs[2 * k];
    const int32_t j = pairs[2 * k + 1];
    const int32_t level = std::max(last[i], last[j]);
    levels[k] = level;
    last[i] = last[j] = level + 1;
    depth = std::max(depth, level + 1);
  }
  return depth;
}

void order_by_level(const int32_t* levels, int64_t count, int32_t depth, int64_t* level_starts,
                    int64_t* order) {
  std::fill(level_starts, level_starts + depth + 1, 0);
  for (int64_t k = 0; k < count; ++k) ++level_starts[levels[k] + 1];
  for (int32_t l = 0; l < depth; ++l) level_starts[l + 1] += level_starts[l];
  // level_starts[l] now is the first free position of level l; fill, then shift back.
  for (int64_t k = 0; k < count; ++k) order[level_starts[levels[k]]++] = k;
  for (int32_t l = depth; l > 0; --l) level_starts[l] = level_starts[l - 1];
  level_starts[0] = 0;
}

}  // namespace eoi
