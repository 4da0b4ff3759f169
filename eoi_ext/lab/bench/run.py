"""`eoi bench`: EOI against every alternative, measured in one run on one machine.

Methods (DESIGN.md 1.8): eoi on every available backend (``eoi[cpu-ext]``,
``eoi[python]``, ``eoi[cuda-ext]``), the published algorithm (``reference``), SVD-based
and gradient-based approximate isometry (``svd_ai``, ``ai``: from a random sparse
initialization, reporting the iterations and the error reached), dense
``torch.nn.init.orthogonal_`` (``orthogonal``, a speed anchor, not sparse) and the
memory floor (``floor``: allocate and zero the same float32 weights and bool masks).

Workloads: square matrices over sizes and densities, rectangular ones, the paper's
deep networks (an MLP and a CNN) initialized as whole models through ``sparsify``, and
the strong scaling of sharded initialization over 1, 2, 4 CPU processes (one large
layer and a stack of layers, split by rows; eoi_ext.bench_sharding). Each
cell is the median of repeated calls (with the spread); slow anchors are skipped above a
size where they would take minutes, and the table says so. Outputs: a markdown table,
a JSON file and PNG plots (time against n, log-log; orthogonality error against time).
"""

from __future__ import annotations

import math
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
from torch import Tensor, nn

from ... import __version__, baselines
from ...backends import backend, build_info, use_python_backend
from ...densities import layer_densities
from ...layers import find_layer_weights
from ...matrices import sparse_orthogonal
from ...metrics import layer_orthogonality_error, orthogonality_error
from ...reference import published_sparse_orthogonal
from ...sparsify import sparsify
from ..models import deep_mlp, vanilla_cnn
from .sharding import ShardingCase, ShardingRow, format_sharding, measure_sharding

METHODS = (
    "eoi[cpu-ext]", "eoi[python]", "eoi[cuda-ext]", "reference", "svd_ai", "ai",
    "orthogonal", "floor",
)  # fmt: skip
ERROR_SAMPLE_ROWS = 512  # orthogonality error of larger matrices: on this many rows


@dataclass(frozen=True)
class BenchConfig:
    """What `eoi bench` measures. `quick()` fits in about 2 minutes on 2 CPU cores."""

    sizes: tuple[int, ...] = (128, 256, 512, 1024, 2048, 4096)
    densities: tuple[float, ...] = (0.01, 0.05, 0.1, 0.25)
    rectangles: tuple[tuple[int, int], ...] = ((1024, 4096), (4096, 1024), (128, 2048))
    rectangle_density: float = 0.1
    networks: tuple[tuple[str, int, int], ...] = (("mlp", 1000, 128), ("cnn", 1000, 128))
    network_density: float = 0.125
    network_distribution: str = "uniform_dense_ends"
    reference_max_side: int = 1024  # the published algorithm: ~1 s at 1024^2, ~n^3
    isometry_max_side: int = 1024  # ai / svd_ai: O(iterations * n^3)
    reference_max_layers: int = 1000  # networks: one published call per layer
    isometry_networks: tuple[str, ...] = ("mlp",)
    ai_steps: int = baselines.AI_STEPS
    svd_iterations: int = baselines.SVD_ITERATIONS
    sharding: tuple[tuple[int, int, float], ...] = ((1, 16384, 0.01), (1000, 512, 0.125))
    sharding_worlds: tuple[int, ...] = (1, 2, 4)  # (layers, width, density) per workload
    sharding_repeats: int = 3
    max_repeats: int = 5
    min_seconds: float = 0.5  # repeat a cell until it has run this long (or max_repeats)
    device: str = "cpu"
    seed: int = 0

    @classmethod
    def quick(cls, device: str = "cpu") -> BenchConfig:
        return cls(
            sizes=(128, 256, 512, 1024, 2048),
            rectangles=((256, 1024), (1024, 256)),
            networks=(("mlp", 1000, 128), ("cnn", 50, 128)),
            reference_max_side=512,
            isometry_max_side=512,
            reference_max_layers=0,
            isometry_networks=(),
            sharding=((1, 4096, 0.01), (100, 512, 0.125)),
            sharding_worlds=(1, 2),
            max_repeats=3,
            min_seconds=0.2,
            device=device,
        )

    @classmethod
    def full(cls, device: str = "cpu") -> BenchConfig:
        sizes = (128, 256, 512, 1024, 2048, 4096)
        if torch.device(device).type == "cuda":
            sizes = (*sizes, 8192, 16384)
        return cls(sizes=sizes, device=device)


