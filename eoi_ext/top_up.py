"""The exact-density top-up, in one place (docs/algorithm.md, "Exact density").

Densities reachable by rotations are discrete steps. With exact_density a matrix stops
at the last rotation count at or below its target, and uniformly random positions join
its mask, zero-valued and trainable, until it holds exactly the target count. The
positions come from the top-up stream of a seed (docs/random-stream.md, "Top-up"), so
they are the same on every backend and any block of a topped-up mask can be built
alone:

- whole masks: the backend's top_up_masks op reads the held entries from the mask;
- a block of masks: the stream is replayed against the entries held before the top-up,
  which a :class:`HeldEntries` describes without building the whole mask (a
  RotationPlan's support bitsets, or a conv kernel's centre tap), and the positions that
  fall inside the block are set.

The same rule serves EOI matrices (seeded with their plan's seeds) and conv kernels
(seeded with the kernel's own top-up seed, eoi_ext.conv).
"""

from __future__ import annotations

from typing import Protocol

from torch import Tensor

from .backends import kernels
from .checks import check_range
from .random_stream import add_free_positions

__all__ = ["HeldEntries", "top_up_"]


class HeldEntries(Protocol):
    """The entries of `count` whole (rows, cols) masks before the top-up."""

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, cols) of each whole mask."""
        ...

    def held_counts(self) -> Tensor:
        """(count,) int64: how many entries each mask holds."""
        ...

    def holds(self, index: int, positions: Tensor) -> Tensor:
        """Bool: whether flat positions (row * cols + col) are held in mask `index`."""
        ...


def top_up_(
    mask: Tensor,
    seeds: Tensor,
    target_count: int,
    *,
    held: HeldEntries | None = None,
    row_range: tuple[int, int] | None = None,
    col_range: tuple[int, int] | None = None,
) -> Tensor:
    """Adds the exact-density top-up to masks, in place, until each whole mask holds
    `target_count` entries.

    Args:
        mask: contiguous bool (count, r1 - r0, c1 - c0): the block [row_range, col_range]
            of `count` masks (whole masks when both ranges are None).
        seeds: (count,) int64 on the CPU; mask b draws from the top-up stream of seeds[b].
        target_count: entries each whole mask holds afterwards (or more, never fewer).
        held: the masks' entries before the top-up; required for a block (the block
            cannot tell how many entries the rest of the mask holds).
        row_range, col_range: the block's (begin, end) rows / columns of the whole masks.

    Returns:
        mask.

    Examples:
        >>> plan = eoi_ext.givens.sample_plan(8, 8, 0.3, exact_density=True)
        >>> mask = eoi_ext.givens.support_mask(plan)
        >>> int(eoi_ext.givens.top_up_(mask, plan.seeds, 19).sum())
        19
    """
    if row_range is None and col_range is None:
        kernels(mask.device).top_up_masks(seeds, int(target_count), mask)
        return mask
    if held is None:
        raise ValueError("held must describe the whole masks to top up a block of them")
    rows, cols = held.shape
    r0, r1 = check_range(row_range, rows, "row_range") or (0, rows)
    c0, c1 = check_range(col_range, cols, "col_range") or (0, cols)
    total = rows * cols
    counts = held.held_counts()
    for b, seed in enumerate(seeds.tolist()):
        if int(target_count) >= total:  # every position joins whatever the draws: full
            mask[b].fill_(True)
            continue
        positions = add_free_positions(
            seed,
            total,
            min(int(target_count), total) - int(counts[b]),
            lambda candidates, b=b: held.holds(b, candidates),
        )
        w_rows, w_cols = positions // cols, positions % cols
        inside = (w_rows >= r0) & (w_rows < r1) & (w_cols >= c0) & (w_cols < c1)
        index = (w_rows[inside] - r0, w_cols[inside] - c0)
        mask[b][tuple(i.to(mask.device) for i in index)] = True
    return mask
