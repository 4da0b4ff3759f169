#include "parallel_tracker.h"

#include <algorithm>
#include <cmath>

#include "random_stream.h"

namespace eoi {

namespace {

// A block shorter than this is not worth its two fork-joins: the tail runs on one thread.
constexpr int64_t kMinBlock = 64;
// Bounds the per-worker share buffers (int32: a slice's share of one rotation is at most
// 2 * 64 * its words).
constexpr int64_t kMaxBlock = int64_t{1} << 15;
// Entries of A below which one thread tracks faster (benchmarks/RESULTS.md).
constexpr int64_t kParallelMinEntries = int64_t{1} << 24;

// Word slices of every column, one per worker, each a whole number of cache lines.
struct Slices {
  int64_t words;
  int64_t count;
  int64_t begin(int64_t t) const {
    const int64_t lines = (words + kSliceWords - 1) / kSliceWords;
    return std::min(words, t * lines / count * kSliceWords);
  }
  int64_t end(int64_t t) const { return begin(t + 1); }
};

// Rotations in the next block: `fraction` of the rotations that the expected-growth
// bound nnz (1 + 2/m)^b leaves before the target. A target at or above n * m is met only
// by the full support, which no rotation changes, so a block may then run past the stop.
int64_t next_block(int64_t nnz, double target, int64_t n, int64_t m, double fraction) {
  if (target >= static_cast<double>(n) * static_cast<double>(m)) return kMaxBlock;
  const double bound = std::log(target / static_cast<double>(nnz)) / std::log1p(2.0 / static_cast<double>(m));
  return static_cast<int64_t>(std::min(fraction * bound, static_cast<double>(kMaxBlock)));
}

// A worker's slice [w0, w1) of every column, in its own buffer: column c's words at
// c * (w1 - w0). Two workers writing halves of the same columns in place slowed both
// down (the hardware prefetchers pull the neighbour's lines of each column, which then
// move between the cores on every write); private buffers share no line at all.
struct Slice {
  int64_t w0 = 0;
  int64_t w1 = 0;
  std::vector<uint64_t> words;

  int64_t width() const { return w1 - w0; }
  uint64_t* column(int64_t c) { return words.data() + c * width(); }

  // The slice of the support of [I_n | 0] (SupportTracker's reset).
  void reset(int64_t n, int64_t m) {
    words.assign(m * width(), 0);
    for (int64_t c = 64 * w0; c < n && c < 64 * w1; ++c) column(c)[c / 64 - w0] = uint64_t{1} << (c % 64);
  }

  // Applies the rotation; returns the slice's share of its count change.
  int64_t rotate(int64_t i, int64_t j) {
    const int64_t change = symmetric_difference_size(column(i), column(j), width());
    unite_words(column(i), column(j), width());
    return change;
  }

