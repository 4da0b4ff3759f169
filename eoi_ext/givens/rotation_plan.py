"""RotationPlan: everything random about a batch of EOI matrices, small and on the CPU.

A plan holds one seed per matrix, the pairs and angles of its rotations and the symbolic
support of A (docs/algorithm.md, "Symbolic support tracking"). Building one costs no
floating point on A; every block of W and of its mask is then a pure function of it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

__all__ = ["RotationPlan", "select"]

# SWAR popcount constants as int64 bit patterns (docs/reliability.md, "Memory for the block").
_M1, _M2, _M4 = 0x5555555555555555, 0x3333333333333333, 0x0F0F0F0F0F0F0F0F
_H01 = 0x0101010101010101
_WORDS_PER_CHUNK = 1 << 20  # 8 MiB of bitset words, and as much scratch, at a time


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

    Examples:
        >>> plan = eoi_ext.givens.sample_plan(30, 12, 0.3, count=4)
        >>> plan.n, plan.m, plan.transposed, plan.count, plan.support.shape
        (12, 30, True, 4, torch.Size([4, 30, 1]))
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
        words = self.support.reshape(-1)
        per_matrix = max(1, words.numel() // max(1, self.count))
        counts = torch.zeros(self.count, dtype=torch.int64)
        # Chunk by chunk, a few chunk-sized temporaries: the scratch stays far below the
        # bitsets' own size (an int64 per byte would cost 8x them: 2.5 GB at 50000^2).
        for begin in range(0, words.numel(), _WORDS_PER_CHUNK):
            chunk = words[begin : begin + _WORDS_PER_CHUNK]
            owner = torch.arange(begin, begin + chunk.numel()) // per_matrix
            counts.index_add_(0, owner, _popcount(chunk))
        return counts

    def holds(self, index: int, positions: Tensor) -> Tensor:
        """Whether flat positions (row * cols + col) of W are in matrix `index`'s support
        mask: what the exact-density top-up of a block must not add again."""
        w_rows, w_cols = positions // self.cols, positions % self.cols
        r, c = (w_cols, w_rows) if self.transposed else (w_rows, w_cols)
        words = self.support[index, c, r >> 6]
        return ((words >> (r & 63)) & 1).bool()


def _popcount(words: Tensor) -> Tensor:
    """Set bits of each int64 word (int64 arithmetic wraps like uint64)."""
    x = words - ((words >> 1) & _M1)
    x = (x & _M2) + ((x >> 2) & _M2)
    x = (x + (x >> 4)) & _M4
    return ((x * _H01) >> 56) & 0xFF


def select(plan: RotationPlan, indices: int | Sequence[int]) -> RotationPlan:
    """The plan of some of a plan's matrices.

    Args:
        plan: a plan of `count` matrices.
        indices: a matrix index, or indices in the order wanted (repeats allowed).

    Returns:
        A RotationPlan of those matrices (its tensors are copies).

    Examples:
        >>> plan = eoi_ext.givens.sample_plan(8, 8, 0.5, count=3)
        >>> last = eoi_ext.givens.select(plan, 2)
        >>> W = eoi_ext.givens.apply_plan(plan)
        >>> bool(torch.equal(eoi_ext.givens.apply_plan(last)[0], W[2]))
        True
    """
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
