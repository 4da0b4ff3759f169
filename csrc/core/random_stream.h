// Counter-based random stream (SplitMix64) that turns one 64-bit seed per matrix
// into every random number the matrix needs.
//
// Why counter-based: draw number c of a stream is a pure function of (seed, c), so
// the C++ core, the CUDA kernels and the pure-PyTorch fallback
// (eoi_ext/random_stream.py, vectorized over c) produce bit-identical
// pairs, and any row block of a matrix can be built without replaying the others.
// The seeds themselves come from a torch.Generator (one int64 per matrix), so
// torch.manual_seed governs everything.
//
// The contract (mirrored exactly in Python):
//   draw(seed, c)    = mix(seed + (c + 1) * kGolden)            (all mod 2^64)
//   uniform(seed, c) = (draw(seed, c) >> 11) * 2^-53           in [0, 1)
//   rotation k uses draws 3k (first index), 3k+1 (second index), 3k+2 (angle).
//   exact-density top-up: draw t of the stream topup_seed(seed) names flat position
//   floor(uniform * rows * cols) (support_mask.h).
#pragma once

#include <cstdint>

#include "host_device.h"

namespace eoi {

constexpr uint64_t kGolden = 0x9E3779B97F4A7C15ull;
constexpr uint64_t kTopUpSalt = 0xA0761D6478BD642Full;
constexpr double kTwoPi = 6.283185307179586476925286766559;

// SplitMix64 finalizer (Steele, Lea, Flood 2014): a bijection with strong avalanche.
EOI_HOST_DEVICE inline uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

EOI_HOST_DEVICE inline uint64_t stream_draw(uint64_t seed, uint64_t counter) {
  return mix64(seed + (counter + 1) * kGolden);
}

EOI_HOST_DEVICE inline double stream_uniform(uint64_t seed, uint64_t counter) {
  return static_cast<double>(stream_draw(seed, counter) >> 11) * 0x1.0p-53;
}

// Seed of the independent stream that orders candidate top-up positions.
EOI_HOST_DEVICE inline uint64_t topup_seed(uint64_t seed) { return mix64(seed ^ kTopUpSalt); }

// Rotation k of a matrix whose larger side is m (m >= 2): an ordered pair (i, j),
// i != j, uniform over the m(m-1) ordered pairs (so {i, j} is uniform over unordered
// pairs), and an angle uniform in [0, 2*pi).
struct RotationDraw {
  int64_t i;
  int64_t j;
  double theta;
};

// floor(u * m) < m for every u < 1 and m < 2^52, so no clamp is needed.
EOI_HOST_DEVICE inline RotationDraw draw_rotation(uint64_t seed, int64_t k, int64_t m) {
  const uint64_t c = 3 * static_cast<uint64_t>(k);
  RotationDraw r;
  r.i = static_cast<int64_t>(stream_uniform(seed, c) * static_cast<double>(m));
  const int64_t j = static_cast<int64_t>(stream_uniform(seed, c + 1) * static_cast<double>(m - 1));
  r.j = j + (j >= r.i ? 1 : 0);
  r.theta = stream_uniform(seed, c + 2) * kTwoPi;
  return r;
}

}  // namespace eoi
