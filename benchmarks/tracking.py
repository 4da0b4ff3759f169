"""Sampling + tracking of one plan on one thread and on all: the parallel tracker.

Times the sample_plans op (draws, tracking, the plan's tensors; csrc/ops.cpp) for one
matrix per call with torch.set_num_threads(1) and with every thread, in the same run,
and checks that both give the same plan bit for bit (csrc/core/parallel_tracker.h).
The speed-up is the ratio of the medians.

    python benchmarks/tracking.py [--reps 21] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import torch

import eoi_ext

# (n, m, density, count): square matrices where the tracker runs in parallel, one below
# the size threshold, and a batch, which keeps one thread per matrix.
CASES: list[tuple[int, int, float, int]] = [
    (4096, 4096, 0.1, 1),
    (4096, 4096, 0.01, 1),
    (8192, 8192, 0.1, 1),
    (2048, 2048, 0.1, 1),
    (512, 512, 0.1, 1),
    (128, 128, 0.1, 1000),
]


def plan(seed: int, n: int, m: int, density: float, count: int) -> tuple[torch.Tensor, ...]:
    seeds = torch.arange(seed, seed + count, dtype=torch.long)
    return eoi_ext.ops.sample_plans(seeds, n, m, density, False)


def median_seconds(threads: int, case: tuple[int, int, float, int], reps: int) -> float:
    torch.set_num_threads(threads)
    plan(0, *case)  # warm-up: thread pool, allocator
    times = []
    for rep in range(reps):
        start = time.perf_counter()
        plan(1000 * rep, *case)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def same_plans(threads: int, case: tuple[int, int, float, int]) -> bool:
    torch.set_num_threads(1)
    one = plan(7, *case)
    torch.set_num_threads(threads)
    return all(torch.equal(a, b) for a, b in zip(one, plan(7, *case), strict=True))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=21)
    parser.add_argument("--json", help="write the rows here")
    args = parser.parse_args()
    threads = torch.get_num_threads()
    print(f"eoi_ext {eoi_ext.backend()}, torch {torch.__version__}, {threads} threads")
    print("| n x m | density | count | 1 thread | all threads | speed-up | same plan |")
    print("|---|---|---|---|---|---|---|")
    rows = []
    for case in CASES:
        one = median_seconds(1, case, args.reps)
        many = median_seconds(threads, case, args.reps)
        same = same_plans(threads, case)
        n, m, density, count = case
        rows.append(
            dict(
                n=n,
                m=m,
                density=density,
                count=count,
                one_thread_s=one,
                threads=threads,
                all_threads_s=many,
                speedup=one / many,
                same_plan=same,
            )
        )
        print(
            f"| {n}x{m} | {density} | {count} | {one * 1e3:.2f} ms | {many * 1e3:.2f} ms"
            f" | {one / many:.2f}x | {same} |"
        )
    torch.set_num_threads(threads)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"schema": "eoi-tracking/1", "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
