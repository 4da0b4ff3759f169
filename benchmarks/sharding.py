"""Strong scaling of sharded initialization: one layer (or a stack of layers) split by
rows over 1, 2 and 4 CPU processes (gloo, DTensor Shard(0)); per-rank time and peak
memory growth. Each rank builds only its shard (no collectives).

    python benchmarks/sharding.py [--size 16384] [--density 0.01] [--worlds 1 2 4]
                                  [--layers 0] [--width 512] [--repeats 3]

--layers N > 0 initializes N layers of width x width instead of one size x size layer.
Ranks run concurrently: with more ranks than cores, per-rank time includes contention.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import tempfile
import time

import torch
import torch.distributed as dist
import torch.multiprocessing as mp


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def _worker(rank: int, world: int, store: str, args: argparse.Namespace, results) -> None:
    from torch.distributed.device_mesh import init_device_mesh
    from torch.distributed.tensor import DTensor, Shard

    from eoi_ext.init import sparse_orthogonal_

    torch.set_num_threads(max(1, (os.cpu_count() or 1) // world))
    dist.init_process_group("gloo", init_method=f"file://{store}", rank=rank, world_size=world)
    mesh = init_device_mesh("cpu", (world,))
    shapes = [(args.width, args.width)] * args.layers if args.layers else [(args.size, args.size)]
    weights = []
    for rows, cols in shapes:
        chunk = -(-rows // world)
        local_rows = max(0, min(rows, (rank + 1) * chunk) - min(rows, rank * chunk))
        local = torch.empty(local_rows, cols)
        global_shape = torch.Size((rows, cols))
        weights.append(
            DTensor.from_local(
                local, mesh, [Shard(0)], run_check=False, shape=global_shape, stride=(cols, 1)
            )
        )
    before = _peak_mib()
    times = []
    for repeat in range(args.repeats):
        generator = torch.Generator().manual_seed(repeat)
        start = time.perf_counter()
        for weight in weights:
            sparse_orthogonal_(weight, args.density, generator=generator)
        times.append(time.perf_counter() - start)
    results.put((rank, statistics.median(times), _peak_mib() - before))
    dist.destroy_process_group()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=16384)
    parser.add_argument("--density", type=float, default=0.01)
    parser.add_argument("--worlds", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--layers", type=int, default=0)
    parser.add_argument("--width", type=int, default=512)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    what = (
        f"{args.layers} layers of {args.width}x{args.width}" if args.layers
        else f"one {args.size}x{args.size} layer"
    )  # fmt: skip
    print(f"{what} at density {args.density:g}, Shard(0), {os.cpu_count()} CPU cores")
    print(
        "| ranks | per-rank time (median of repeats, slowest rank) | peak RSS growth (max rank) |"
    )
    print("|---|---|---|")
    context = mp.get_context("spawn")
    for world in args.worlds:
        results = context.SimpleQueue()
        with tempfile.TemporaryDirectory() as folder:
            mp.spawn(
                _worker, args=(world, os.path.join(folder, "store"), args, results), nprocs=world
            )
        rows = [results.get() for _ in range(world)]
        slowest = max(seconds for _, seconds, _ in rows)
        memory = max(mib for _, _, mib in rows)
        print(f"| {world} | {slowest * 1e3:.0f} ms | {memory:.0f} MiB |")


if __name__ == "__main__":
    main()
