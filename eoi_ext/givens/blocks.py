"""Weights and masks of a plan's matrices, whole or any block of W.

A block is named in W's own coordinates, `row_range=(begin, end)` and
`col_range=(begin, end)` (None: all of that dimension), everywhere in eoi_ext. Only the
ops speak A's coordinates: W = A, or A^T for tall matrices, so a block of W is a block
of rows and coordinates of A. Only the block is computed and written (plus per-thread
scratch): rows of A from the plan, or columns of A as rows of the adjoint plan, whichever
are fewer (docs/blocks-and-sharding.md, "Blocks of W").
"""

from __future__ import annotations

import torch
from torch import Tensor

from ..backends import kernels
from ..checks import check_out, check_range
from ..spec import Span
from .rotation_plan import RotationPlan

__all__ = ["adjoint_rotations", "apply_plan", "support_mask"]


def _spans(
    plan: RotationPlan, row_range: Span | None, col_range: Span | None
) -> tuple[tuple[int, int, int], Span, Span]:
    """(the result's shape, rows of A, coordinates of A) of the block
    W[row_range, col_range] of every matrix."""
    rows = check_range(row_range, plan.rows, "row_range") or (0, plan.rows)
    cols = check_range(col_range, plan.cols, "col_range") or (0, plan.cols)
    shape = (plan.count, rows[1] - rows[0], cols[1] - cols[0])
    return (shape, cols, rows) if plan.transposed else (shape, rows, cols)


def _destination(
    out: Tensor | None,
    shape: tuple[int, ...],
    dtype: torch.dtype,
    device: torch.device | str | None,
) -> Tensor:
    if out is None:
        return torch.empty(shape, dtype=dtype, device=torch.device(device or "cpu"))
    return check_out(out, shape)


def apply_plan(
    plan: RotationPlan,
    *,
    row_range: Span | None = None,
    col_range: Span | None = None,
    gain: float = 1.0,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
    out: Tensor | None = None,
) -> Tensor:
    """Weights of the plan's matrices: W[:, r0:r1, c0:c1] of every matrix.

    float64 outputs are computed in float64, the others in float32. A block equals that
    slice of the whole matrix to float rounding (bit-identical when it is computed from
    the same rows of A).

    Args:
        plan: the plan of `count` matrices of shape (rows, cols).
        row_range, col_range: the block (begin, end) of W's rows / columns; None: all.
        gain: scale of W.
        dtype, device: of the result (CPU by default); ignored when `out` is given.
        out: a contiguous tensor of the block's shape, written in place.

    Returns:
        (count, r1 - r0, c1 - c0) weights.

    Examples:
        >>> plan = eoi_ext.givens.sample_plan(6, 4, 0.5, count=2)
        >>> eoi_ext.givens.apply_plan(plan).shape
        torch.Size([2, 6, 4])
        >>> eoi_ext.givens.apply_plan(plan, row_range=(1, 3)).shape
        torch.Size([2, 2, 4])
    """
    shape, a_rows, a_coords = _spans(plan, row_range, col_range)
    out = _destination(out, shape, dtype, device)
    if out.numel() == 0:
        return out
    impl = kernels(out.device)
    if a_rows[1] - a_rows[0] <= a_coords[1] - a_coords[0]:
        impl.apply_plans(
            plan.offsets, plan.pairs, plan.cos_sin, plan.m, *a_rows, plan.transposed,
            float(gain), out, *a_coords,
        )  # fmt: skip
    else:  # fewer columns of A than rows: rows of B = G_R^T ... G_1^T
        offsets, pairs, cos_sin = adjoint_rotations(plan)
        impl.apply_plans(
            offsets, pairs, cos_sin, plan.m, *a_coords, not plan.transposed, float(gain), out,
            *a_rows,
        )  # fmt: skip
    return out


def support_mask(
    plan: RotationPlan,
    *,
    row_range: Span | None = None,
    col_range: Span | None = None,
    device: torch.device | str | None = None,
    out: Tensor | None = None,
) -> Tensor:
    """Bool support masks of the plan's matrices (before any exact-density top-up), laid
    out like :func:`apply_plan`'s result; read from the tracked bitsets, nothing else is
    built.

    Args:
        plan: the plan of `count` matrices of shape (rows, cols).
        row_range, col_range: the block (begin, end) of W's rows / columns; None: all.
        device: of the result (CPU by default); ignored when `out` is given.
        out: a contiguous bool tensor of the block's shape, written in place.

    Returns:
        (count, r1 - r0, c1 - c0) bool masks.

    Examples:
        >>> plan = eoi_ext.givens.sample_plan(6, 4, 0.5)
        >>> mask = eoi_ext.givens.support_mask(plan)
        >>> bool((eoi_ext.givens.apply_plan(plan)[~mask] == 0).all())
        True
    """
    shape, a_rows, a_coords = _spans(plan, row_range, col_range)
    mask = _destination(out, shape, torch.bool, device)
    if mask.numel() == 0:
        return mask
    kernels(mask.device).support_masks(
        plan.support, plan.n, plan.m, *a_rows, plan.transposed, mask, *a_coords
    )
    return mask


def adjoint_rotations(plan: RotationPlan) -> tuple[Tensor, Tensor, Tensor]:
    """The rotations of B = G_R^T ... G_1^T for every matrix of the plan: each matrix's
    rotations in reverse order, sin negated.

    Row c of B is column c of G_1 ... G_R, so column c of A = [I_n | 0] G_1 ... G_R is
    the first n entries of row c of B: a block of A's columns is computed as a block of
    B's rows (docs/blocks-and-sharding.md, "Column blocks and the adjoint plan").

    Args:
        plan: a plan of `count` matrices.

    Returns:
        (offsets, pairs, cos_sin) laid out like the plan's, for the apply_plans op.

    Examples:
        >>> plan = eoi_ext.givens.sample_plan(6, 6, 0.5)
        >>> offsets, pairs, cos_sin = eoi_ext.givens.adjoint_rotations(plan)
        >>> bool(torch.equal(pairs, plan.pairs.flip(0)))
        True
    """
    counts = plan.offsets.diff()
    matrix = torch.repeat_interleave(torch.arange(plan.count), counts)
    position = torch.arange(int(plan.offsets[-1]))
    source = plan.offsets[1:][matrix] - 1 - (position - plan.offsets[:-1][matrix])
    cos_sin = plan.cos_sin[source] * torch.tensor([1.0, -1.0], dtype=plan.cos_sin.dtype)
    return plan.offsets, plan.pairs[source].contiguous(), cos_sin.contiguous()