@dataclass
class Row:
    """One measured (or skipped) cell."""

    case: str
    kind: str  # "square" | "rectangle" | "network"
    rows: int
    cols: int
    density: float
    method: str
    median_s: float | None = None
    min_s: float | None = None
    max_s: float | None = None
    repeats: int = 0
    speedup_vs_reference: float | None = None
    floor_ratio: float | None = None
    orthogonality_error: float | None = None
    achieved_density: float | None = None
    iterations: int | None = None
    skipped: str | None = None
    note: str | None = None


@dataclass
class BenchResult:
    config: BenchConfig
    machine: dict[str, Any]
    rows: list[Row] = field(default_factory=list)
    slopes: dict[str, float] = field(default_factory=dict)
    slope_density: float = 0.1
    sharding: list[ShardingRow] = field(default_factory=list)
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": "eoi-bench/1",
            "machine": self.machine,
            "config": asdict(self.config),
            "rows": [asdict(row) for row in self.rows],
            "slopes": self.slopes,
            "slope_density": self.slope_density,
            "sharding": [asdict(row) for row in self.sharding],
            "seconds": self.seconds,
        }


def machine_info(device: torch.device) -> dict[str, Any]:
    info: dict[str, Any] = {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_threads": torch.get_num_threads(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "eoi_ext": __version__,
        "build": build_info(),
        "device": str(device),
    }
    if device.type == "cuda":
        info["gpu"] = torch.cuda.get_device_name(device)
    return info


def available_methods(device: torch.device) -> list[str]:
    """Methods measured on `device`: eoi on the compiled backend(s) present and always
    on the fallback, and every baseline."""
    methods = ["eoi[python]", "reference", "svd_ai", "ai", "orthogonal", "floor"]
    if backend("cpu") == "cpu-ext":
        methods.insert(0, "eoi[cpu-ext]")
    if device.type == "cuda" and backend(device) == "cuda-ext":
        methods.insert(0, "eoi[cuda-ext]")
    return methods


# ---- timing -------------------------------------------------------------------------


def _timed(
    fn: Callable[[], Any], device: torch.device, config: BenchConfig
) -> tuple[list[float], Any]:
    """Calls fn until it has run config.min_seconds or config.max_repeats times, after
    one warm-up call when that call is cheap (< 1 s; a slow first call is kept as a
    sample). Returns (seconds per call, the last result)."""

    def once() -> tuple[float, Any]:
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        start = time.perf_counter()
        result = fn()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        return time.perf_counter() - start, result

    first, result = once()
    times = [] if first < 1.0 else [first]
    while len(times) < config.max_repeats and (not times or sum(times) < config.min_seconds):
        seconds, result = once()
        times.append(seconds)
    return times, result


# ---- matrices -----------------------------------------------------------------------


def _matrix_error(weight: Tensor) -> tuple[float, str | None]:
    """Orthogonality error, on an evenly spaced sample of the smaller side's rows for
    large matrices (a principal block of W W^T - I)."""
    w = weight if weight.shape[0] <= weight.shape[1] else weight.T
    if w.shape[0] <= 2 * ERROR_SAMPLE_ROWS:
        return orthogonality_error(w), None
    rows = torch.linspace(0, w.shape[0] - 1, ERROR_SAMPLE_ROWS).long().to(w.device)
    return orthogonality_error(w[rows]), f"error on {ERROR_SAMPLE_ROWS} sampled rows"


