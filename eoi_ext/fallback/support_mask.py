"""Masks from tracked support and the exact-density top-up: mirror of
csrc/core/support_mask."""

from __future__ import annotations

import torch
from torch import Tensor

from .random_stream import shift_right, stream_draw, topup_seed


def support_masks(
    support: Tensor, n: int, m: int, row_begin: int, row_end: int, transposed: bool, mask: Tensor
) -> None:
    """Writes bit r of S_c (A[r, c] may be nonzero) for rows r in [row_begin, row_end)
    into mask (count, k, m), or (count, m, k) when transposed."""
    rows = torch.arange(row_begin, row_end, device=support.device)
    words = support[:, :, rows >> 6]  # (count, m, k)
    bits = ((words >> (rows & 63)) & 1).bool()
    mask.copy_(bits if transposed else bits.transpose(1, 2))


def top_up_masks(seeds: Tensor, target_count: int, mask: Tensor) -> None:
    """Adds to every (rows, cols) mask the free positions p with the smallest
    (stream_draw(topup_seed(seed), p) >> 1, p) until it holds target_count entries."""
    _, rows, cols = mask.shape
    positions = torch.arange(rows * cols, dtype=torch.int64)
    for b, seed in enumerate(seeds.tolist()):
        flat = mask[b].reshape(-1)
        need = min(target_count, rows * cols) - int(flat.sum())
        if need <= 0:
            continue
        free = positions[~flat.cpu()]
        keys = shift_right(stream_draw(topup_seed(seed), free), 1)
        # Stable sort: equal keys keep increasing p, i.e. order by (key, p).
        chosen = free[torch.sort(keys, stable=True).indices[:need]]
        flat[chosen.to(flat.device)] = True
        mask[b].copy_(flat.view(rows, cols))
