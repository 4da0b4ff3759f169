// The schedule the CUDA apply kernel walks (apply_plans.h): every matrix's rotations
// regrouped by ASAP level, built on the host from the plan. Plain C++.
#pragma once

#include <cstdint>
#include <vector>

#include "core/rotation_levels.h"

namespace eoi::gpu {

// Writes one matrix's rotations in level order. pairs / cos_sin: its `count` rotations
// in plan order (2 values each); levels: their levels from eoi::rotation_levels, which
// returned `depth`; first_rotation: the position of the matrix's first rotation in the
// batch. Outputs: level_starts[l] (l < depth) = batch position of level l's first
// rotation; sorted_pairs / sorted_cos_sin: the rotations in level order, cos/sin
// converted to the kernel's compute type.
template <typename compute_t>
void write_level_schedule(const int32_t* pairs, const double* cos_sin, const int32_t* levels,
                          int64_t count, int32_t depth, int64_t first_rotation,
                          int64_t* level_starts, int32_t* sorted_pairs,
                          compute_t* sorted_cos_sin) {
  std::vector<int64_t> starts(depth + 1);
  std::vector<int64_t> order(count);
  order_by_level(levels, count, depth, starts.data(), order.data());
  for (int32_t l = 0; l < depth; ++l) level_starts[l] = first_rotation + starts[l];
  for (int64_t q = 0; q < count; ++q) {
    const int64_t k = order[q];
    sorted_pairs[2 * q] = pairs[2 * k];
    sorted_pairs[2 * q + 1] = pairs[2 * k + 1];
    sorted_cos_sin[2 * q] = static_cast<compute_t>(cos_sin[2 * k]);
    sorted_cos_sin[2 * q + 1] = static_cast<compute_t>(cos_sin[2 * k + 1]);
  }
}

}  // namespace eoi::gpu
