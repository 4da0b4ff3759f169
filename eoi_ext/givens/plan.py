"""Rotation plans: everything random about a batch of EOI matrices, small and on the CPU.

A plan holds one seed per matrix, the pairs and angles of its rotations and the symbolic
support of A (docs/algorithm.md, "Symbolic support tracking"). Building one costs no
floating point on A; every block of W and of its mask is then a pure function of it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from ..backends import kernels

__all__ = [
    "SEED_BOUND",
    "RotationPlan",
    "adjoint_rotations",
    "draw_seeds",
    "plan_from_seeds",
    "rotation_levels",
    "sample_plan",
    "select",
]

SEED_BOUND = 2**63 - 1
_BYTE_POPCOUNT = torch.tensor([bin(v).count("1") for v in range(256)], dtype=torch.int64)


@dataclass(frozen=True)
class RotationPlan:
    """The random part of `count` EOI matrices of one shape, on the CPU.

    Attributes:
        rows, cols: shape of each matrix W.
        seeds: (count,) int64, one per matrix.
        offsets: (count + 1,) int64; rotations offsets[b] .. offsets[b + 1] - 1 are
            matrix b's, in the order they are applied.
        pairs: (R, 2) int32 coordinates (i, j) in [0, m) of every rotation.
        cos_sin: (R, 2) float64 (cos theta, sin theta) of every rotation.
        support: (count, m, ceil(n / 64)) int64 bitsets; bit r of support[b, c] is set
            where A_b[r, c] can be nonzero (the mask before any exact-density top-up).
    """

    rows: int
    cols: int
    seeds: Tensor
    offsets: Tensor
    pairs: Tensor
    cos_sin: Tensor
    support: Tensor

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, cols) of each matrix W."""
        return self.rows, self.cols

    @property
    def n(self) -> int:
        """Smaller side: the number of rows of A."""
        return min(self.rows, self.cols)

    @property
    def m(self) -> int:
        """Larger side: the dimension the rotations act in."""
        return max(self.rows, self.cols)

    @property
    def transposed(self) -> bool:
        """True when W = gain * A^T (tall matrices, rows > cols)."""
        return self.rows > self.cols

    @property
    def count(self) -> int:
        return self.seeds.numel()

    @property
    def rotation_counts(self) -> Tensor:
        """(count,) int64: R of each matrix."""
        return self.offsets.diff()

    def held_counts(self) -> Tensor:
        """(count,) int64: entries of each matrix's support mask (before any top-up)."""
        as_bytes = self.support.contiguous().view(torch.uint8).view(self.count, -1)
        return _BYTE_POPCOUNT[as_bytes.long()].sum(1)

    def holds(self, index: int, positions: Tensor) -> Tensor:
        """Whether flat positions (row * cols + col) of W are in matrix `index`'s support
        mask: what the exact-density top-up of a block must not add again."""
        w_rows, w_cols = positions // self.cols, positions % self.cols
        r, c = (w_cols, w_rows) if self.transposed else (w_rows, w_cols)
        words = self.support[index, c, r >> 6]
        return ((words >> (r & 63)) & 1).bool()


def select(plan: RotationPlan, indices: int | Sequence[int]) -> RotationPlan:
    """The plan of the matrices `indices` (in that order), or of matrix `indices` alone."""
    chosen = [indices] if isinstance(indices, int) else list(indices)
    bounds = [(int(plan.offsets[b]), int(plan.offsets[b + 1])) for b in chosen]
    offsets = torch.tensor([0, *(hi - lo for lo, hi in bounds)], dtype=torch.int64).cumsum(0)
    index = torch.tensor(chosen, dtype=torch.int64)

    def rotations(values: Tensor) -> Tensor:
        parts = [values[lo:hi] for lo, hi in bounds]
        return torch.cat(parts) if parts else values[:0]

    return RotationPlan(
        plan.rows, plan.cols, plan.seeds[index], offsets, rotations(plan.pairs),
        rotations(plan.cos_sin), plan.support[index],
    )  # fmt: skip


def draw_seeds(count: int, generator: torch.Generator | None = None) -> Tensor:
    """(count,) int64 seeds in [0, 2^63 - 1) from `generator` (torch's default CPU
    generator when None), returned on the CPU. For CPU generators, drawing count seeds at
    once equals count draws of one seed (tested), which makes a batch equal consecutive
    single calls (docs/random-stream.md, "Seeds from the generator")."""
    device = generator.device if generator is not None else torch.device("cpu")
    seeds = torch.randint(
        0, SEED_BOUND, (count,), dtype=torch.int64, device=device, generator=generator
    )
    return seeds.cpu()


def plan_from_seeds(
    seeds: Tensor, rows: int, cols: int, density: float, *, exact_density: bool = False
) -> RotationPlan:
    """Samples and tracks the rotations of one matrix per seed (no validation).

    With exact_density the plan stops at the last rotation count whose density is at
    most `density` (the top-up adds the rest), else at the published rule's count
    (docs/algorithm.md, "Stopping rule").
    """
    n, m = min(rows, cols), max(rows, cols)
    plan = kernels("cpu").sample_plans(seeds, n, m, float(density), exact_density)
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

    Examples:
        >>> plan = eoi_ext.givens.sample_plan(128, 128, 0.125, generator=torch.manual_seed(0))
        >>> plan.count, plan.pairs.shape[1], plan.support.shape
        (1, 2, torch.Size([1, 128, 2]))
    """
    return plan_from_seeds(
        draw_seeds(count, generator), rows, cols, density, exact_density=exact_density
    )


def rotation_levels(plan: RotationPlan) -> Tensor:
    """(R,) int32 ASAP level of every rotation within its matrix (docs/levels.md).

    Rotations of one matrix with equal level touch disjoint coordinates; applying the
    levels in increasing order gives exactly the sequential result.
    """
    return kernels("cpu").rotation_levels(plan.offsets, plan.pairs, plan.m)


def adjoint_rotations(plan: RotationPlan) -> tuple[Tensor, Tensor, Tensor]:
    """(offsets, pairs, cos_sin) of B = G_R^T ... G_1^T for every matrix of the plan:
    each matrix's rotations in reverse order, sin negated. Row c of B is column c of
    G_1 ... G_R, so column c of A = [I_n | 0] G_1 ... G_R is the first n entries of row c
    of B: a block of A's columns is computed as a block of B's rows
    (docs/blocks-and-sharding.md, "Column blocks and the adjoint plan")."""
    counts = plan.offsets.diff()
    matrix = torch.repeat_interleave(torch.arange(plan.count), counts)
    position = torch.arange(int(plan.offsets[-1]))
    source = plan.offsets[1:][matrix] - 1 - (position - plan.offsets[:-1][matrix])
    cos_sin = plan.cos_sin[source] * torch.tensor([1.0, -1.0], dtype=plan.cos_sin.dtype)
    return plan.offsets, plan.pairs[source].contiguous(), cos_sin.contiguous()
