// The word loops of support tracking (support_tracker.h, parallel_tracker.h): a rotation
// on (i, j) over a run of the support words of columns i and j. They are most of a plan's
// sampling time (about 10^4 rotations of 64 words at 4096x4096), so both are written
// for throughput: independent accumulators for the counts, 128-bit ORs for the union.
#pragma once

#include <cstdint>

namespace eoi {

// |S_i ^ S_j| over `words` words: the count change of the rotation, before it.
int64_t symmetric_difference_size(const uint64_t* si, const uint64_t* sj, int64_t words);

// S_i = S_j = S_i | S_j over `words` words; columns i != j do not overlap.
void unite_words(uint64_t* si, uint64_t* sj, int64_t words);

}  // namespace eoi
