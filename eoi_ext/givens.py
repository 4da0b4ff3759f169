"""Rotation plans: the lower-level pieces every EOI matrix is built from.

An EOI matrix of shape (rows, cols) is W = gain * A (rows <= cols) or gain * A^T
(rows > cols) with A = [I_n | 0] G_1 ... G_R, n = min(rows, cols), m = max(rows, cols),
and G_k a Givens rotation in the plane (i_k, j_k) by angle theta_k (DESIGN.md 1.1).

A :class:`RotationPlan` holds everything random about `count` such matrices: one seed
per matrix (drawn from a torch.Generator), the pairs and angles of their rotations, and
the symbolic support of A that fixes the mask. Building a plan is cheap (no floating
point on A); :func:`apply_plan` and :func:`support_mask` then write the weights and masks,
for all rows or any row range of A, on any device:

    plan = sample_plan(1024, 1024, 0.1)
    W = apply_plan(plan)[0]             # (1024, 1024) float32
    M = support_mask(plan)[0]           # (1024, 1024) bool
    levels = rotation_levels(plan)      # rotations of one level touch disjoint coordinates

Sampling contract: the seed of matrix b is draw number b of
``torch.randint(0, 2**63 - 1, (count,), generator=generator)``; pairs, angles and
top-up positions are pure functions of the seed (a SplitMix64 counter stream,
csrc/core/random_stream.h), so every backend builds the same matrix from the same
generator state, and a batch of count matrices equals count consecutive single calls.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType

import torch
from torch import Tensor

from . import _extension, fallback
from .fallback.support_mask import add_free_positions

SEED_BOUND = 2**63 - 1


def _implementation(device: torch.device | str | None) -> ModuleType:
    """eoi_ext.ops where the compiled extension handles `device`, else the fallback."""
    if _extension.backend(device) == "python":
        return fallback
    from . import ops

    return ops


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


def select(plan: RotationPlan, index: int) -> RotationPlan:
    """The plan of matrix `index` alone (a view of the plan's tensors)."""
    lo, hi = int(plan.offsets[index]), int(plan.offsets[index + 1])
    return RotationPlan(
        plan.rows,
        plan.cols,
        plan.seeds[index : index + 1],
        torch.tensor([0, hi - lo], dtype=torch.int64),
        plan.pairs[lo:hi],
        plan.cos_sin[lo:hi],
        plan.support[index : index + 1],
    )


def draw_seeds(count: int, generator: torch.Generator | None = None) -> Tensor:
    """(count,) int64 seeds in [0, 2^63 - 1) from `generator` (torch's default CPU
    generator when None), returned on the CPU. For CPU generators, drawing count seeds at
    once equals count draws of one seed (tested), which makes a batch equal consecutive
    single calls."""
    device = generator.device if generator is not None else torch.device("cpu")
    seeds = torch.randint(
        0, SEED_BOUND, (count,), dtype=torch.int64, device=device, generator=generator
    )
    return seeds.cpu()


def plan_from_seeds(
    seeds: Tensor, rows: int, cols: int, density: float, *, exact_density: bool = False
) -> RotationPlan:
    """Samples and tracks the rotations of one matrix per seed (no validation: see
    eoi_ext.sparse_orthogonal for the checked entry point).

    With exact_density the plan stops at the last rotation count whose density is at
    most `density` (the top-up adds the rest), else at the published rule's count.
    """
    n, m = min(rows, cols), max(rows, cols)
    impl = _implementation("cpu")
    offsets, pairs, cos_sin, support = impl.sample_plans(seeds, n, m, float(density), exact_density)
    return RotationPlan(rows, cols, seeds, offsets, pairs, cos_sin, support)


def sample_plan(
    rows: int,
    cols: int,
    density: float,
    *,
    count: int = 1,
    exact_density: bool = False,
    generator: torch.Generator | None = None,
) -> RotationPlan:
    """Draws `count` seeds from `generator` and samples the plan of each matrix."""
    return plan_from_seeds(
        draw_seeds(count, generator), rows, cols, density, exact_density=exact_density
    )


def rotation_levels(plan: RotationPlan) -> Tensor:
    """(R,) int32 ASAP level of every rotation within its matrix (DESIGN.md 1.3).

    Rotations of one matrix with equal level touch disjoint coordinates; applying the
    levels in increasing order gives exactly the sequential result.
    """
    return _implementation("cpu").rotation_levels(plan.offsets, plan.pairs, plan.m)


def _row_block(plan: RotationPlan, row_range: tuple[int, int] | None) -> tuple[int, int]:
    return _span(row_range, plan.n, "row_range (rows of A, the smaller side)")


def _block_shape(plan: RotationPlan, begin: int, end: int) -> tuple[int, int, int]:
    k = end - begin
    return (plan.count, plan.m, k) if plan.transposed else (plan.count, k, plan.m)


def apply_plan(
    plan: RotationPlan,
    *,
    gain: float = 1.0,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
    row_range: tuple[int, int] | None = None,
) -> Tensor:
    """Weights of the plan's matrices: (count, rows, cols) of `dtype` on `device`.

    float64 outputs are computed in float64, the others in float32. With
    row_range=(begin, end) only rows begin .. end - 1 of A are computed: the result is
    then (count, end - begin, cols) for wide matrices and (count, rows, end - begin)
    (a column block of W) for tall ones.
    """
    begin, end = _row_block(plan, row_range)
    device = torch.device("cpu") if device is None else torch.device(device)
    out = torch.empty(_block_shape(plan, begin, end), dtype=dtype, device=device)
    _implementation(device).apply_plans(
        plan.offsets,
        plan.pairs,
        plan.cos_sin,
        plan.m,
        begin,
        end,
        plan.transposed,
        float(gain),
        out,
    )
    return out


def support_mask(
    plan: RotationPlan,
    *,
    device: torch.device | str | None = None,
    row_range: tuple[int, int] | None = None,
) -> Tensor:
    """Bool masks of the plan's matrices, laid out like :func:`apply_plan`'s result."""
    begin, end = _row_block(plan, row_range)
    device = torch.device("cpu") if device is None else torch.device(device)
    mask = torch.empty(_block_shape(plan, begin, end), dtype=torch.bool, device=device)
    _implementation(device).support_masks(
        plan.support, plan.n, plan.m, begin, end, plan.transposed, mask
    )
    return mask


def _span(value: tuple[int, int] | None, size: int, name: str) -> tuple[int, int]:
    begin, end = (0, size) if value is None else value
    if not 0 <= begin <= end <= size:
        raise ValueError(f"{name} must satisfy 0 <= begin <= end <= {size}, got {value}")
    return int(begin), int(end)


def _a_ranges(
    plan: RotationPlan, rows: tuple[int, int], cols: tuple[int, int]
) -> tuple[tuple[int, int], tuple[int, int]]:
    """(rows of A, coordinates of A) of the block W[rows, cols]: W = A, or A^T when tall."""
    return (cols, rows) if plan.transposed else (rows, cols)


def adjoint_rotations(plan: RotationPlan) -> tuple[Tensor, Tensor, Tensor]:
    """(offsets, pairs, cos_sin) of B = G_R^T ... G_1^T for every matrix of the plan:
    each matrix's rotations in reverse order, sin negated. Row c of B is column c of
    G_1 ... G_R, so column c of A = [I_n | 0] G_1 ... G_R is the first n entries of row c
    of B: a block of A's columns is computed as a block of B's rows (DESIGN.md 1.3)."""
    counts = plan.offsets.diff()
    matrix = torch.repeat_interleave(torch.arange(plan.count), counts)
    position = torch.arange(int(plan.offsets[-1]))
    source = plan.offsets[1:][matrix] - 1 - (position - plan.offsets[:-1][matrix])
    cos_sin = plan.cos_sin[source] * torch.tensor([1.0, -1.0], dtype=plan.cos_sin.dtype)
    return plan.offsets, plan.pairs[source].contiguous(), cos_sin.contiguous()


def _destination(
    out: Tensor | None,
    shape: tuple[int, ...],
    dtype: torch.dtype,
    device: torch.device | str | None,
) -> Tensor:
    if out is None:
        device = torch.device("cpu") if device is None else torch.device(device)
        return torch.empty(shape, dtype=dtype, device=device)
    if tuple(out.shape) != shape or not out.is_contiguous():
        raise ValueError(
            f"out must be a contiguous tensor of shape {shape}, got {tuple(out.shape)}"
        )
    return out


def weight_block(
    plan: RotationPlan,
    *,
    rows: tuple[int, int] | None = None,
    cols: tuple[int, int] | None = None,
    gain: float = 1.0,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
    out: Tensor | None = None,
) -> Tensor:
    """W[:, r0:r1, c0:c1] of every matrix of the plan: (count, r1 - r0, c1 - c0).

    Only the block is computed and written (plus per-thread scratch): from rows of A with
    the plan, or from rows of B (columns of A) with :func:`adjoint_rotations`, whichever
    needs fewer; both give the single-call values to float rounding. This is how a shard
    of a layer is initialized alone (rows=None / cols=None: all of them). `out`, when
    given, is a contiguous tensor of the block's shape written in place (its dtype and
    device are used).
    """
    r0, r1 = _span(rows, plan.rows, "rows")
    c0, c1 = _span(cols, plan.cols, "cols")
    a_rows, a_coords = _a_ranges(plan, (r0, r1), (c0, c1))
    out = _destination(out, (plan.count, r1 - r0, c1 - c0), dtype, device)
    device = out.device
    if out.numel() == 0:
        return out
    impl = _implementation(device)
    if a_rows[1] - a_rows[0] <= a_coords[1] - a_coords[0]:
        impl.apply_plans(
            plan.offsets, plan.pairs, plan.cos_sin, plan.m, *a_rows, plan.transposed,
            float(gain), out, *a_coords,
        )  # fmt: skip
    else:
        offsets, pairs, cos_sin = adjoint_rotations(plan)
        impl.apply_plans(
            offsets, pairs, cos_sin, plan.m, *a_coords, not plan.transposed, float(gain), out,
            *a_rows,
        )  # fmt: skip
    return out


def mask_block(
    plan: RotationPlan,
    *,
    rows: tuple[int, int] | None = None,
    cols: tuple[int, int] | None = None,
    device: torch.device | str | None = None,
    out: Tensor | None = None,
) -> Tensor:
    """The support mask's block M[:, r0:r1, c0:c1] of every matrix, laid out like
    :func:`weight_block` (read from the tracked bitsets; nothing else is built); written
    into `out` (a contiguous bool tensor of that shape) when given."""
    r0, r1 = _span(rows, plan.rows, "rows")
    c0, c1 = _span(cols, plan.cols, "cols")
    a_rows, a_coords = _a_ranges(plan, (r0, r1), (c0, c1))
    mask = _destination(out, (plan.count, r1 - r0, c1 - c0), torch.bool, device)
    device = mask.device
    if mask.numel() == 0:
        return mask
    _implementation(device).support_masks(
        plan.support, plan.n, plan.m, *a_rows, plan.transposed, mask, *a_coords
    )
    return mask


def top_up_positions(plan: RotationPlan, target_count: int) -> list[Tensor]:
    """The flat positions (row * cols + col of W, int64, in the order they join) that the
    exact-density top-up adds to each matrix's mask, computed from the tracked supports
    alone: the same rule as top_up_mask_ (draw t of the top-up stream names
    floor(u_t * rows * cols); a position not yet in the mask joins), so a block of a
    topped-up mask can be built without the rest."""
    total = plan.rows * plan.cols
    counts = _popcount(plan.support)
    return [
        add_free_positions(
            seed,
            total,
            min(int(target_count), total) - int(counts[b]),
            lambda positions, b=b: _support_bits(plan, b, positions),
        )
        for b, seed in enumerate(plan.seeds.tolist())
    ]


_BYTE_POPCOUNT = torch.tensor([bin(v).count("1") for v in range(256)], dtype=torch.int64)


def _popcount(support: Tensor) -> Tensor:
    """(count,) number of set bits in each matrix's support bitsets (a byte table)."""
    as_bytes = support.contiguous().view(torch.uint8).view(support.shape[0], -1)
    return _BYTE_POPCOUNT[as_bytes.long()].sum(1)


def _support_bits(plan: RotationPlan, b: int, positions: Tensor) -> Tensor:
    """Whether flat positions of W (row-major) are in matrix b's support mask."""
    w_rows, w_cols = positions // plan.cols, positions % plan.cols
    r, c = (w_cols, w_rows) if plan.transposed else (w_rows, w_cols)
    words = plan.support[b, c, r >> 6]
    return ((words >> (r & 63)) & 1).bool()


def top_up_block_(
    plan: RotationPlan,
    mask: Tensor,
    target_count: int,
    *,
    rows: tuple[int, int] | None = None,
    cols: tuple[int, int] | None = None,
) -> Tensor:
    """Adds to the mask block (count, r1 - r0, c1 - c0) of W[rows, cols] the top-up
    positions that fall inside it (see top_up_positions). Returns mask."""
    r0, r1 = _span(rows, plan.rows, "rows")
    c0, c1 = _span(cols, plan.cols, "cols")
    for b, positions in enumerate(top_up_positions(plan, target_count)):
        w_rows, w_cols = positions // plan.cols, positions % plan.cols
        inside = (w_rows >= r0) & (w_rows < r1) & (w_cols >= c0) & (w_cols < c1)
        mask[b, (w_rows[inside] - r0).to(mask.device), (w_cols[inside] - c0).to(mask.device)] = True
    return mask


def top_up_mask_(plan: RotationPlan, mask: Tensor, target_count: int) -> Tensor:
    """Adds uniformly random free positions (from each matrix's seed) to every mask of
    mask (count, rows, cols), in place, until each holds target_count entries.
    Returns mask."""
    return top_up_(mask, target_count, plan.seeds)


def top_up_(mask: Tensor, target_count: int, seeds: Tensor) -> Tensor:
    """Adds uniformly random free positions to every mask of the contiguous bool mask
    (count, rows, cols), in place, until each holds target_count entries; mask b draws
    from the top-up stream of seeds[b] ((count,) int64 on the CPU). Returns mask."""
    _implementation(mask.device).top_up_masks(seeds, int(target_count), mask)
    return mask
