"""What is measured: matrix and network workloads, and the prepared cell of one contender.

A workload is a small frozen value; `eoi bench` builds its grid of them from BenchConfig
and benchmarks/test_speed*.py name theirs case by case. A contender (registry.py) turns a
workload into a :class:`Cell`: the call to time and how to read figures (orthogonality
error, density reached, iterations) from its result, or why the cell is skipped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor, nn

from ...backends import use_python_backend
from ...layers import find_layer_weights
from ...metrics import layer_orthogonality_error, orthogonality_error
from . import network_kinds

__all__ = [
    "ERROR_SAMPLE_ROWS",
    "NETWORK_ERROR_LAYERS",
    "Cell",
    "MatrixWorkload",
    "NetworkWorkload",
    "Workload",
    "build_network",
    "matrix_error",
    "network_error",
    "on_fallback",
    "seeded",
    "skip",
]

ERROR_SAMPLE_ROWS = 512  # orthogonality error of larger matrices: on this many rows
NETWORK_ERROR_LAYERS = 16  # networks: the error is the max over this many sampled layers


@dataclass(frozen=True)
class MatrixWorkload:
    """`count` matrices of shape (rows, cols) at `density` (count > 1: a stack of layers
    in one call, as sparse_orthogonal_batch builds them)."""

    rows: int
    cols: int
    density: float
    count: int = 1
    exact_density: bool = False  # EOI only: top the mask up to exactly `density`

    @property
    def name(self) -> str:
        shape = f"{self.rows}x{self.cols}"
        return shape if self.count == 1 else f"{self.count} x {shape}"

    @property
    def kind(self) -> str:
        """The Row kind: square rows make the slopes and the time-against-n plot."""
        return "square" if self.rows == self.cols else "rectangle"

    @property
    def label(self) -> str:
        exact = " exact_density" if self.exact_density else ""
        return f"{self.name} d={self.density:g}{exact}"


@dataclass(frozen=True)
class NetworkWorkload:
    """One of the paper's networks (a kind of network_kinds.NETWORK_KINDS: "mlp",
    "cnn", "resnet", "vgg"; `depth` layers of `width`), initialized as a whole model
    through sparsify."""

    kind: str
    depth: int
    width: int
    density: float
    distribution: str
    # True: every call builds a fresh model and the timing includes its construction
    # (what a user pays end to end); False: one model, re-initialized on every call.
    fresh_model: bool = False

    @property
    def name(self) -> str:
        return network_kinds.network_name(self.kind, self.depth, self.width)

    @property
    def label(self) -> str:
        fresh = ", model construction included" if self.fresh_model else ""
        return f"{self.name} d={self.density:g} {self.distribution}{fresh}"


Workload = MatrixWorkload | NetworkWorkload


def _no_figures(result: Any) -> dict[str, Any]:
    return {}


@dataclass
class Cell:
    """A (workload, contender) pair ready to time: `call` (no arguments), and `figures`,
    the Row fields read from its result; or `skipped`, the reason it is not run."""

    call: Callable[[], Any] | None = None
    figures: Callable[[Any], dict[str, Any]] = field(default=_no_figures)
    skipped: str | None = None


def skip(reason: str) -> Cell:
    return Cell(skipped=reason)


def seeded(seed: int) -> torch.Generator:
    """A fresh CPU generator: every cell starts from the same random state."""
    return torch.Generator().manual_seed(seed)


def on_fallback(call: Callable[[], Any], python: bool) -> Callable[[], Any]:
    """`call` on the pure-PyTorch fallback when `python` (eoi[python]), else as it is."""
    if not python:
        return call

    def fallback() -> Any:
        with use_python_backend():
            return call()

    return fallback


def build_network(workload: NetworkWorkload) -> nn.Module:
    """A new model of the workload's kind (network_kinds.py), on the CPU."""
    return network_kinds.build_network(workload.kind, workload.depth, workload.width)


def matrix_error(weight: Tensor) -> tuple[float, str | None]:
    """Orthogonality error, on an evenly spaced sample of the smaller side's rows for
    large matrices (a principal block of W W^T - I): the full product would cost more
    than most of the calls measured."""
    w = weight if weight.shape[0] <= weight.shape[1] else weight.T
    if w.shape[0] <= 2 * ERROR_SAMPLE_ROWS:
        return orthogonality_error(w), None
    rows = torch.linspace(0, w.shape[0] - 1, ERROR_SAMPLE_ROWS).long().to(w.device)
    return orthogonality_error(w[rows]), f"error on {ERROR_SAMPLE_ROWS} sampled rows"


def network_error(model: nn.Module) -> float:
    """Largest orthogonality error over up to NETWORK_ERROR_LAYERS evenly spaced sparse
    weights (convolutions as linear maps)."""
    weights = find_layer_weights(model)[0]
    step = max(1, len(weights) // NETWORK_ERROR_LAYERS)
    return max(layer_orthogonality_error(layer) for layer in weights[::step])
