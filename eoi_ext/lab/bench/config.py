"""What `eoi bench` measures (BenchConfig) and what it records (Row, BenchResult).

The config is also the settings every contender reads (registry.prepare): the seed, the
sizes above which slow anchors are skipped, the iterations of the isometry baselines.
benchmarks/ uses its defaults. The networks are the paper's (network_kinds.py) at its
settings for the baselines' timings: density 0.125 with "uni_skip" (inner layers at D,
degree 16 at width 128, which SAO reaches), every contender of a network row alike.
"""

from __future__ import annotations

import platform
from dataclasses import asdict, dataclass, field
from typing import Any

import torch

from ... import __version__, baselines
from ...backends import build_info
from .sharding import ShardingRow
from .workloads import MatrixWorkload, NetworkWorkload, Workload

__all__ = ["BenchConfig", "BenchResult", "Row", "machine_info"]


@dataclass(frozen=True)
class BenchConfig:
    """What `eoi bench` measures. `quick()` fits in about 2 minutes on 2 CPU cores."""

    sizes: tuple[int, ...] = (128, 256, 512, 1024, 2048, 4096)
    densities: tuple[float, ...] = (0.01, 0.05, 0.1, 0.25)
    rectangles: tuple[tuple[int, int], ...] = ((1024, 4096), (4096, 1024), (128, 2048))
    rectangle_density: float = 0.1
    networks: tuple[tuple[str, int, int], ...] = (
        ("mlp", 1000, 128), ("cnn", 1000, 128), ("resnet", 32, 16), ("vgg", 16, 64),
    )  # fmt: skip
    network_density: float = 0.125
    network_distribution: str = "uni_skip"
    reference_max_side: int = 1024  # the published algorithm: ~1 s at 1024^2, ~n^3
    isometry_max_side: int = 1024  # ai / svd_ai: O(iterations * n^3)
    reference_max_layers: int = 1000  # networks: one published call per layer
    isometry_networks: tuple[str, ...] = ("mlp",)
    ai_steps: int = baselines.AI_STEPS  # ai_kaiming
    # ai, the published AI on networks: ~0.35 s a step on the 1000-layer MLP, ~2.8 s on
    # the CNN (2 cores), so not the paper's PUBLISHED_AI_ITERATIONS; the row records it.
    ai_iterations: int = 100
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
            networks=(("mlp", 1000, 128), ("cnn", 50, 128), ("resnet", 32, 16), ("vgg", 16, 64)),
            ai_iterations=5,
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

    def workloads(self) -> list[Workload]:
        """Squares (every size at every density), rectangles, then networks: the rows of
        the table, in order."""
        squares = [MatrixWorkload(n, n, d) for n in self.sizes for d in self.densities]
        rectangles = [MatrixWorkload(r, c, self.rectangle_density) for r, c in self.rectangles]
        networks = [
            NetworkWorkload(kind, depth, width, self.network_density, self.network_distribution)
            for kind, depth, width in self.networks
        ]
        return [*squares, *rectangles, *networks]


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
