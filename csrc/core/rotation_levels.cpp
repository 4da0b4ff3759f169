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

}  // namespace eoi
