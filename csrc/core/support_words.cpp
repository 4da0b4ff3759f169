#include "support_words.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace eoi {

// POPCNT is not in the x86-64 baseline the wheel targets, and the software fallback made
// tracking 3x slower: on x86-64 Linux the compiler emits a POPCNT clone and picks it at
// load time where the CPU has it.
#if defined(__x86_64__) && defined(__linux__) && (defined(__GNUC__) || defined(__clang__))
__attribute__((target_clones("popcnt", "default")))
#endif
int64_t symmetric_difference_size(const uint64_t* si, const uint64_t* sj, int64_t words) {
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

void unite_words(uint64_t* si, uint64_t* sj, int64_t words) {
  int64_t w = 0;
#if defined(__SSE2__)
  // SSE2 is in the x86-64 baseline. The compiler does not vectorize the plain loop at -O2
  // (csrc/ops.cpp's build uses -O3, the ctest build -O2), and with it the union is a small
  // part of a rotation.
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
