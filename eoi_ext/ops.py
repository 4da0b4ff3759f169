"""Thin typed wrappers over the compiled ops torch.ops.eoi_ext.* (csrc/ops.cpp).

eoi_ext.fallback exposes the same five functions with the same signatures in pure
PyTorch; eoi_ext.givens picks one of the two. Shapes, for `count` matrices whose
smaller side is n and larger side m, R rotations in all:
  seeds (count,) int64; offsets (count + 1,) int64; pairs (R, 2) int32;
  cos_sin (R, 2) float64; support (count, m, ceil(n / 64)) int64.
"""

from __future__ import annotations

import torch
from torch import Tensor

from . import fake_kernels  # noqa: F401  (registers the fake kernels of the ops)


def sample_plans(
    seeds: Tensor, n: int, m: int, density: float, at_most: bool
) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Samples and tracks the rotations of one matrix per seed; returns
    (offsets, pairs, cos_sin, support)."""
    return torch.ops.eoi_ext.sample_plans(seeds, n, m, density, at_most)


def rotation_levels(offsets: Tensor, pairs: Tensor, m: int) -> Tensor:
    """ASAP level of every rotation, per matrix: (R,) int32."""
    return torch.ops.eoi_ext.rotation_levels(offsets, pairs, m)


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
    (-1: m) of every A into out: (count, k, w), or (count, w, k) when transposed,
    k = row_end - row_begin, w = coord_end - coord_begin. The plan tensors are CPU
    tensors; out may be a CPU or (CUDA builds) a CUDA tensor."""
    torch.ops.eoi_ext.apply_plans(
        offsets,
        pairs,
        cos_sin,
        m,
        row_begin,
        row_end,
        transposed,
        gain,
        out,
        coord_begin,
        coord_end,
    )


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
    """Writes the support of rows [row_begin, row_end), coordinates [coord_begin,
    coord_end) of every A into the bool mask, laid out like apply_plans' out. On CUDA,
    support may stay on the CPU (it is copied through pinned memory without blocking)."""
    torch.ops.eoi_ext.support_masks(
        support, n, m, row_begin, row_end, transposed, mask, coord_begin, coord_end
    )


def top_up_masks(seeds: Tensor, target_count: int, mask: Tensor) -> None:
    """Adds random free positions to every (rows, cols) mask of mask (count, rows, cols)
    until it holds target_count entries."""
    torch.ops.eoi_ext.top_up_masks(seeds, target_count, mask)
