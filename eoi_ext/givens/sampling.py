"""Sampling rotation plans: seeds from the generator, then the rotations of each matrix
from its seed (docs/random-stream.md), tracked until the stopping rule holds."""

from __future__ import annotations

import torch
from torch import Tensor

from ..backends import kernels
from .rotation_plan import RotationPlan

__all__ = ["SEED_BOUND", "draw_seeds", "plan_from_seeds", "rotation_levels", "sample_plan"]

SEED_BOUND = 2**63 - 1


def draw_seeds(count: int, generator: torch.Generator | None = None) -> Tensor:
    """One seed per matrix from a torch.Generator: the only draws EOI makes from it.

    Seed b is draw b of ``torch.randint(0, 2**63 - 1, (count,), generator=generator)``.
    For CPU generators, count seeds at once equal count draws of one seed (tested),
    which makes a batch equal consecutive single calls (docs/random-stream.md, "Seeds
    from the generator").

    Args:
        count: number of seeds.
        generator: torch's default CPU generator when None; a CUDA generator draws on
            its GPU.

    Returns:
        (count,) int64 seeds in [0, 2^63 - 1), on the CPU.

    Examples:
        >>> eoi_ext.givens.draw_seeds(3, torch.Generator().manual_seed(0)).shape
        torch.Size([3])
    """
    device = generator.device if generator is not None else torch.device("cpu")
    seeds = torch.randint(
        0, SEED_BOUND, (count,), dtype=torch.int64, device=device, generator=generator
    )
    return seeds.cpu()


def plan_from_seeds(
    seeds: Tensor,
    rows: int,
    cols: int,
    density: float,
    *,
    exact_density: bool = False,
    pin_memory: bool = False,
) -> RotationPlan:
    """Samples and tracks the rotations of one matrix per seed (no validation).

    Args:
        seeds: (count,) int64 seeds on the CPU, contiguous.
        rows, cols: shape of each matrix W.
        density: target density in (0, 1].
        exact_density: stop at the last rotation count whose density is at most
            `density` (the top-up adds the rest) instead of the published rule's count
            (docs/algorithm.md, "Stopping rule").
        pin_memory: put the support bitsets in pinned memory, for masks written on a GPU:
            they are then copied from there without staging (needs CUDA).

    Returns:
        The RotationPlan of the `count` matrices, on the CPU.

    Examples:
        >>> seeds = eoi_ext.givens.draw_seeds(2)
        >>> eoi_ext.givens.plan_from_seeds(seeds, 64, 32, 0.2).count
        2
    """
    n, m = min(rows, cols), max(rows, cols)
    plan = kernels("cpu").sample_plans(seeds, n, m, float(density), exact_density, pin_memory)
    return RotationPlan(rows, cols, seeds, *plan)


def sample_plan(
    rows: int,
    cols: int,
    density: float,
    *,
    count: int = 1,
    exact_density: bool = False,
    generator: torch.Generator | None = None,
) -> RotationPlan:
    """Draws `count` seeds from `generator` and samples the plan of each matrix.

    Args:
        rows, cols, density, exact_density: as :func:`plan_from_seeds`.
        count: number of matrices.
        generator: source of the seeds (torch's default CPU generator when None).

    Returns:
        The RotationPlan of `count` matrices: weights and masks are then written by
        apply_plan / support_mask.

    Examples:
        >>> plan = eoi_ext.givens.sample_plan(128, 128, 0.125, generator=torch.manual_seed(0))
        >>> plan.count, plan.pairs.shape[1], plan.support.shape
        (1, 2, torch.Size([1, 128, 2]))
    """
    return plan_from_seeds(
        draw_seeds(count, generator), rows, cols, density, exact_density=exact_density
    )


def rotation_levels(plan: RotationPlan) -> Tensor:
    """The ASAP level of every rotation within its matrix (docs/levels.md).

    Rotations of one matrix with equal level touch disjoint coordinates, so they commute;
    applying the levels in increasing order gives exactly the sequential result.

    Args:
        plan: a plan of `count` matrices with R rotations in all.

    Returns:
        (R,) int32 levels, 0-based, per matrix.

    Examples:
        >>> plan = eoi_ext.givens.sample_plan(1024, 1024, 0.1)
        >>> levels = eoi_ext.givens.rotation_levels(plan)
        >>> plan.pairs.shape[0] > 2000 and int(levels.max()) < 40
        True
    """
    return kernels("cpu").rotation_levels(plan.offsets, plan.pairs, plan.m)
