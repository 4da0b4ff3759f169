"""`eoi bench`: EOI against every alternative, measured in one run on one machine.

Every workload of the config (square matrices over sizes and densities, rectangular
ones, the paper's deep MLP, 1000-layer CNN, ResNet-32 and VGG-16 initialized as whole
models through sparsify) is measured for every contender of the registry available on
the device (registry.py: eoi on each backend, the published algorithm, the paper's
baselines base, ai and sao on networks, svd_ai and ai_kaiming, dense orthogonal_, the
memory floor), then the strong scaling of sharded initialization over 1, 2, 4 CPU
processes (sharding.py). Each cell is the median of repeated calls (timing.py), with
the spread; slow anchors are skipped above a size where they would take minutes, and
the table says so. report.py writes the table and the plots.
"""

from __future__ import annotations

import math
import time

import torch

from ..output import progress_bar
from .config import BenchConfig, BenchResult, Row, machine_info
from .registry import CONTENDERS, available_methods, prepare
from .sharding import ShardingCase, measure_sharding
from .timing import repeat, synchronized
from .workloads import MatrixWorkload, Workload

__all__ = ["measure_cell", "run_bench"]


def measure_cell(name: str, workload: Workload, device: torch.device, config: BenchConfig) -> Row:
    """The Row of contender `name` on `workload`: timed, or skipped with the reason."""
    if isinstance(workload, MatrixWorkload):
        shape = (workload.kind, workload.rows, workload.cols)
    else:
        shape = ("network", workload.depth, workload.width)
    row = Row(workload.name, *shape, workload.density, name)
    cell = prepare(name, workload, device, config)
    if cell.call is None:
        row.skipped = cell.skipped
        return row
    # On the run's device even for CPU-only contenders: in a GPU run every sample then
    # starts and ends with the GPU idle, whatever the row.
    timing, result = repeat(
        synchronized(cell.call, device),
        min_seconds=config.min_seconds,
        max_repeats=config.max_repeats,
    )
    row.median_s, row.min_s, row.max_s = timing.median, timing.min, timing.max
    row.repeats = timing.repeats
    for key, value in cell.figures(result).items():
        setattr(row, key, value)
    return row


def run_bench(config: BenchConfig, *, progress: bool = True) -> BenchResult:
    """Measures every (workload, contender) cell of `config`, then the sharding rows."""
    device = torch.device(config.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("--device cuda needs a CUDA build of torch and a GPU; none is available")
    names = available_methods(device)
    cells = [
        (name, workload)
        for workload in config.workloads()
        for name in names
        if CONTENDERS[name].measures(workload)
    ]
    sharding = [ShardingCase(*case) for case in config.sharding]
    result = BenchResult(config, machine_info(device))
    start = time.perf_counter()
    total = len(cells) + len(sharding) * len(config.sharding_worlds)
    bar = progress_bar(total, "eoi bench", enabled=progress, unit="cell")
    for name, workload in cells:
        result.rows.append(measure_cell(name, workload, device, config))
        if bar is not None:
            bar.update(1)
    result.sharding = measure_sharding(
        sharding, config.sharding_worlds, repeats=config.sharding_repeats, progress=bar
    )
    if bar is not None:
        bar.close()
    result.seconds = time.perf_counter() - start
    _relate(result.rows)
    result.slope_density = (
        0.1 if 0.1 in config.densities else config.densities[len(config.densities) // 2]
    )
    result.slopes = _slopes(result.rows, result.slope_density)
    return result


def _relate(rows: list[Row]) -> None:
    """Speedup over the reference and ratio to the floor, within each workload."""
    by_case: dict[tuple[str, float], dict[str, Row]] = {}
    for row in rows:
        by_case.setdefault((row.case, row.density), {})[row.method] = row
    for cells in by_case.values():
        reference, floor = cells.get("reference"), cells.get("floor")
        for row in cells.values():
            if row.median_s is None:
                continue
            if (
                reference is not None
                and reference.median_s is not None
                and row.method != "reference"
            ):
                row.speedup_vs_reference = reference.median_s / row.median_s
            if floor is not None and floor.median_s and row.method != "floor":
                row.floor_ratio = row.median_s / floor.median_s


def _slopes(rows: list[Row], density: float) -> dict[str, float]:
    """Least-squares slope of log(time) against log(n) over the square workloads at
    `density`, per contender (with at least 2 sizes measured), in registry order."""
    slopes = {}
    for method in CONTENDERS:
        points = [
            (math.log(r.rows), math.log(r.median_s))
            for r in rows
            if r.method == method and r.kind == "square" and r.density == density and r.median_s
        ]
        if len(points) < 2:
            continue
        mean_x = sum(x for x, _ in points) / len(points)
        mean_y = sum(y for _, y in points) / len(points)
        sxx = sum((x - mean_x) ** 2 for x, _ in points)
        if sxx > 0:
            slopes[method] = sum((x - mean_x) * (y - mean_y) for x, y in points) / sxx
    return slopes
