"""The one registry of what `eoi bench` and benchmarks/ measure: CONTENDERS.

Not to be confused with eoi_ext.methods.METHODS, sparsify's registry of initialization
methods: a contender is something timed (EOI on one backend, an alternative, an
anchor), and several of them reach the same sparsify method. Each entry says where it
is available, what it runs on a matrix workload and on a network workload
(matrix_cells.py, network_cells.py, baseline_cells.py) and what it reports. Adding a
contender is one entry here: `eoi bench` gives it a row for every workload (every network
workload when it has no matrix builder), and a benchmarks/ case can name it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import NamedTuple

import torch

from ...backends import backend
from . import baseline_cells as b
from . import matrix_cells as m
from . import network_cells as n
from .config import BenchConfig
from .workloads import Cell, MatrixWorkload, NetworkWorkload, Workload, skip

__all__ = ["CONTENDERS", "Case", "Contender", "available_methods", "eoi_method", "prepare"]


def _always(device: torch.device) -> bool:
    return True


def _cpu_ext(device: torch.device) -> bool:
    return backend("cpu") == "cpu-ext"


def _cuda_ext(device: torch.device) -> bool:
    return device.type == "cuda" and backend(device) == "cuda-ext"


@dataclass(frozen=True)
class Contender:
    """One timed thing. `matrix` / `network`: (workload, device, config) -> Cell;
    `matrix` None: timed on networks only (no matrix rows)."""

    matrix: Callable[[MatrixWorkload, torch.device, BenchConfig], Cell] | None
    network: Callable[[NetworkWorkload, torch.device, BenchConfig], Cell] = n.matrices_only
    available: Callable[[torch.device], bool] = _always
    # Runs on the CPU even in a GPU run (a CPU backend, the published code), so that each
    # row measures what its name says.
    cpu_only: bool = False
    # Goes through sparsify, so a network call can include building the model.
    fresh_models: bool = False
    # False: a part of one EOI call (benchmarks/ splits GPU time with it), not a row.
    in_bench: bool = True

    def measures(self, workload: Workload) -> bool:
        """Whether `eoi bench` gives this contender a row for `workload`."""
        return self.matrix is not None or isinstance(workload, NetworkWorkload)


# In the order of the table's rows (and of the slopes and plot legends).
CONTENDERS: dict[str, Contender] = {
    "eoi[cuda-ext]": Contender(m.eoi_matrix, n.eoi_network, available=_cuda_ext, fresh_models=True),
    "eoi[cpu-ext]": Contender(
        m.eoi_matrix, n.eoi_network, available=_cpu_ext, cpu_only=True, fresh_models=True
    ),
    "eoi[python]": Contender(
        partial(m.eoi_matrix, python=True),
        partial(n.eoi_network, python=True),
        fresh_models=True,
    ),
    "reference": Contender(m.reference_matrix, n.reference_network, cpu_only=True),
    # The paper's baselines, per network (issue 14).
    "base": Contender(None, b.base_network, fresh_models=True),
    "ai": Contender(None, b.ai_network, fresh_models=True),
    "sao": Contender(None, b.sao_network, fresh_models=True),
    "svd_ai": Contender(
        partial(m.isometry_matrix, method="svd_ai"),
        partial(n.isometry_network, method="svd_ai"),
        fresh_models=True,
    ),
    "ai_kaiming": Contender(
        partial(m.isometry_matrix, method="ai_kaiming"),
        partial(n.isometry_network, method="ai_kaiming"),
        fresh_models=True,
    ),
    "orthogonal": Contender(m.orthogonal_matrix, n.orthogonal_network),
    "floor": Contender(m.floor_matrix, n.floor_network),
    "apply_plan": Contender(m.apply_plan_matrix, in_bench=False),
    "write_floor": Contender(m.write_floor_matrix, in_bench=False),
}


def available_methods(device: torch.device) -> list[str]:
    """The contenders `eoi bench` measures on `device`: EOI on each compiled backend
    present and always on the fallback, and every alternative (each on the workloads
    it measures, Contender.measures)."""
    return [name for name, c in CONTENDERS.items() if c.in_bench and c.available(device)]


def eoi_method(device: torch.device | str) -> str:
    """The EOI entry that a plain eoi_ext call on `device` runs (the active backend)."""
    return f"eoi[{backend(device)}]"


def prepare(
    name: str, workload: Workload, device: torch.device, config: BenchConfig | None = None
) -> Cell:
    """The Cell of contender `name` on `workload` in a run on `device` (config: the
    defaults of BenchConfig when None)."""
    contender, config = CONTENDERS[name], config or BenchConfig()
    if not contender.available(device):
        return skip(f"not available on {device}")
    where = torch.device("cpu") if contender.cpu_only else device
    if isinstance(workload, MatrixWorkload):
        if contender.matrix is None:
            return skip("networks only")
        return contender.matrix(workload, where, config)
    if workload.fresh_model and not contender.fresh_models:
        return skip("fresh models: only the contenders that go through sparsify")
    return contender.network(workload, where, config)


class Case(NamedTuple):
    """A named cell of the pytest-benchmark suite: `contender` on `workload`, in
    pytest-benchmark group `group`, with fixed `rounds` for slow anchors (None:
    pytest-benchmark calibrates)."""

    group: str
    contender: str
    workload: Workload
    rounds: int | None = None
