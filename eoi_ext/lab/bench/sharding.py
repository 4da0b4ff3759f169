"""Strong scaling of sharded initialization, for `eoi bench` and benchmarks/sharding.py.

A workload (one large layer, or a stack of layers) is split by rows (DTensor Shard(0))
over 1, 2, 4... CPU processes (gloo on localhost, torch threads = cores / ranks), and
each rank initializes its shards with init.sparse_orthogonal_: no collective. Reported
per world size: the slowest rank's median time over repeats and the largest peak RSS
growth of a rank during the initialization (the peak is reset first, so imports do not
hide it; the shard's pages are first touched by the initialization), with both as
ratios to one rank. With more ranks than cores the ranks contend for the cores, and
the table says so.
"""

from __future__ import annotations

import os
import resource
import statistics
import tempfile
import time
from dataclasses import dataclass
from typing import Any

from ...sharding import chunk_range

__all__ = ["ShardingCase", "ShardingRow", "measure_sharding"]


@dataclass(frozen=True)
class ShardingCase:
    """`layers` square layers of side `width` at `density` (one layer: layers=1)."""

    layers: int
    width: int
    density: float

    @property
    def name(self) -> str:
        if self.layers == 1:
            return f"{self.width}x{self.width}"
        return f"{self.layers}x({self.width}x{self.width})"


@dataclass
class ShardingRow:
    """One (workload, world size) cell: per-rank figures, and ratios to one rank."""

    case: str
    density: float
    ranks: int
    median_s: float | None = None
    peak_mib: float | None = None
    floor_mib: float | None = None  # the largest shard's float32 weights + one bool mask
    speedup: float | None = None  # one rank's time / this time
    memory_ratio: float | None = None  # this peak / one rank's peak
    oversubscribed: bool = False  # more ranks than CPU cores
    skipped: str | None = None


def _status_mib(field: str) -> float | None:
    """A memory field of /proc/self/status (Linux: "VmRSS", "VmHWM") in MiB, or None."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return None


def _start_peak() -> float:
    """Resets the process's peak RSS to its current RSS (Linux: clear_refs 5) and returns
    the baseline in MiB. Elsewhere the baseline is the peak so far (ru_maxrss)."""
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
        current = _status_mib("VmRSS")
        if current is not None:
            return current
    except OSError:
        pass
    return _peak_mib()


def _peak_mib() -> float:
    peak = _status_mib("VmHWM")
    if peak is not None:
        return peak
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def _worker(rank: int, world: int, store: str, case: ShardingCase, repeats: int, results) -> None:
    import torch
    import torch.distributed as dist
    from torch.distributed.device_mesh import init_device_mesh
    from torch.distributed.tensor import DTensor, Shard

    from ...init import sparse_orthogonal_

    torch.set_num_threads(max(1, (os.cpu_count() or 1) // world))
    dist.init_process_group("gloo", init_method=f"file://{store}", rank=rank, world_size=world)
    mesh = init_device_mesh("cpu", (world,))
    n = case.width
    begin, end = chunk_range(n, world, rank)
    local_rows = end - begin
    shape, stride = torch.Size((n, n)), (n, 1)
    weights = [
        DTensor.from_local(
            torch.empty(local_rows, n),
            mesh,
            [Shard(0)],
            run_check=False,
            shape=shape,
            stride=stride,
        )
        for _ in range(case.layers)
    ]
    before = _start_peak()
    times = []
    for repeat in range(repeats):
        generator = torch.Generator().manual_seed(repeat)
        start = time.perf_counter()
        for weight in weights:
            sparse_orthogonal_(weight, case.density, generator=generator)
        times.append(time.perf_counter() - start)
    results.put((rank, statistics.median(times), _peak_mib() - before))
    # Every rank is done before any leaves (a rank leaving while a peer still talks to it
    # can abort gloo); then exit without C++ teardown, which can abort after success.
    dist.barrier()
    dist.destroy_process_group()
    os._exit(0)


def measure_sharding(
    cases: list[ShardingCase], worlds: tuple[int, ...], *, repeats: int = 3, progress: Any = None
) -> list[ShardingRow]:
    """Rows for every (case, world size), world sizes in order, ratios to the first
    (one rank when 1 is in `worlds`). `progress`: an object with .update(1) per cell."""
    import torch.distributed as dist
    import torch.multiprocessing as mp

    rows = []
    cores = os.cpu_count() or 1
    for case in cases:
        first: ShardingRow | None = None
        for world in worlds:
            row = ShardingRow(case.name, case.density, world, oversubscribed=world > cores)
            if not dist.is_available() or not dist.is_gloo_available():
                row.skipped = "torch.distributed with gloo is not available"
            else:
                results = mp.get_context("spawn").SimpleQueue()
                with tempfile.TemporaryDirectory() as folder:
                    store = os.path.join(folder, "store")
                    mp.spawn(_worker, args=(world, store, case, repeats, results), nprocs=world)
                measured = [results.get() for _ in range(world)]
                row.median_s = max(seconds for _, seconds, _ in measured)
                row.peak_mib = max(mib for _, _, mib in measured)
                # What a rank keeps: its float32 weights, and the mask of the layer being
                # built (rank 0 holds the largest shard).
                begin, end = chunk_range(case.width, world, 0)
                shard = (end - begin) * case.width
                row.floor_mib = (case.layers * shard * 4 + shard) / 2**20
                first = first or row
                row.speedup = first.median_s / row.median_s
                row.memory_ratio = row.peak_mib / first.peak_mib if first.peak_mib else None
            rows.append(row)
            if progress is not None:
                progress.update(1)
    return rows
