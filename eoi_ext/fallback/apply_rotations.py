"""Applying a plan: mirror of csrc/core/apply_rotations.h, vectorized by levels.

The compiled kernel walks each tile of rows through the rotations in order. Here all
rows of all matrices are updated at once, one ASAP level at a time: the rotations of a
level touch disjoint coordinates, so one gather - rotate - scatter applies them all and
every coordinate sees the same operations in the same order (docs/levels.md, "ASAP levels").
"""

from __future__ import annotations

import torch
from torch import Tensor

from .checks import check_apply_plans
from .rotation_levels import levels_of

__all__ = ["apply_plans"]


def apply_plans(
    offsets: Tensor,
    pairs: Tensor,
    cos_sin: Tensor,
    m: int,
    row_begin: int,
    row_end: int,
    transposed: bool,
    gain: float,
    out: Tensor,
    coord_begin: int = 0,
    coord_end: int = -1,
) -> None:
    """Writes gain * rows [row_begin, row_end), coordinates [coord_begin, coord_end)
    (-1: m) of every A into out (count, k, w), or (count, w, k) when transposed. Runs on
    out's device."""
    coord_end = check_apply_plans(
        offsets, pairs, cos_sin, m, row_begin, row_end, transposed, gain, out, coord_begin,
        coord_end,
    )  # fmt: skip
    if out.numel() == 0:
        return
    count = offsets.numel() - 1
    k = row_end - row_begin
    device = out.device
    compute = torch.float64 if out.dtype == torch.float64 else torch.float32

    # work[b * m + c, r] = A_b[row_begin + r, c], coordinate-major like the C++ tile.
    work = torch.zeros(count * m, k, dtype=compute, device=device)
    rows = torch.arange(k, device=device)
    starts = torch.arange(count, device=device) * m + row_begin
    work[(starts[:, None] + rows).reshape(-1), rows.repeat(count)] = 1

    matrix = torch.repeat_interleave(torch.arange(count), offsets.diff())
    flat_i = (matrix * m + pairs[:, 0]).to(device)
    flat_j = (matrix * m + pairs[:, 1]).to(device)
    cos = cos_sin[:, 0:1].to(device=device, dtype=compute)
    sin = cos_sin[:, 1:2].to(device=device, dtype=compute)

    levels = levels_of(offsets, pairs, m)  # checked above
    order = torch.argsort(levels, stable=True).to(device)
    sizes = torch.bincount(levels).tolist() if levels.numel() else []
    for level_rotations in torch.split(order, sizes):
        i, j = flat_i[level_rotations], flat_j[level_rotations]
        c, s = cos[level_rotations], sin[level_rotations]
        a, b = work[i], work[j]
        work[i] = c * a - s * b
        work[j] = s * a + c * b

    # + 0.0: every zero written as +0, as the core writes it (csrc/core/apply_rotations.h).
    result = (work * gain + 0.0).view(count, m, k)[:, coord_begin:coord_end]
    out.copy_(result if transposed else result.transpose(1, 2))