def _matrix_method(
    method: str, rows: int, cols: int, density: float, device: torch.device, config: BenchConfig
) -> tuple[Callable[[], Any], str | None]:
    """(a call producing (W, M) or a baseline result, why it is skipped or None)."""
    side = max(rows, cols)
    g = torch.Generator().manual_seed(config.seed)
    if method == "eoi[cpu-ext]":
        return (lambda: sparse_orthogonal(rows, cols, density, generator=g)), None
    if method == "eoi[cuda-ext]":
        return (lambda: sparse_orthogonal(rows, cols, density, generator=g, device=device)), None
    if method == "eoi[python]":

        def fallback() -> tuple[Tensor, Tensor]:
            with use_python_backend():
                return sparse_orthogonal(rows, cols, density, generator=g, device=device)

        return fallback, None
    if method == "reference":
        if side > config.reference_max_side:
            return _skip, f"above {config.reference_max_side} (would take minutes)"
        return (
            lambda: published_sparse_orthogonal(
                rows, cols, density, dtype=torch.float32, generator=g
            )[:2]
        ), None
    if method in ("ai", "svd_ai"):
        if side > config.isometry_max_side:
            return _skip, f"above {config.isometry_max_side} (would take minutes)"

        def isometry() -> tuple[Tensor, Tensor, Tensor]:
            w, m = baselines.random_sparse((rows, cols), density, generator=g, device=device)
            if method == "ai":
                w, errors = baselines.approximate_isometry(w, m, steps=config.ai_steps)
            else:
                w, errors = baselines.svd_isometry(w, m, iterations=config.svd_iterations)
            return w[0], m[0], errors

        return isometry, None
    if method == "orthogonal":
        weight = torch.empty(rows, cols, device=device)
        dense_generator = g if device.type == "cpu" else None
        return (lambda: (torch.nn.init.orthogonal_(weight, generator=dense_generator), None)), None
    if method == "floor":
        return (
            lambda: (
                torch.zeros(rows, cols, device=device),
                torch.zeros(rows, cols, dtype=torch.bool, device=device),
            )
        ), None
    raise ValueError(f"unknown method {method!r}")


def _skip() -> None:
    return None


def _measure_matrix(
    case: str, kind: str, rows: int, cols: int, density: float, method: str,
    device: torch.device, config: BenchConfig,
) -> Row:  # fmt: skip
    row = Row(case, kind, rows, cols, density, method)
    fn, skipped = _matrix_method(method, rows, cols, density, device, config)
    if skipped:
        row.skipped = skipped
        return row
    times, result = _timed(fn, device, config)
    _fill_times(row, times)
    if method == "floor":
        return row
    weight, mask = result[0], result[1]
    if method in ("ai", "svd_ai"):
        row.orthogonality_error = float(result[2].max())
        row.iterations = config.ai_steps if method == "ai" else config.svd_iterations
    else:
        row.orthogonality_error, row.note = _matrix_error(weight)
    row.achieved_density = 1.0 if mask is None else float(mask.float().mean())
    return row


def _fill_times(row: Row, times: list[float]) -> None:
    row.median_s = statistics.median(times)
    row.min_s, row.max_s = min(times), max(times)
    row.repeats = len(times)


# ---- networks -----------------------------------------------------------------------


def _network(kind: str, depth: int, width: int) -> nn.Module:
    if kind == "mlp":
        return deep_mlp(depth, width, "tanh", in_features=width, out_features=10)
    return vanilla_cnn(depth, width, "tanh", in_channels=3, num_classes=10)


