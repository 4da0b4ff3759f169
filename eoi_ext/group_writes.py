"""Writing the groups of a grouped weight: a block of `count` weights' stacked matrices,
matrix by matrix of each group (eoi_ext/build.py's writers: weights, masks)."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from .givens import RotationPlan, select
from .spec import Span, WeightSpec

__all__ = ["Writer", "by_group"]

Writer = Callable[[RotationPlan, Span | None, Span | None, Tensor], object]


def by_group(
    spec: WeightSpec,
    plan: RotationPlan,
    count: int,
    rows: Span,
    cols: Span,
    out: Tensor,
    write: Writer,
) -> None:
    """Writes the block [rows, cols] of the count weights' stacked matrices into out
    (count, r1 - r0, c1 - c0) with write(plan of some matrices, their row range, their
    column range, destination); a range covering a whole matrix is passed as None."""
    matrix_rows, matrix_cols = spec.matrix_shape
    col_range = None if cols == (0, matrix_cols) else cols
    if rows == (0, spec.shape[0]):  # every group whole: one call for all matrices
        write(plan, None, col_range, out.view(count * spec.groups, matrix_rows, -1))
        return
    for g in range(spec.groups):
        lo, hi = max(rows[0], g * matrix_rows), min(rows[1], (g + 1) * matrix_rows)
        if lo >= hi:
            continue
        group = select(plan, range(g, count * spec.groups, spec.groups))
        part = out[:, lo - rows[0] : hi - rows[0]]
        target = (
            part
            if part.is_contiguous()
            else torch.empty(part.shape, dtype=part.dtype, device=part.device)
        )
        row_range = (
            None
            if (lo, hi) == (g * matrix_rows, (g + 1) * matrix_rows)
            else (lo - g * matrix_rows, hi - g * matrix_rows)
        )
        write(group, row_range, col_range, target)
        if target is not part:
            part.copy_(target)
