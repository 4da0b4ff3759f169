// ASAP level scheduling of a rotation sequence (docs/levels.md, "ASAP levels").
//
// L(k) = 1 + max(last[i_k], last[j_k]); then last[i_k] = last[j_k] = L(k). Rotations
// with the same level touch disjoint coordinates, so they commute and can be applied
// at the same time; applying levels in increasing order gives every coordinate the
// same sequence of operations as the sequential order, hence the same numbers.
#pragma once

#include <cstdint>

namespace eoi {

// pairs: 2 * count int32 values (i_k, j_k), all in [0, m). Writes the 0-based level
// of every rotation to `levels` (count values); `last` is scratch of m int32 values.
// Returns the number of levels (0 when count == 0).
int32_t rotation_levels(const int32_t* pairs, int64_t count, int64_t m, int32_t* levels,
                        int32_t* last);

// Level order of one matrix's rotations (a stable counting sort by level), the
// schedule the CUDA kernel walks: level l is positions level_starts[l] ..
// level_starts[l + 1] - 1 of `order`, and order[q] is the index (0 .. count - 1) of the
// rotation at position q. levels: count values in [0, depth), from rotation_levels;
// level_starts: depth + 1 values; order: count values.
void order_by_level(const int32_t* levels, int64_t count, int32_t depth, int64_t* level_starts,
                    int64_t* order);

}  // namespace eoi
