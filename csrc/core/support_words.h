// The word loops of support tracking (support_tracker.h, parallel_tracker.h): a rotation
// on (i, j) over a run of the support words of columns i and j. They are most of a plan's
// sampling time (about 10^4 rotations of 64 words at 4096x4096), so they are written for
// throughput (independent accumulators for the counts, 128-bit ORs for the union) and
// inline: the loops over rotations that call them are compiled with POPCNT (below), and
// a call per rotation through the clone dispatcher cost more than the words of a slice.
#pragma once

#include <cstdint>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

// POPCNT is not in the x86-64 baseline the wheel targets, and the software popcount made
// tracking 3x slower: on x86-64 Linux a function marked EOI_POPCNT_CLONES gets a POPCNT
// clone that the loader picks where the CPU has it. Mark the loop over rotations, so the
// inline word loops are compiled into each clone.
#if defined(__x86_64__) && defined(__linux__) && (defined(__GNUC__) || defined(__clang__))
#define EOI_POPCNT_CLONES __attribute__((target_clones("popcnt", "default")))
#else
#define EOI_POPCNT_CLONES
#endif

namespace eoi {

// |S_i ^ S_j| over `words` words: the count change of the rotation, before it.
inline int64_t symmetric_difference_size(const uint64_t* si, const uint64_t* sj, int64_t words) {
  // Four accumulators: the adds of consecutive words do not wait on each other.
  int64_t c0 = 0, c1 = 0, c2 = 0, c3 = 0;
  int64_t w = 0;
  for (; w + 4 <= words; w += 4) {
    c0 += __builtin_popcountll(si[w] ^ sj[w]);
    c1 += __builtin_popcountll(si[w + 1] ^ sj[w + 1]);
    c2 += __builtin_popcountll(si[w + 2] ^ sj[w + 2]);
    c3 += __builtin_popcountll(si[w + 3] ^ sj[w + 3]);
  }
  for (; w < words; ++w) c0 += __builtin_popcountll(si[w] ^ sj[w]);
  return c0 + c1 + c2 + c3;
}

// S_i = S_j = S_i | S_j over `words` words; columns i != j do not overlap.
inline void unite_words(uint64_t* si, uint64_t* sj, int64_t words) {
  int64_t w = 0;
#if defined(__SSE2__)
  // SSE2 is in the x86-64 baseline; the compiler does not vectorize the plain loop at -O2
  // (the ctest build; csrc/ops.cpp's build uses -O3).
  for (; w + 2 <= words; w += 2) {
    const __m128i united = _mm_or_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(si + w)),
                                        _mm_loadu_si128(reinterpret_cast<const __m128i*>(sj + w)));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(si + w), united);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(sj + w), united);
  }
#endif
  for (; w < words; ++w) si[w] = sj[w] = si[w] | sj[w];
}

}  // namespace eoi
