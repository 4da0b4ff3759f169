// Support tracking on several threads (docs/algorithm.md, "Parallel tracking"): the same
// pairs, angles, R and support bits as sample_rotations (support_tracker.h), faster for
// one large matrix.
//
// Why it parallelizes: a rotation on (i, j) sets S_i = S_j = S_i | S_j word by word, so
// word w of every column evolves under the rotation sequence independently of the other
// words. Each worker owns a slice of words in every column, runs all rotations over its
// slice and records its share of each rotation's count change |S_i ^ S_j|. Only the
// stopping rule couples the slices, through the prefix sums of those shares. A worker
// keeps its slice in a buffer of its own and copies it into `support` at the end, so
// the tracking holds twice the support's memory while it runs.
//
// The stop cannot be known before the counts are: workers run blocks of rotations sized
// so the block most likely ends before the stop. The expected count change of a rotation
// is at most 2 nnz / m (E|S_i| + E|S_j| over uniform pairs), so nnz after b more
// rotations is expected below nnz (1 + 2/m)^b; a block covers half of the rotations that
// bound leaves before the target, and the last few hundred rotations run on one thread.
// If the stop falls inside a block anyway, the rotations past it cannot be undone (a
// union forgets), so the support is rebuilt from scratch with the now known R: unions
// only, in parallel, no counting. Either way the result is the sequential one, bit for
// bit (csrc/core/tests/test_parallel_tracker.cpp).
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "support_tracker.h"

namespace eoi {

// Runs task(0) .. task(tasks - 1), possibly at once, and returns when all have finished.
// The torch binding passes at::parallel_for (csrc/ops.cpp); the core stays thread-free.
using ParallelRunner = std::function<void(int64_t tasks, const std::function<void(int64_t)>& task)>;

struct ParallelTracking {
  int64_t workers = 1;
  ParallelRunner run;
  // Fraction of the bounded rotations-to-target a block covers. 0.5 by default; a test
  // raises it to force stops inside blocks (and so the rebuild).
  double block_fraction = 0.5;
};

// What a parallel tracking did: for tests and benchmarks.
struct ParallelTrackingStats {
  int64_t workers = 0;              // slices used (1: ran sample_rotations itself)
  int64_t blocks = 0;               // parallel blocks of rotations
  int64_t sequential_rotations = 0;  // rotations drawn by the one-thread tail
  bool rebuilt = false;             // a stop fell inside a block
};

// Words per slice are a multiple of this (one 64-byte cache line), so two workers copying
// their slices out never write the same line; a matrix with fewer than 2 slices' words
// runs sequentially.
constexpr int64_t kSliceWords = 8;

// Whether `count` n x m matrices tracked on `threads` threads should each be tracked by all
// the threads (sample_rotations_parallel) rather than one matrix per thread: when there are
// fewer matrices than threads, and a matrix is large enough to pay for the fork-joins
// (measured in benchmarks/RESULTS.md, "Parallel tracking"). The policy of the binding
// (csrc/ops.cpp) and of the GPU timing tool (csrc/cuda/bench/host_plan.h).
bool worth_parallel_tracking(int64_t count, int64_t threads, int64_t n, int64_t m);

// sample_rotations (support_tracker.h) on `tracking.workers` workers: same arguments and
// results. `support` should be 64-byte aligned (else slices may share a line at their
// edges: slower, still exact).
int64_t sample_rotations_parallel(uint64_t seed, int64_t n, int64_t m, double density, StopRule rule,
                                  std::vector<int32_t>& pairs, std::vector<double>& thetas,
                                  uint64_t* support, const ParallelTracking& tracking,
                                  ParallelTrackingStats* stats = nullptr);

}  // namespace eoi
