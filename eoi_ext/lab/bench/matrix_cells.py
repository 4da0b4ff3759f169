"""What each contender runs on a matrix workload (one matrix, or a stack of `count`).

Every builder takes (workload, device, config) and returns a Cell (workloads.py). The
setup (generator, output buffers, a sampled plan) happens here, outside the timing; the
call does only what is measured. registry.py names the builders; docs/algorithm.md,
"Baselines", describes the alternatives.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from ... import baselines, givens
from ...matrices import sparse_orthogonal, sparse_orthogonal_batch
from ...reference import published_sparse_orthogonal
from .config import BenchConfig
from .workloads import Cell, MatrixWorkload, matrix_error, on_fallback, seeded, skip

__all__ = [
    "apply_plan_matrix",
    "eoi_matrix",
    "floor_matrix",
    "isometry_matrix",
    "orthogonal_matrix",
    "reference_matrix",
    "write_floor_matrix",
]


def _shape(w: MatrixWorkload) -> tuple[int, ...]:
    return (w.rows, w.cols) if w.count == 1 else (w.count, w.rows, w.cols)


def matrix_figures(result: tuple[Tensor, Tensor | None]) -> dict[str, Any]:
    """Error (of the first matrix of a stack) and density reached of a (W, M) result;
    M None: dense."""
    weight, mask = result[0], result[1]
    error, note = matrix_error(weight if weight.dim() == 2 else weight[0])
    density = 1.0 if mask is None else float(mask.float().mean())
    return {"orthogonality_error": error, "note": note, "achieved_density": density}


def eoi_matrix(
    w: MatrixWorkload, device: torch.device, config: BenchConfig, *, python: bool = False
) -> Cell:
    g, exact = seeded(config.seed), w.exact_density
    if w.count == 1:

        def call() -> tuple[Tensor, Tensor]:
            return sparse_orthogonal(
                w.rows, w.cols, w.density, exact_density=exact, generator=g, device=device
            )
    else:

        def call() -> tuple[Tensor, Tensor]:
            return sparse_orthogonal_batch(
                w.count, w.rows, w.cols, w.density, exact_density=exact, generator=g,
                device=device,
            )  # fmt: skip

    return Cell(on_fallback(call, python), matrix_figures)


def reference_matrix(w: MatrixWorkload, device: torch.device, config: BenchConfig) -> Cell:
    """The published algorithm, in float32 like the others (it defaults to float64)."""
    if w.count > 1:
        return skip("one matrix per call")
    if max(w.rows, w.cols) > config.reference_max_side:
        return skip(f"above {config.reference_max_side} (would take minutes)")
    g = seeded(config.seed)

    def call() -> tuple[Tensor, Tensor]:
        return published_sparse_orthogonal(
            w.rows, w.cols, w.density, dtype=torch.float32, generator=g
        )[:2]

    return Cell(call, matrix_figures)


def isometry_matrix(
    w: MatrixWorkload, device: torch.device, config: BenchConfig, *, method: str
) -> Cell:
    """ai / svd_ai from a random sparse initialization; reports the error they reach
    (they are not exactly orthogonal) and their iterations."""
    if max(w.rows, w.cols) > config.isometry_max_side:
        return skip(f"above {config.isometry_max_side} (would take minutes)")
    g = seeded(config.seed)
    iterations = config.ai_steps if method == "ai_kaiming" else config.svd_iterations

    def call() -> tuple[Tensor, Tensor, Tensor]:
        weights, masks = baselines.random_sparse(
            (w.rows, w.cols), w.density, count=w.count, generator=g, device=device
        )
        if method == "ai_kaiming":
            weights, errors = baselines.approximate_isometry(weights, masks, steps=iterations)
        else:
            weights, errors = baselines.svd_isometry(weights, masks, iterations=iterations)
        return (weights[0], masks[0], errors) if w.count == 1 else (weights, masks, errors)

    def figures(result: tuple[Tensor, Tensor, Tensor]) -> dict[str, Any]:
        return {
            "orthogonality_error": float(result[2].max()),
            "achieved_density": float(result[1].float().mean()),
            "iterations": iterations,
        }

    return Cell(call, figures)


def orthogonal_matrix(w: MatrixWorkload, device: torch.device, config: BenchConfig) -> Cell:
    """Dense torch.nn.init.orthogonal_ (layer by layer for a stack): a speed anchor."""
    weight = torch.empty(_shape(w), device=device)
    g = seeded(config.seed) if device.type == "cpu" else None  # CUDA: its default generator

    def call() -> tuple[Tensor, None]:
        for layer in weight if w.count > 1 else [weight]:
            torch.nn.init.orthogonal_(layer, generator=g)
        return weight, None

    return Cell(call, matrix_figures)


def floor_matrix(w: MatrixWorkload, device: torch.device, config: BenchConfig) -> Cell:
    """The memory floor: allocate and zero the output (float32 weights, bool masks)."""
    shape = _shape(w)

    def call() -> tuple[Tensor, Tensor]:
        return (
            torch.zeros(shape, device=device),
            torch.zeros(shape, dtype=torch.bool, device=device),
        )

    return Cell(call)


def apply_plan_matrix(w: MatrixWorkload, device: torch.device, config: BenchConfig) -> Cell:
    """The weights of a plan sampled beforehand: EOI's device part (on a GPU: schedule,
    copies and the apply kernel), without sampling and tracking."""
    g = seeded(config.seed)
    plan = givens.sample_plan(w.rows, w.cols, w.density, count=w.count, generator=g)

    def figures(weights: Tensor) -> dict[str, Any]:
        error, note = matrix_error(weights[0])
        return {"orthogonality_error": error, "note": note}

    return Cell(lambda: givens.apply_plan(plan, device=device), figures)


def write_floor_matrix(w: MatrixWorkload, device: torch.device, config: BenchConfig) -> Cell:
    """fill_ of the float32 output alone: its bytes at the device's write bandwidth."""
    out = torch.empty(_shape(w), device=device)
    return Cell(lambda: out.fill_(0))
