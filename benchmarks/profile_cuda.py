"""Where the time of one EOI call goes: host sampling and tracking vs the device work.

    python benchmarks/profile_cuda.py [--rows 4096] [--cols 4096] [--density 0.1]
                                      [--count 1] [--device cuda] [--repeats 20]

Times each stage of the pipeline (eoi_ext.build.build: seeds, plan = sampling and
tracking, weights = level schedule, copies and the apply kernel, masks, and the whole
call with and without its chunks, eoi_ext/pipelining.py) as medians over
--repeats calls, each stage synchronized before and after as every benchmark call is
(eoi_ext.lab.bench.timing.synchronized), then prints the torch.profiler table of one
call (CPU ops and, on a GPU, kernels and copies). Also runs on the CPU (--device cpu),
which is how it is smoke-tested without a GPU.

Every stage here is whole calls, host work and launches included. Each kernel alone (CUDA
events) beside a measured write kernel of the same bytes, and the host stages one by one:
csrc/cuda/bench/kernel_timing.cu (scripts/gpu_check.sh, kernels step).
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import time
from collections.abc import Callable, Iterator

import torch
from torch.profiler import ProfilerActivity, profile

import eoi_ext
from eoi_ext import build as build_module
from eoi_ext import givens
from eoi_ext.lab.bench.timing import synchronize, synchronized


def timed(fn: Callable[[], object], device: torch.device) -> tuple[object, float]:
    """One call of `fn` and its wall time, device work included."""
    call = synchronized(fn, device)
    start = time.perf_counter()
    result = call()
    return result, time.perf_counter() - start


@contextlib.contextmanager
def one_chunk() -> Iterator[None]:
    """Builds within are whole, never chunked: the pipelining's gain is the difference."""
    chunks = build_module.build_chunks
    build_module.build_chunks = lambda count, *_, **__: [(0, count)]
    try:
        yield
    finally:
        build_module.build_chunks = chunks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=4096)
    parser.add_argument("--cols", type=int, default=4096)
    parser.add_argument("--density", type=float, default=0.1)
    parser.add_argument("--count", type=int, default=1)
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    device = torch.device(args.device)
    rows, cols, count = args.rows, args.cols, args.count
    generator = torch.Generator().manual_seed(0)
    chunks = len(build_module.build_chunks(count, rows * cols, device, into_out=False))
    print(
        f"{count} x {rows}x{cols} at density {args.density:g} on {device} "
        f"({eoi_ext.backend(device)}), {chunks} chunk(s), medians of {args.repeats} calls"
    )

    def one_call() -> dict[str, float]:
        seeds, t_seeds = timed(lambda: givens.draw_seeds(count, generator), device)
        plan, t_plan = timed(
            lambda: givens.plan_from_seeds(seeds, rows, cols, args.density), device
        )
        _, t_apply = timed(lambda: givens.apply_plan(plan, device=device), device)
        _, t_mask = timed(lambda: givens.support_mask(plan, device=device), device)
        _, t_total = timed(
            lambda: eoi_ext.sparse_orthogonal_batch(
                count, rows, cols, args.density, generator=generator, device=device
            ),
            device,
        )
        with one_chunk():
            _, t_whole = timed(
                lambda: eoi_ext.sparse_orthogonal_batch(
                    count, rows, cols, args.density, generator=generator, device=device
                ),
                device,
            )
        return {
            "seeds (torch.randint)": t_seeds,
            "plan: sampling + tracking (CPU)": t_plan,
            "weights: schedule + copies + apply": t_apply,
            "masks: support copy + mask kernel": t_mask,
            "end to end (sparse_orthogonal_batch)": t_total,
            "end to end, in one chunk": t_whole,
        }

    one_call()  # warm-up: kernels loaded, allocator caches filled
    runs = [one_call() for _ in range(args.repeats)]
    for stage in runs[0]:
        median = statistics.median(run[stage] for run in runs)
        print(f"  {stage:<40} {median * 1e3:9.3f} ms")

    activities = [ProfilerActivity.CPU]
    if device.type == "cuda":
        activities.append(ProfilerActivity.CUDA)
    with profile(activities=activities) as prof:
        eoi_ext.sparse_orthogonal_batch(
            count, rows, cols, args.density, generator=generator, device=device
        )
        synchronize(device)
    sort_by = "cuda_time_total" if device.type == "cuda" else "cpu_time_total"
    print(prof.key_averages().table(sort_by=sort_by, row_limit=15))


if __name__ == "__main__":
    main()
