"""sparse_orthogonal and sparse_orthogonal_batch: exactly orthogonal sparse matrices."""

from __future__ import annotations

import torch
from torch import Tensor

from .build import build
from .checks import (
    check_density,
    check_dtype,
    check_flag,
    check_gain,
    check_gain_fits,
    check_generator,
    check_range,
    check_size,
)
from .spec import WeightSpec

__all__ = ["sparse_orthogonal", "sparse_orthogonal_batch"]


def sparse_orthogonal_batch(
    count: int,
    rows: int,
    cols: int,
    density: float,
    *,
    gain: float = 1.0,
    exact_density: bool = False,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
    generator: torch.Generator | None = None,
    row_range: tuple[int, int] | None = None,
    col_range: tuple[int, int] | None = None,
) -> tuple[Tensor, Tensor]:
    """`count` independent EOI matrices of one shape, sampled in one call.

    Entry b equals what the b-th of `count` consecutive calls of
    :func:`sparse_orthogonal` with the same generator would return: the layers of a deep
    network are built at once.

    Args:
        count: number of matrices (0 gives empty stacks).
        rows, cols, density, gain, exact_density, dtype, device, generator, row_range,
            col_range: as :func:`sparse_orthogonal`; row_range / col_range select the
            same block of every matrix.

    Returns:
        (weights, masks): (count, rows, cols) weights of `dtype` and bool masks (the
        block's shape with row_range / col_range).

    Examples:
        >>> Ws, Ms = eoi_ext.sparse_orthogonal_batch(1000, 128, 128, 0.125)
        >>> Ws.shape, Ms.dtype
        (torch.Size([1000, 128, 128]), torch.bool)
        >>> bool((Ws[~Ms] == 0).all())
        True
    """
    count = check_size(count, "count", minimum=0)
    rows = check_size(rows, "rows")
    cols = check_size(cols, "cols")
    density = check_density(density)
    dtype = check_dtype(dtype)
    gain = check_gain_fits(check_gain(gain), dtype)
    check_flag(exact_density, "exact_density")
    check_generator(generator)
    row_range = check_range(row_range, rows, "row_range")
    col_range = check_range(col_range, cols, "col_range")
    spec = WeightSpec((rows, cols), density, gain=gain, exact_density=exact_density)
    return build(
        spec, count=count, generator=generator, row_range=row_range, col_range=col_range,
        dtype=dtype, device=device,
    )  # fmt: skip


def sparse_orthogonal(
    rows: int,
    cols: int,
    density: float,
    *,
    gain: float = 1.0,
    exact_density: bool = False,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
    generator: torch.Generator | None = None,
    row_range: tuple[int, int] | None = None,
    col_range: tuple[int, int] | None = None,
) -> tuple[Tensor, Tensor]:
    """An exactly orthogonal sparse matrix and its mask: Exact Orthogonal Initialization.

    From Nowak, Gniecki, Szatkowski and Tabor, "Sparser, Better, Deeper, Stronger:
    Improving Static Sparse Training with Exact Orthogonal Initialization" (ICML 2024).
    W is gain times a product of random Givens rotations restricted to min(rows, cols)
    rows: W W^T = gain^2 I when rows <= cols, W^T W = gain^2 I otherwise, to float
    rounding. The mask is the symbolic support of W; entries outside it are exactly 0.

    Args:
        rows, cols: shape of W (positive integers).
        density: target fraction of mask entries, in (0, 1]. Rotations are added until
            the density first reaches it (or stays one rotation short when that is
            strictly closer). Below 1/max(rows, cols) the minimum-density matrix is
            returned with a warning.
        gain: scale of W.
        exact_density: stop at the last rotation below the target, then add uniformly
            random zero-valued (trainable) positions to the mask until it holds exactly
            round(density * rows * cols) entries. W stays exactly orthogonal.
        dtype: float16, bfloat16, float32 or float64 (computed in float64 for float64,
            in float32 otherwise).
        device: where W and the mask are made (default CPU).
        generator: source of all randomness (torch's default CPU generator when None).
        row_range, col_range: (begin, end) to build only the block W[begin:end] /
            W[:, begin:end] (both: their intersection) and its mask, equal to that slice
            of the whole matrix (to float rounding): a shard of a layer, built with
            memory for the block only and no communication
            (docs/blocks-and-sharding.md).

    Returns:
        (W, M): W of shape (rows, cols) and `dtype`, M a bool mask of the same shape
        (the block's shape with row_range / col_range).

    Examples:
        >>> W, M = eoi_ext.sparse_orthogonal(256, 512, 0.1)
        >>> W.shape, round(M.float().mean().item(), 2)
        (torch.Size([256, 512]), 0.1)
        >>> bool(torch.allclose(W @ W.T, torch.eye(256), atol=1e-5))
        True
        >>> g = torch.Generator().manual_seed(1)
        >>> W, M = eoi_ext.sparse_orthogonal(300, 100, 0.2, exact_density=True, generator=g)
        >>> int(M.sum())  # exactly round(0.2 * 300 * 100)
        6000
    """
    weights, mask = sparse_orthogonal_batch(
        1, rows, cols, density, gain=gain, exact_density=exact_density, dtype=dtype,
        device=device, generator=generator, row_range=row_range, col_range=col_range,
    )  # fmt: skip
    return weights[0], mask[0]
