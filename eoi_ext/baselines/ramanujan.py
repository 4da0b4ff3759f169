"""The matrix core of SAO (Esguerra et al. 2023): a Ramanujan bi-regular mask with
orthogonal values, as sao/ramanujan_constructions.py of the published EOI code builds it
(docs/algorithm.md, "Baselines"); eoi_ext.baselines.sao builds weights from it.

For a (rows, cols) matrix with n = max(rows, cols), m = min(rows, cols) and degree d,
the published code works on the (m, n) orientation and transposes a tall result
(Ramanujan_Constructions.__call__). _block_construct builds an (n / d, n) block whose
rows split the n columns into sets of d: each row first takes two random free columns
(two passes over the rows), then the free columns are dealt in ascending order, d - 2 to
a row. The mask stacks m d / n copies of the block, so every row holds d entries and
every column m d / n. _assign_values gives the m d / n rows that share one support the
first rows of one d x d orthogonal matrix, scipy.linalg.orth (the U of the SVD) of a
uniform [0, 1) matrix: the rows are orthonormal, and a square matrix is orthogonal.
The ReLU variant builds the half (m / 2, n / 2) matrix of degree d / 2 and returns
[[W, -W], [-W, W]] with the mask |[[M, -M], [-M, M]]|.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from ..checks import check_density, check_groups, check_shape

__all__ = ["sao_degree", "sao_matrix"]


def sao_degree(
    shape: tuple[int, ...], density: float, *, groups: int = 1, relu: bool = False
) -> int:
    """The degree SAO builds a weight of `shape` with at `density`.

    The published code maps a density to degree d = density * max(rows, cols) of each
    row block (main.py: sparsity = 1 - density; Ramanujan_Constructions: int((1 -
    sparsity) * larger_dim)). Reachable are the d the construction builds exactly:
    2 <= d <= n, d divides n and n / d divides m (n = max, m = min of the block); with
    relu also m, n and d even, d >= 4 and n / d dividing m / 2. For 128 x 128 that is
    d in {2, 4, ..., 128} (relu: {4, 8, ..., 128}); for 64 x 128 the same.

    Args:
        shape: (rows, cols) or a conv kernel (c_out, c_in / groups, *kernel).
        density: fraction of mask entries, d / max(rows / groups, cols).
        groups: row blocks, each built on its own.
        relu: the ReLU variant ([[W, -W], [-W, W]] of a half-size construction).

    Returns:
        The degree d: entries of each row of the block's (min, max) orientation.

    Examples:
        >>> eoi_ext.baselines.sao_degree((128, 128), 0.125)
        16
        >>> eoi_ext.baselines.sao_degree((128, 128), 0.1)
        Traceback (most recent call last):
        ...
        ValueError: density 0.1 ... nearest reachable: 0.0625, 0.125
    """
    shape = check_shape(shape)
    density = check_density(density)
    groups = check_groups(groups, shape[0])
    rows, cols = shape[0] // groups, shape[1]
    n = max(rows, cols)
    reachable = _reachable(rows, cols, relu)
    degree = round(density * n)
    # The published int() truncation would turn 0.1 into d = 12 at n = 128, which does
    # not divide 128: its block loop then gives up after 10000 tries with a mask that is
    # not bi-regular. Only exact degrees are accepted here.
    if degree in reachable and math.isclose(density * n, degree, rel_tol=1e-9):
        return degree
    near = [max((d for d in reachable if d < density * n), default=None)]
    near.append(min((d for d in reachable if d > density * n), default=None))
    named = ", ".join(f"{d / n:.6g}" for d in near if d is not None) or "none"
    m = min(rows, cols)
    rule = (
        f"an even d >= 4 dividing {n} with {n} / d dividing {m} / 2 (rows and cols even)"
        if relu
        else f"a degree d >= 2 dividing {n} with {n} / d dividing {m}"
    )
    raise ValueError(
        f"density {density} is not reachable by SAO{' (relu)' if relu else ''} for a "
        f"{rows}x{cols} block: density * {n} must be {rule}; nearest reachable: {named}"
    )


def _reachable(rows: int, cols: int, relu: bool) -> list[int]:
    """Degrees the published construction builds exactly for a (rows, cols) block: its
    first pass gives every block row two columns (d >= 2; d = 1 never ends), the block
    must cover the n columns (d | n) and the copies must fill the m rows ((n / d) | m)."""
    if relu:
        if rows % 2 or cols % 2:
            return []
        return [2 * d for d in _reachable(rows // 2, cols // 2, False)]
    m, n = min(rows, cols), max(rows, cols)
    return [d for d in range(2, n + 1) if n % d == 0 and m % (n // d) == 0]


def sao_matrix(
    rows: int,
    cols: int,
    degree: int,
    *,
    relu: bool = False,
    generator: torch.Generator | None = None,
) -> tuple[Tensor, Tensor]:
    """One SAO matrix: a Ramanujan bi-regular mask with orthonormal rows (or columns,
    when tall) on it, gain 1, in float64 on the CPU.

    Draws, in order: a permutation of the n columns (its first 2 n / d entries are the
    published two random passes, random.choice over the free columns), then n / d
    uniform d x d matrices, one per block row, whose SVD U gives the values.

    Args:
        rows, cols: the matrix's shape.
        degree: entries of each row of the (min, max) orientation (see sao_degree).
        relu: the ReLU variant, [[W, -W], [-W, W]] of the half-size construction.
        generator: source of the draws (torch's default generator when None).

    Returns:
        (weight, mask), each (rows, cols); the mask is bool.

    Examples:
        >>> w, m = eoi_ext.baselines.ramanujan.sao_matrix(8, 8, 4)
        >>> m.sum(0).tolist(), eoi_ext.metrics.orthogonality_error(w) < 1e-12
        ([4, 4, 4, 4, 4, 4, 4, 4], True)
    """
    if degree not in _reachable(rows, cols, relu):
        raise ValueError(f"degree {degree} is not reachable by SAO for a {rows}x{cols} matrix")
    if relu:
        half, mask = sao_matrix(rows // 2, cols // 2, degree // 2, generator=generator)
        signs = torch.tensor([[1.0, -1.0], [-1.0, 1.0]], dtype=torch.float64)
        return torch.kron(signs, half), mask.repeat(2, 2)
    m, n = min(rows, cols), max(rows, cols)
    width, copies = n // degree, m * degree // n  # block rows; entries of every column
    order = torch.randperm(n, generator=generator)
    owner = torch.empty(n, dtype=torch.long)  # the block row holding each column
    owner[order[: 2 * width]] = torch.arange(width).repeat(2)
    free = order[2 * width :].sort().values
    owner[free] = torch.arange(width).repeat_interleave(degree - 2)
    # Each block row's columns, ascending: the order torch.nonzero gives the published
    # _assign_values, which writes row k of the orthogonal matrix onto them.
    support = torch.argsort(owner, stable=True).view(width, degree)
    draws = torch.rand(width, degree, degree, generator=generator, dtype=torch.float64)
    values = torch.linalg.svd(draws).U[:, :copies].transpose(0, 1)  # (copies, width, d)
    index = support.expand(copies, width, degree)
    weight = torch.zeros(copies, width, n, dtype=torch.float64).scatter_(2, index, values)
    mask = torch.zeros(copies, width, n, dtype=torch.bool).scatter_(2, index, True)
    weight, mask = weight.view(m, n), mask.view(m, n)
    return (weight.T, mask.T) if rows > cols else (weight, mask)
