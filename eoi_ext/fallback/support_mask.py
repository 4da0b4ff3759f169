"""Masks from tracked support and the exact-density top-up: mirror of
csrc/core/support_mask."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from .random_stream import stream_uniform, topup_seed


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
    coord_end = m if coord_end < 0 else coord_end
    support = support[:, coord_begin:coord_end].to(mask.device)
    rows = torch.arange(row_begin, row_end, device=mask.device)
    words = support[:, :, rows >> 6]  # (count, w, k)
    bits = ((words >> (rows & 63)) & 1).bool()
    mask.copy_(bits if transposed else bits.transpose(1, 2))


def top_up_masks(seeds: Tensor, target_count: int, mask: Tensor) -> None:
    """Adds random free positions to every (rows, cols) mask of mask (count, rows, cols)
    until it holds target_count entries: draw t of the stream topup_seed(seed) names flat
    position floor(u_t * rows * cols), and a free one joins the mask."""
    _, rows, cols = mask.shape
    total = rows * cols
    for b, seed in enumerate(seeds.tolist()):
        flat = mask[b].view(-1)  # contiguous like the compiled op requires
        taken = flat.cpu()
        need = min(target_count, total) - int(taken.sum())
        added = add_free_positions(seed, total, need, taken.__getitem__)
        flat[added.to(flat.device)] = True


def add_free_positions(
    seed: int, total: int, need: int, held: Callable[[Tensor], Tensor]
) -> Tensor:
    """Mirror of eoi::add_free_positions: the positions (int64, in the order they join)
    that the top-up adds to a flat mask of `total` entries whose entries before the top-up
    are held(positions) -> bool, drawing from the top-up stream of `seed` until `need`
    joined (none when need <= 0). Draws come in vectorized chunks; the rule is sequential:
    a drawn position joins when it is neither held nor already added. Also used to replay
    a top-up from the plan alone (eoi_ext.givens.top_up_positions)."""
    added: dict[int, None] = {}
    stream = topup_seed(seed)
    first = 0
    while len(added) < need:
        chunk = 2 * need + 16
        counters = torch.arange(first, first + chunk, dtype=torch.int64)
        positions = (stream_uniform(stream, counters) * total).to(torch.int64)
        for p in positions[~held(positions)].tolist():
            if p not in added:
                added[p] = None
                if len(added) == need:
                    break
        first += chunk
    return torch.tensor(list(added), dtype=torch.int64)
