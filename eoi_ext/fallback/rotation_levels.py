"""ASAP level scheduling: mirror of csrc/core/rotation_levels."""

from __future__ import annotations

import itertools

import torch
from torch import Tensor

from .checks import check_pairs

__all__ = ["levels_of", "rotation_levels"]


def rotation_levels(offsets: Tensor, pairs: Tensor, m: int) -> Tensor:
    """0-based level of every rotation, per matrix: (R,) int32.

    L(k) = max(last[i_k], last[j_k]) with last[c] = 1 + the level of the latest rotation
    on coordinate c; rotations of one level touch disjoint coordinates.
    """
    return levels_of(offsets, pairs, check_pairs(offsets, pairs, m))


def levels_of(offsets: Tensor, pairs: Tensor, coords: int) -> Tensor:
    """rotation_levels of a checked plan whose rotations touch coordinates [0, coords):
    the scratch covers those, not all m (as in csrc/ops.cpp)."""
    bounds = offsets.tolist()
    flat = pairs.reshape(-1).tolist()
    levels: list[int] = []
    for begin, end in itertools.pairwise(bounds):
        last = [0] * coords
        for k in range(begin, end):
            i, j = flat[2 * k], flat[2 * k + 1]
            level = max(last[i], last[j])
            levels.append(level)
            last[i] = last[j] = level + 1
    return torch.tensor(levels, dtype=torch.int32)
