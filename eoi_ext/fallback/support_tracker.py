"""Symbolic support tracking and the stopping rules: mirror of csrc/core/support_tracker.

The column supports S_c are Python ints used as bitsets (bit r: row r of A = [I_n | 0]
G_1 ... G_R can be nonzero in column c); a rotation on (i, j) sets both to S_i | S_j and
adds |S_i ^ S_j| to the nonzero count.
Rotations are drawn from the counter stream in vectorized chunks and consumed one by one.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from ..random_stream import draw_rotations
from .checks import check_sample_plans

__all__ = ["sample_plans", "sample_rotations"]

_WORD_MASK = (1 << 64) - 1


def _chunk_size(n: int, m: int, density: float) -> int:
    """A guess of the rotation count, about 0.7 (m/2) log2(d m) (docs/algorithm.md,
    "Cost model"), so most matrices need one chunk of draws; more follow when it is short."""
    return max(64, int(0.5 * m * math.log2(max(2.0, density * m))) + 64)


def sample_rotations(
    seed: int, n: int, m: int, density: float, at_most: bool
) -> tuple[list[int], list[int], list[int]]:
    """Draws rotations until the stopping rule holds (see StopRule in the C++ header).

    Returns (i list, j list, supports): the R chosen pairs and the m column supports of
    A after R rotations. at_most selects the exact-density rule (last R with
    nnz <= target), else the published rule (first R with nnz >= target, or R - 1 if
    strictly closer).
    """
    supports = [1 << c if c < n else 0 for c in range(m)]
    nnz = n
    target = density * n * m
    full = n * m
    chosen_i: list[int] = []
    chosen_j: list[int] = []
    if m < 2 or (nnz > target if at_most else nnz >= target):
        return chosen_i, chosen_j, supports

    def accept(i: int, j: int) -> None:
        supports[i] = supports[j] = supports[i] | supports[j]
        chosen_i.append(i)
        chosen_j.append(j)

    chunk = _chunk_size(n, m, density)
    first = 0
    while True:
        draws_i, draws_j, _ = draw_rotations(seed, first, chunk, m)
        for i, j in zip(draws_i.tolist(), draws_j.tolist(), strict=True):
            # The count after the rotation: nnz + |S_i ^ S_j| (= 2|S_i | S_j| - |S_i| - |S_j|).
            after = nnz + (supports[i] ^ supports[j]).bit_count()
            if not at_most and after >= target:
                if target - nnz < after - target:
                    return chosen_i, chosen_j, supports  # R - 1 is strictly closer
                accept(i, j)
                return chosen_i, chosen_j, supports
            if at_most and after > target:
                return chosen_i, chosen_j, supports
            accept(i, j)
            nnz = after
            # A full support cannot grow: stop there whatever the target.
            if nnz == full:
                return chosen_i, chosen_j, supports
        first += chunk


def _signed_word(word: int) -> int:
    return word - (1 << 64) if word >> 63 else word


def _support_words(supports: list[int], n: int) -> Tensor:
    """(m, ceil(n / 64)) int64 words of the bitsets, bit r of S_c in word r // 64."""
    words = (n + 63) // 64
    flat = [_signed_word((s >> (64 * w)) & _WORD_MASK) for s in supports for w in range(words)]
    return torch.tensor(flat, dtype=torch.int64).view(len(supports), words)


def sample_plans(
    seeds: Tensor, n: int, m: int, density: float, at_most: bool, pin_memory: bool = False
) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Mirror of torch.ops.eoi_ext.sample_plans: (offsets, pairs, cos_sin, support)."""
    check_sample_plans(seeds, n, m, density, pin_memory)
    offsets = [0]
    all_i: list[int] = []
    all_j: list[int] = []
    thetas: list[Tensor] = []
    supports: list[Tensor] = []
    for seed in seeds.tolist():
        chosen_i, chosen_j, column_supports = sample_rotations(seed, n, m, density, at_most)
        all_i += chosen_i
        all_j += chosen_j
        offsets.append(offsets[-1] + len(chosen_i))
        thetas.append(draw_rotations(seed, 0, len(chosen_i), m)[2])
        supports.append(_support_words(column_supports, n))
    pairs = torch.tensor([all_i, all_j], dtype=torch.int32).reshape(2, -1).T.contiguous()
    theta = torch.cat([torch.zeros(0, dtype=torch.float64), *thetas])
    cos_sin = torch.stack([torch.cos(theta), torch.sin(theta)], dim=1)
    support = (
        torch.stack(supports) if supports else torch.zeros(0, m, (n + 63) // 64, dtype=torch.int64)
    )
    if pin_memory:
        support = support.pin_memory()
    return torch.tensor(offsets, dtype=torch.int64), pairs, cos_sin, support
