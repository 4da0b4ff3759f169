// parallel_tracker: sample_rotations_parallel equals sample_rotations bit for bit (R, the
// pairs, the angles, every support word) for both stopping rules, several shapes,
// densities and worker counts, on real threads and on one thread running the slices in
// reverse (which fails if a slice reads another's words). A large block fraction forces
// stops inside blocks, so the rebuild is checked too; stats show which paths ran.
#include "parallel_tracker.h"

#include <cstdint>
#include <cstring>
#include <thread>
#include <vector>

#include "check.h"

using namespace eoi;

namespace {

void run_on_threads(int64_t tasks, const std::function<void(int64_t)>& task) {
  std::vector<std::thread> threads;
  for (int64_t t = 1; t < tasks; ++t) threads.emplace_back(task, t);
  task(0);
  for (auto& thread : threads) thread.join();
}

void run_in_reverse(int64_t tasks, const std::function<void(int64_t)>& task) {
  for (int64_t t = tasks - 1; t >= 0; --t) task(t);
}

struct Result {
  int64_t rotations;
  std::vector<int32_t> pairs;
  std::vector<double> thetas;
  std::vector<uint64_t> support;
};

bool same(const Result& a, const Result& b) {
  return a.rotations == b.rotations && a.pairs == b.pairs && a.support == b.support &&
         a.thetas.size() == b.thetas.size() &&
         (a.thetas.empty() || std::memcmp(a.thetas.data(), b.thetas.data(), a.thetas.size() * sizeof(double)) == 0);
}

// `prefix` rotations' worth of junk already in the lists: both functions append.
Result sequential(uint64_t seed, int64_t n, int64_t m, double d, StopRule rule, int64_t prefix) {
  Result r{0, std::vector<int32_t>(2 * prefix, 7), std::vector<double>(prefix, 0.5),
           std::vector<uint64_t>(m * support_words(n), ~uint64_t{0})};
  r.rotations = sample_rotations(seed, n, m, d, rule, r.pairs, r.thetas, r.support.data());
  return r;
}

Result parallel(uint64_t seed, int64_t n, int64_t m, double d, StopRule rule, int64_t prefix,
                const ParallelTracking& tracking, ParallelTrackingStats* stats) {
  Result r{0, std::vector<int32_t>(2 * prefix, 7), std::vector<double>(prefix, 0.5),
           std::vector<uint64_t>(m * support_words(n), ~uint64_t{0})};
  r.rotations = sample_rotations_parallel(seed, n, m, d, rule, r.pairs, r.thetas, r.support.data(), tracking, stats);
  return r;
}

}  // namespace

int main() {
  struct Shape {
    int64_t n, m;
  };
  const Shape shapes[] = {{1000, 1000}, {1025, 1500}, {2048, 2048}, {1100, 4000}, {64, 3000}, {3, 50}};
  const double densities[] = {0.005, 0.05, 0.1, 0.3, 0.9, 1.0};
  const StopRule rules[] = {StopRule::kNearest, StopRule::kAtMost};
  int64_t parallel_runs = 0, rebuilds = 0, tails = 0, forced_runs = 0;
  uint64_t seed = 11;
  for (const Shape& s : shapes)
    for (double d : densities)
      for (StopRule rule : rules) {
        ++seed;
        const Result want = sequential(seed, s.n, s.m, d, rule, seed % 3);
        for (int64_t workers : {2, 3, 8})
          for (double fraction : {0.5, 4.0}) {
            const bool threads = workers != 3;
            const ParallelTracking tracking{workers, threads ? ParallelRunner(run_on_threads) : run_in_reverse,
                                            fraction};
            ParallelTrackingStats stats;
            const Result got = parallel(seed, s.n, s.m, d, rule, seed % 3, tracking, &stats);
            CHECK_MSG(same(got, want), "n=%lld m=%lld d=%g rule=%d workers=%lld fraction=%g: R %lld vs %lld",
                      (long long)s.n, (long long)s.m, d, (int)rule, (long long)workers, fraction,
                      (long long)got.rotations, (long long)want.rotations);
            if (stats.workers > 1) {
              ++parallel_runs;
              CHECK(stats.workers <= workers);
              CHECK(stats.workers <= (support_words(s.n) + kSliceWords - 1) / kSliceWords);
            }
            rebuilds += stats.rebuilt;
            tails += stats.sequential_rotations > 0;
            forced_runs += fraction > 1 && stats.blocks > 0;
          }
      }
  // Every path ran: parallel blocks, the rebuild after a stop inside a block, the tail.
  CHECK(parallel_runs > 100);
  CHECK(rebuilds > 10);
  CHECK(tails > 10);
  CHECK(forced_runs > 10);
  std::printf("parallel runs %lld, rebuilds %lld, tails %lld\n", (long long)parallel_runs, (long long)rebuilds,
              (long long)tails);

  // One worker, or too few words for two slices: sample_rotations itself.
  ParallelTrackingStats stats;
  const ParallelTracking one{1, run_on_threads};
  CHECK(same(parallel(5, 2048, 2048, 0.1, StopRule::kNearest, 0, one, &stats),
             sequential(5, 2048, 2048, 0.1, StopRule::kNearest, 0)));
  CHECK(stats.workers == 1 && stats.blocks == 0);
  const ParallelTracking many{8, run_on_threads};
  CHECK(same(parallel(5, 500, 900, 0.1, StopRule::kNearest, 0, many, &stats),
             sequential(5, 500, 900, 0.1, StopRule::kNearest, 0)));
  CHECK(stats.workers == 1);

  // The binding's policy: all threads on one matrix only for fewer matrices than threads,
  // 2^24 entries and two slices of words.
  CHECK(worth_parallel_tracking(1, 2, 4096, 4096));
  CHECK(worth_parallel_tracking(3, 16, 1024, 16384));
  CHECK(!worth_parallel_tracking(2, 2, 4096, 4096));
  CHECK(!worth_parallel_tracking(1, 1, 4096, 4096));
  CHECK(!worth_parallel_tracking(1, 2, 2048, 4096));
  CHECK(!worth_parallel_tracking(1, 2, 64, 1 << 20));  // one word of rows: no two slices
  return check_report();
}
