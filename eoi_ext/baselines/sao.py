"""SAO, Sparsity-Aware Orthogonal initialization (Esguerra et al., "Sparsity-Aware
Orthogonal Initialization of Deep Neural Networks", IEEE Access 2023), as the published
EOI code builds it (sao/ramanujan_constructions.py, sao/delta.py; docs/algorithm.md,
"Baselines").

Matrices get a Ramanujan bi-regular mask with orthogonal values on it
(eoi_ext.baselines.ramanujan). Conv kernels are delta kernels: the SAO matrix of
(c_out, c_in / groups) at the centre tap, zeros elsewhere, and the mask of every kernel
position (i, j) is the matrix mask's entry, at every tap (Delta_Module._sao_delta), so
the non-centre taps of the support are kept, zero-valued and trainable.
"""

from __future__ import annotations

import torch
from torch import Tensor

from ..checks import check_flag, check_groups
from ..conv import centre
from .ramanujan import sao_degree, sao_matrix
from .random_sparse import check_builder

__all__ = ["sao"]


def sao(
    shape: tuple[int, ...],
    density: float,
    *,
    gain: float = 1.0,
    groups: int = 1,
    count: int = 1,
    relu: bool = False,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str = "cpu",
    generator: torch.Generator | None = None,
) -> tuple[Tensor, Tensor]:
    """Ramanujan bi-regular masks with orthogonal values (SAO, Esguerra et al. 2023).

    Each row block (rows / groups, cols) gets a mask with exactly d = density * max
    entries in every row of its (min, max) orientation and min * d / max in every
    column, and values whose rows (columns, when tall) are orthonormal, times gain: a
    square block is orthogonal. Only the densities sao_degree accepts are reachable
    (for 128 x 128, d / 128 with d in {2, 4, ..., 128}); others raise ValueError. With
    relu, every block is [[W, -W], [-W, W]] of a half-size SAO matrix W (the published
    ReLU variant, for matrices and convs alike): its singular values are 2 * gain and 0.
    Conv kernels hold the matrix at the centre tap ((k - 1) // 2 per dimension, as
    eoi_ext/conv.py places EOI's), with the mask of each (out, in) pair at every tap.
    The published code draws from numpy's and Python's global generators; this one
    draws the same distributions from `generator`.

    Args:
        shape: shape of each weight, (rows, cols) or a conv kernel (c_out, c_in / groups,
            *kernel).
        density: fraction of mask entries, d / max(rows / groups, cols) (see sao_degree).
        gain: scale of the orthogonal values.
        groups: row blocks, each its own SAO matrix (RNN gates, q/k/v, conv groups).
        count: number of weights.
        relu: the ReLU variant (needs even block dims and an even degree d >= 4).
        dtype, device: of the result (computed in float64 on the CPU).
        generator: source of the draws (torch's default generator when None).

    Returns:
        (weights, masks), each (count, *shape); masks are bool, weights zero outside.

    Examples:
        >>> w, m = eoi_ext.baselines.sao((16, 16), 0.25, dtype=torch.float64)
        >>> m[0].sum(0).tolist() == m[0].sum(1).tolist() == [4] * 16
        True
        >>> eoi_ext.metrics.orthogonality_error(w[0]) < 1e-12
        True
        >>> w, m = eoi_ext.baselines.sao((8, 8, 3, 3), 0.5)
        >>> bool(m[0].all(-1).all(-1).eq(m[0][:, :, 1, 1]).all()), m.float().mean().item()
        (True, 0.5)
    """
    shape, density, gain, count = check_builder(shape, density, gain, count, dtype, generator)
    groups = check_groups(groups, shape[0])
    relu = check_flag(relu, "relu")
    degree = sao_degree(shape, density, groups=groups, relu=relu)
    rows, cols = shape[0] // groups, shape[1]
    blocks = torch.zeros(count * groups, rows, cols, dtype=torch.float64)
    block_masks = torch.zeros(count * groups, rows, cols, dtype=torch.bool)
    for block, block_mask in zip(blocks, block_masks, strict=True):
        block[:], block_mask[:] = sao_matrix(rows, cols, degree, relu=relu, generator=generator)
    kernel = shape[2:]
    weights = torch.zeros(count, *shape, dtype=torch.float64)
    weights[(slice(None), slice(None), slice(None), *centre(kernel))] = blocks.view(
        count, shape[0], cols
    )
    masks = block_masks.view(count, shape[0], cols, *(1 for _ in kernel)).expand(count, *shape)
    return (weights * gain).to(device=device, dtype=dtype), masks.contiguous().to(device)