  void copy_to(uint64_t* support, int64_t m, int64_t support_words) {
    for (int64_t c = 0; c < m; ++c) std::copy(column(c), column(c) + width(), support + c * support_words + w0);
  }
};

// Rotations pairs[0 .. block - 1] on one slice; shares[b] gets rotation b's count change.
EOI_POPCNT_CLONES
void rotate_block(Slice& slice, const int32_t* pairs, int64_t block, int32_t* shares) {
  for (int64_t b = 0; b < block; ++b) shares[b] = static_cast<int32_t>(slice.rotate(pairs[2 * b], pairs[2 * b + 1]));
}

// The stopping rule of sample_rotations_from (support_tracker.cpp) run over the counts of
// a block of rotations first .. first + block - 1, applied from count `nnz`.
struct BlockScan {
  int64_t stop = -1;        // R, if the rule holds within the block
  int64_t nnz_at_stop = 0;  // the count after R rotations
  int64_t nnz_after_block = 0;
};

BlockScan scan_block(const std::vector<int32_t>& shares, int64_t workers, int64_t block, int64_t first,
                     int64_t nnz, double target, StopRule rule, int64_t full) {
  BlockScan scan;
  int64_t count = nnz;
  for (int64_t b = 0; b < block; ++b) {
    int64_t change = 0;
    for (int64_t t = 0; t < workers; ++t) change += shares[t * block + b];
    const auto before = static_cast<double>(count);
    const auto after = static_cast<double>(count + change);
    const int64_t k = first + b;
    if (scan.stop < 0 && rule == StopRule::kNearest && after >= target) {
      const bool previous_closer = target - before < after - target;
      scan.stop = previous_closer ? k : k + 1;
      scan.nnz_at_stop = previous_closer ? count : count + change;
    } else if (scan.stop < 0 && rule == StopRule::kAtMost && after > target) {
      scan.stop = k;
      scan.nnz_at_stop = count;
    } else if (scan.stop < 0 && count + change == full) {
      scan.stop = k + 1;
      scan.nnz_at_stop = count + change;
    }
    count += change;
  }
  scan.nnz_after_block = count;
  return scan;
}

}  // namespace

bool worth_parallel_tracking(int64_t count, int64_t threads, int64_t n, int64_t m) {
  return count < threads && support_words(n) >= 2 * kSliceWords && n * m >= kParallelMinEntries;
}

int64_t sample_rotations_parallel(uint64_t seed, int64_t n, int64_t m, double density, StopRule rule,
                                  std::vector<int32_t>& pairs, std::vector<double>& thetas,
                                  uint64_t* support, const ParallelTracking& tracking,
                                  ParallelTrackingStats* stats) {
  ParallelTrackingStats unused;
  ParallelTrackingStats& st = stats ? *stats : unused;
  st = ParallelTrackingStats{};
  const int64_t words = support_words(n);
  const double target = target_count(n, m, density);
  const Slices slices{words, std::min(tracking.workers, (words + kSliceWords - 1) / kSliceWords)};
  if (slices.count < 2 || !tracking.run || stops_at_identity(n, m, target, rule)) {
    st.workers = 1;
    return sample_rotations(seed, n, m, density, rule, pairs, thetas, support);
  }
  st.workers = slices.count;
  const int64_t first = static_cast<int64_t>(thetas.size());  // pairs and thetas are appended to
  std::vector<Slice> local(slices.count);
  auto each_slice = [&](auto&& body) { tracking.run(slices.count, [&](int64_t t) { body(local[t]); }); };
  for (int64_t t = 0; t < slices.count; ++t) local[t].w0 = slices.begin(t), local[t].w1 = slices.end(t);
  each_slice([&](Slice& slice) { slice.reset(n, m); });  // allocated by the thread that uses it

  std::vector<int32_t> shares;  // shares[t * block + b]: slice t's count change of rotation b
  int64_t nnz = n;
  int64_t done = 0;  // rotations applied by the blocks
  for (int64_t block; (block = next_block(nnz, target, n, m, tracking.block_fraction)) >= kMinBlock;) {
    ++st.blocks;
    pairs.resize(2 * (first + done + block));
    thetas.resize(first + done + block);
    tracking.run(slices.count, [&](int64_t t) {
      for (int64_t k = done + t * block / slices.count; k < done + (t + 1) * block / slices.count; ++k) {
        const RotationDraw r = draw_rotation(seed, k, m);
        pairs[2 * (first + k)] = static_cast<int32_t>(r.i);
        pairs[2 * (first + k) + 1] = static_cast<int32_t>(r.j);
        thetas[first + k] = r.theta;
      }
    });
    shares.resize(slices.count * block);
    const int32_t* block_pairs = pairs.data() + 2 * (first + done);
    tracking.run(slices.count,
                 [&](int64_t t) { rotate_block(local[t], block_pairs, block, shares.data() + t * block); });
    const BlockScan scan = scan_block(shares, slices.count, block, done, nnz, target, rule, n * m);
    const int64_t stop = scan.stop;
    if (stop >= 0) {
      // Supports only grow, so an equal count after the block means the same support.
      const bool rebuild = scan.nnz_after_block != scan.nnz_at_stop;
      st.rebuilt = rebuild;
      each_slice([&](Slice& slice) {
        if (rebuild) {
          slice.reset(n, m);
          for (int64_t k = 0; k < stop; ++k) unite_words(slice.column(pairs[2 * (first + k)]),
                                                         slice.column(pairs[2 * (first + k) + 1]), slice.width());
        }
        slice.copy_to(support, m, words);
      });
      pairs.resize(2 * (first + stop));
      thetas.resize(first + stop);
      return stop;
    }
    nnz = scan.nnz_after_block;
    done += block;
  }
  pairs.resize(2 * (first + done));
  thetas.resize(first + done);
  each_slice([&](Slice& slice) { slice.copy_to(support, m, words); });
  SupportTracker tracker(n, m, support, nnz);
  const int64_t rotations = sample_rotations_from(seed, done, target, rule, tracker, pairs, thetas);
  st.sequential_rotations = rotations - done;
  return rotations;
}

}  // namespace eoi
