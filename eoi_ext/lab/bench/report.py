"""What `eoi bench` shows: the markdown table and the plots of a BenchResult.

The table has one row per (workload, contender) cell, then the log-log slopes and the
sharding rows; the plots are time against n (log-log, with the slopes), orthogonality
error against time, and the strong scaling of sharded initialization when measured.
Seconds are formatted by timing.format_seconds, as in the benchmarks/ report.
"""

from __future__ import annotations

from ..output import pyplot, save_figure
from .config import BenchResult
from .registry import CONTENDERS
from .sharding import ShardingRow
from .timing import format_seconds

__all__ = ["format_sharding", "format_table", "save_plot"]


def _number(value: float | None, fmt: str) -> str:
    return "-" if value is None else format(value, fmt)


def format_table(result: BenchResult) -> str:
    lines = [
        f"eoi bench on {result.machine['device']} ({result.machine['processor']}, "
        f"{result.machine['cpu_threads']} threads), torch {result.machine['torch']}, "
        f"{result.seconds:.0f} s",
        "",
        "| workload | density | method | median | spread (min-max) | vs reference | vs floor "
        "| orthogonality error | density reached | note |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in result.rows:
        if r.skipped:
            lines.append(
                f"| {r.case} | {r.density:g} | {r.method} | skipped | | | | | | {r.skipped} |"
            )
            continue
        note = r.note or ""
        if r.iterations is not None:
            note = f"{r.iterations} iterations" + (f"; {note}" if note else "")
        lines.append(
            f"| {r.case} | {r.density:g} | {r.method} | {format_seconds(r.median_s)} | "
            f"{format_seconds(r.min_s)}-{format_seconds(r.max_s)} ({r.repeats}x) | "
            f"{_number(r.speedup_vs_reference, '.1f')}{'x' if r.speedup_vs_reference else ''} | "
            f"{_number(r.floor_ratio, '.2f')}{'x' if r.floor_ratio else ''} | "
            f"{_number(r.orthogonality_error, '.2e')} | "
            f"{_number(r.achieved_density, '.4f')} | {note} |"
        )
    lines += [
        "",
        f"log-log slope of time against n (square matrices, density {result.slope_density:g}):",
        "",
    ]
    lines += ["| method | slope |", "|---|---|"]
    lines += [f"| {m} | {s:.2f} |" for m, s in result.slopes.items()]
    if result.sharding:
        lines += [
            "",
            "Sharded initialization, strong scaling (DTensor Shard(0), one gloo process per "
            "rank, torch threads = cores / ranks; medians, no collectives):",
            "",
            format_sharding(result.sharding),
        ]
    return "\n".join(lines)


def format_sharding(rows: list[ShardingRow]) -> str:
    """A markdown table of `rows`."""
    lines = [
        "| workload | density | ranks | per-rank time (slowest rank) | speedup | "
        "peak RSS growth (largest rank) | shard floor | memory vs 1 rank |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        ranks = f"{r.ranks}" + (" (oversubscribed)" if r.oversubscribed else "")
        if r.skipped:
            lines.append(f"| {r.case} | {r.density:g} | {ranks} | skipped: {r.skipped} | | | | |")
            continue
        memory = "-" if r.memory_ratio is None else f"{r.memory_ratio:.2f}x"
        lines.append(
            f"| {r.case} | {r.density:g} | {ranks} | {r.median_s * 1e3:.0f} ms | "
            f"{r.speedup:.2f}x | {r.peak_mib:.0f} MiB | {r.floor_mib:.0f} MiB | {memory} |"
        )
    return "\n".join(lines)


def save_plot(result: BenchResult, path: str) -> None:
    plt = pyplot()
    measured_shards = [r for r in result.sharding if r.median_s is not None]
    panels = 3 if measured_shards else 2
    figure, axes = plt.subplots(1, panels, figsize=(6 * panels, 4.5))
    scaling, accuracy = axes[0], axes[1]
    for method in CONTENDERS:
        points = sorted(
            (r.rows, r.median_s)
            for r in result.rows
            if r.method == method
            and r.kind == "square"
            and r.density == result.slope_density
            and r.median_s
        )
        if points:
            label = method + (
                f" (slope {result.slopes[method]:.2f})" if method in result.slopes else ""
            )
            scaling.loglog(*zip(*points, strict=True), marker="o", label=label)
        measured = [
            r
            for r in result.rows
            if r.method == method and r.median_s and r.orthogonality_error is not None
        ]
        if measured:
            accuracy.loglog(
                [r.median_s for r in measured],
                [max(r.orthogonality_error, 1e-17) for r in measured],
                linestyle="none", marker="o", label=method, alpha=0.7,
            )  # fmt: skip
    sizes = sorted({r.rows for r in result.rows if r.kind == "square"})
    scaling.set_xticks(sizes, [str(n) for n in sizes])
    scaling.minorticks_off()
    scaling.set(xlabel="n (n x n matrices)", ylabel="median time [s]",
                title=f"time against size, density {result.slope_density:g}")  # fmt: skip
    accuracy.set(xlabel="median time [s]", ylabel="max |W W^T - I|",
                 title="orthogonality error against time (all workloads)")  # fmt: skip
    scaling.legend(fontsize=8)
    accuracy.legend(fontsize=8)
    if measured_shards:
        strong = axes[2]
        for case in dict.fromkeys(r.case for r in measured_shards):
            cells = [r for r in measured_shards if r.case == case]
            ranks = [r.ranks for r in cells]
            strong.plot(ranks, [r.speedup for r in cells], marker="o", label=f"{case}: speedup")
            strong.plot(ranks, [1 / r.memory_ratio if r.memory_ratio else None for r in cells],
                        marker="s", linestyle="--", label=f"{case}: 1 / memory")  # fmt: skip
        worlds = sorted({r.ranks for r in measured_shards})
        strong.plot(worlds, worlds, color="grey", linewidth=0.8, label="ideal")
        strong.set_xticks(worlds)
        strong.set(xlabel="ranks (processes)", ylabel="ratio to one rank",
                   title="sharded initialization, strong scaling")  # fmt: skip
        strong.legend(fontsize=8)
    save_figure(figure, path)