def _network_error(model: nn.Module, layers: int = 16) -> float:
    """Largest orthogonality error over up to `layers` evenly spaced sparse weights
    (convolutions as linear maps)."""
    weights = find_layer_weights(model)[0]
    step = max(1, len(weights) // layers)
    return max(layer_orthogonality_error(layer) for layer in weights[::step])


def _measure_network(
    kind: str, depth: int, width: int, method: str, device: torch.device, config: BenchConfig
) -> Row:
    case = f"{kind} {depth}x{width}"
    density = config.network_density
    row = Row(case, "network", depth, width, density, method)
    # The CPU methods build a CPU model even in a GPU run, so each row is what it says.
    on_cpu = method in ("eoi[cpu-ext]", "reference")
    model = _network(kind, depth, width).to("cpu" if on_cpu else device)
    weights = find_layer_weights(model)[0]
    g = torch.Generator().manual_seed(config.seed)
    sparse_holder: list[Any] = []

    def whole_model(name: str, **kwargs: Any) -> Callable[[], Any]:
        def run() -> Any:
            if sparse_holder:
                sparse_holder.pop().remove()  # so the next call starts from a plain model
            sparse = sparsify(
                model, density, distribution=config.network_distribution, method=name,
                generator=g, **kwargs,
            )  # fmt: skip
            sparse_holder.append(sparse)
            return sparse

        return run

    if method in ("eoi[cpu-ext]", "eoi[cuda-ext]"):
        fn = whole_model("eoi")
    elif method == "eoi[python]":
        inner = whole_model("eoi")

        def fn() -> Any:
            with use_python_backend():
                return inner()
    elif method in ("ai", "svd_ai"):
        if kind not in config.isometry_networks:
            row.skipped = f"not run for the {kind} in this mode (minutes of iterations)"
            return row
        iterations = config.ai_steps if method == "ai" else config.svd_iterations
        row.iterations = iterations
        fn = whole_model(method, iterations=iterations)
    elif method == "reference":
        if kind == "cnn":
            row.skipped = "matrices only: the published code has no conv construction"
            return row
        if depth > config.reference_max_layers:
            row.skipped = (
                f"above {config.reference_max_layers} layers in this mode (~15 ms a layer)"
            )
            return row
        shapes = {w.name: w.shape for w in weights}
        densities = layer_densities(model, density, config.network_distribution)

        def fn() -> float:
            kept = 0
            for name, shape in shapes.items():
                _, mask, _ = published_sparse_orthogonal(
                    shape[0], shape[1], densities[name], dtype=torch.float32, generator=g
                )
                kept += int(mask.sum())
            return kept / sum(math.prod(s) for s in shapes.values())
    elif method == "orthogonal":
        params = [w.parameter for w in weights]

        def fn() -> None:
            with torch.no_grad():
                for p in params:
                    torch.nn.init.orthogonal_(p, generator=g if device.type == "cpu" else None)
    elif method == "floor":
        shapes = [w.shape for w in weights]

        def fn() -> list[Tensor]:
            return [
                t
                for shape in shapes
                for t in (
                    torch.zeros(shape, device=device),
                    torch.zeros(shape, dtype=torch.bool, device=device),
                )
            ]
    else:
        raise ValueError(f"unknown method {method!r}")

    times, result = _timed(fn, device, config)
    _fill_times(row, times)
    if method.startswith("eoi") or method in ("ai", "svd_ai"):
        row.achieved_density = result.density
        row.orthogonality_error = _network_error(model)
        row.note = "error: max over 16 sampled layers"
    elif method == "reference":
        row.achieved_density = result
    elif method == "orthogonal":
        row.orthogonality_error = _network_error(model)
        row.achieved_density = 1.0
        row.note = "dense; error: max over 16 sampled layers"
    return row


# ---- the run ------------------------------------------------------------------------


def run_bench(config: BenchConfig, *, progress: bool = True) -> BenchResult:
    """Measures every (workload, method) cell of `config`."""
    device = torch.device(config.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("--device cuda needs a CUDA build of torch and a GPU; none is available")
    methods = available_methods(device)
    jobs: list[Callable[[], Row]] = []
    for n in config.sizes:
        for d in config.densities:
            for m in methods:
                jobs.append(
                    lambda n=n, d=d, m=m: _measure_matrix(
                        f"{n}x{n}", "square", n, n, d, m, device, config
                    )
                )
    for rows, cols in config.rectangles:
        for m in methods:
            jobs.append(
                lambda r=rows, c=cols, m=m: _measure_matrix(
                    f"{r}x{c}", "rectangle", r, c, config.rectangle_density, m, device, config
                )
            )
    for kind, depth, width in config.networks:
        for m in methods:
            jobs.append(
                lambda k=kind, dp=depth, w=width, m=m: _measure_network(k, dp, w, m, device, config)
            )

    sharding = [ShardingCase(*case) for case in config.sharding]
    result = BenchResult(config, machine_info(device))
    start = time.perf_counter()
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(jobs) + len(sharding) * len(config.sharding_worlds),
                   desc="eoi bench", unit="cell")  # fmt: skip
    for job in jobs:
        result.rows.append(job())
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
    `density`, per method (with at least 2 sizes measured)."""
    slopes = {}
    for method in METHODS:
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


# ---- output -------------------------------------------------------------------------


def _seconds(value: float | None) -> str:
    if value is None:
        return "-"
    if value >= 1.0:
        return f"{value:.2f} s"
    if value >= 1e-3:
        return f"{value * 1e3:.2f} ms"
    return f"{value * 1e6:.0f} us"


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
            f"| {r.case} | {r.density:g} | {r.method} | {_seconds(r.median_s)} | "
            f"{_seconds(r.min_s)}-{_seconds(r.max_s)} ({r.repeats}x) | "
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


def save_plot(result: BenchResult, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    measured_shards = [r for r in result.sharding if r.median_s is not None]
    panels = 3 if measured_shards else 2
    figure, axes = plt.subplots(1, panels, figsize=(6 * panels, 4.5))
    scaling, accuracy = axes[0], axes[1]
    for method in METHODS:
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
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
