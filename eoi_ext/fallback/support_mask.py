"""Masks from tracked support and the exact-density top-up: mirror of
csrc/core/support_mask."""

from __future__ import annotations

import torch
from torch import Tensor

from ..random_stream import add_free_positions
from .checks import check_support_masks, check_top_up_masks

__all__ = ["support_masks", "top_up_masks"]


def support_masks(
    support: Tensor,
    n: int,
    m: int,
    row_begin: int,
    row_end: int,
    transposed: bool,
    mask: Tensor,
    coord_begin: int = 0,
    coord_end: int = -1,
) -> None:
    """Writes bit r of S_c (A[r, c] may be nonzero) for rows r in [row_begin, row_end) and
    coordinates c in [coord_begin, coord_end) (-1: m) into mask (count, k, w), or
    (count, w, k) when transposed. support may be on the CPU (where plans are built) or
    on mask's device."""
    coord_end = check_support_masks(
        support, n, m, row_begin, row_end, transposed, mask, coord_begin, coord_end
    )
    support = support[:, coord_begin:coord_end].to(mask.device)
    rows = torch.arange(row_begin, row_end, device=mask.device)
    words = support[:, :, rows >> 6]  # (count, w, k)
    bits = ((words >> (rows & 63)) & 1).bool()
    mask.copy_(bits if transposed else bits.transpose(1, 2))


def top_up_masks(seeds: Tensor, target_count: int, mask: Tensor) -> None:
    """Adds random free positions to every (rows, cols) mask of mask (count, rows, cols)
    until it holds target_count entries (eoi_ext.random_stream.add_free_positions)."""
    check_top_up_masks(seeds, target_count, mask)
    if mask.device.type == "meta":
        return  # no entries to count: shapes only, like the fake kernel (eoi_ext/ops.py)
    _, rows, cols = mask.shape
    total = rows * cols
    for b, seed in enumerate(seeds.tolist()):
        flat = mask[b].view(-1)  # contiguous like the compiled op requires
        taken = flat.cpu()
        need = min(target_count, total) - int(taken.sum())
        if need > 0 and target_count >= total:
            # Every free position joins whatever the draws: skip drawing the coupon
            # collector's tail (72 s for VGG-16 at density 1), as csrc/core does.
            flat.fill_(True)
            continue
        added = add_free_positions(seed, total, need, taken.__getitem__)
        flat[added.to(flat.device)] = True
