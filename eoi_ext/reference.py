"""The published EOI algorithm, written out as plainly as possible (docs/algorithm.md, "Baselines").

This is the ``reference`` baseline: a deliberately faithful reimplementation of the
algorithm of Nowak et al. (ICML 2024) as published. It keeps the dense matrix
``A = [I_n | 0] G_1 ... G_R`` (``n = min(rows, cols)``, ``m = max(rows, cols)``), applies
every Givens rotation as a dense update of two columns of A, and recounts *all* nonzeros
of A after every rotation: O(n * m) work per rotation. That recount is the point -- this
function is the speed anchor the benchmarks compare against, and the statistical anchor
the agreement tests compare the package's sampler with. Do not optimize it.

Randomness comes straight from a ``torch.Generator`` (``torch.randint`` / ``torch.rand``;
PyTorch's global default generator when ``generator`` is None). The rotation *sequence*
therefore differs from the package's counter-based stream; only the distributions agree.
"""

from __future__ import annotations

import math

import torch

from .checks import check_density, check_dtype, check_size

__all__ = ["draw_published_rotation", "published_sparse_orthogonal"]


def draw_published_rotation(
    m: int, generator: torch.Generator | None = None
) -> tuple[int, int, float]:
    """Draws one rotation of the m-dimensional space from ``generator``.

    Returns ``(i, j, theta)``: ``{i, j}`` uniform over the unordered pairs of distinct
    indices in ``[0, m)`` (``i`` uniform, then ``j`` uniform over the other ``m - 1``
    indices) and ``theta`` uniform in ``[0, 2*pi)``. Consumes three draws of the
    generator (two ``torch.randint``, one ``torch.rand`` in float64).

    Args:
        m: the larger side of the matrix (``m >= 2``).
        generator: source of the draws; PyTorch's global generator when None.

    Returns:
        ``(i, j, theta)``.

    Examples:
        >>> i, j, theta = eoi_ext.reference.draw_published_rotation(8)
        >>> 0 <= i < 8 and 0 <= j < 8 and i != j and 0.0 <= theta < 6.3
        True
    """
    i = int(torch.randint(0, m, (1,), generator=generator).item())
    j = int(torch.randint(0, m - 1, (1,), generator=generator).item())
    if j >= i:
        j += 1
    theta = float(torch.rand(1, generator=generator, dtype=torch.float64).item()) * 2.0 * math.pi
    return i, j, theta


def _rotate_columns(a: torch.Tensor, i: int, j: int, c: float, s: float) -> None:
    """Right-multiplies ``a`` by G(i, j, theta) in place (both columns from old values)."""
    col_i = a[:, i].clone()
    col_j = a[:, j].clone()
    a[:, i] = c * col_i - s * col_j
    a[:, j] = s * col_i + c * col_j


def published_sparse_orthogonal(
    rows: int,
    cols: int,
    density: float,
    *,
    gain: float = 1.0,
    dtype: torch.dtype = torch.float64,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor, int]:
    """Samples one sparse orthogonal matrix with the published EOI algorithm.

    Args:
        rows, cols: shape of the result (both >= 1).
        density: target density ``d`` in ``(0, 1]``.
        gain: scale of the result.
        dtype: floating dtype of A and W (the rotations are applied in it).
        generator: source of all randomness; PyTorch's global generator when None.

    Returns:
        ``(W, mask, R)``: ``W`` of shape ``(rows, cols)`` and ``dtype``, equal to
        ``gain * A`` if ``rows <= cols`` else ``gain * A.T``, where ``A`` (``n x m``) has
        orthonormal rows; ``mask`` of shape ``(rows, cols)``, bool, ``W != 0``; ``R`` the
        number of rotations applied.

    Stopping rule: after each rotation the density ``nnz(A) / (n * m)`` is recomputed;
    the loop stops at the first R whose density is ``>= d``, and uses R - 1 instead (the
    last rotation is undone) if that density was strictly closer to ``d``. If ``d`` is at
    or below the starting density ``1 / m``, ``R = 0``.

    Examples:
        >>> W, mask, R = eoi_ext.reference.published_sparse_orthogonal(32, 32, 0.25)
        >>> R > 0, eoi_ext.metrics.orthogonality_error(W) < 1e-12
        (True, True)
    """
    rows, cols = check_size(rows, "rows"), check_size(cols, "cols")
    density = check_density(density)
    dtype = check_dtype(dtype)

    n, m = min(rows, cols), max(rows, cols)
    a = torch.zeros(n, m, dtype=dtype)
    a[:, :n] = torch.eye(n, dtype=dtype)
    target = density * n * m
    nnz = int(torch.count_nonzero(a).item())

    rotations = 0
    if m >= 2 and nnz < target:
        while True:
            i, j, theta = draw_published_rotation(m, generator)
            c, s = math.cos(theta), math.sin(theta)
            old_i, old_j = a[:, i].clone(), a[:, j].clone()
            _rotate_columns(a, i, j, c, s)
            previous = nnz
            nnz = int(torch.count_nonzero(a).item())
            rotations += 1
            if nnz >= target:
                if target - previous < nnz - target:
                    a[:, i] = old_i
                    a[:, j] = old_j
                    rotations -= 1
                break

    w = a if rows <= cols else a.T.contiguous()
    w = w * gain
    return w, w != 0, rotations
