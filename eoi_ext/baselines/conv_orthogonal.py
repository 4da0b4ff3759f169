"""Dense orthogonal convolution kernels: Algorithm 1 of Xiao et al., "Dynamical Isometry
and a Mean Field Theory of CNNs" (ICML 2018), as the published EOI code builds the base
of its CNNs (docs/algorithm.md, "Baselines").

A k x k kernel is the block convolution of k - 1 copies of one 2 x 2 block-orthogonal
kernel B(P, Q) = [[PQ, P(I-Q)], [(I-P)Q, (I-P)(I-Q)]] of two random symmetric projections,
read through c_in rows of a random orthogonal matrix. B's symbol (P + (I-P)z1)(Q + (I-Q)z2)
is unitary at every frequency, so the convolution is an isometry on periodic signals
(eoi_ext.metrics.conv_orthogonality_error certifies it), and unlike a delta kernel every
tap is nonzero.
"""

from __future__ import annotations

import torch
from torch import Tensor

from ..checks import check_groups
from .random_sparse import check_builder

__all__ = ["conv_orthogonal"]


def conv_orthogonal(
    shape: tuple[int, ...],
    *,
    gain: float = 1.0,
    groups: int = 1,
    count: int = 1,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str = "cpu",
    generator: torch.Generator | None = None,
) -> Tensor:
    """Dense orthogonal convolution kernels (block-orthogonal, Xiao et al. 2018, Alg. 1).

    Args:
        shape: (c_out, c_in / groups, k, k): a square 2-D kernel.
        gain: scale of the map.
        groups: conv groups, each its own orthogonal convolution.
        count: number of kernels.
        dtype, device: of the result (computed in float64 on the CPU).
        generator: source of the draws (torch's default generator when None).

    Returns:
        Kernels (count, *shape). With c_in > c_out per group the convolution's adjoint is
        the isometry (the rows are orthonormal), as for a wide matrix.

    Examples:
        >>> w = eoi_ext.baselines.conv_orthogonal((16, 16, 3, 3))[0]
        >>> eoi_ext.metrics.conv_orthogonality_error(w) < 1e-5, bool((w != 0).all())
        (True, True)
    """
    shape, _, gain, count = check_builder(shape, 1.0, gain, count, dtype, generator)
    if len(shape) != 4 or shape[2] != shape[3]:
        raise ValueError(f"shape must be a square 2-D kernel (c_out, c_in, k, k), got {shape}")
    groups = check_groups(groups, shape[0])
    rows, cols, size = shape[0] // groups, shape[1], shape[2]
    kernels = [_kernel(rows, cols, size, generator) for _ in range(count * groups)]
    weights = torch.stack(kernels).reshape(count, *shape) * gain
    return weights.to(device=device, dtype=dtype)


def _kernel(rows: int, cols: int, size: int, generator: torch.Generator | None) -> Tensor:
    """One (rows, cols, size, size) kernel; built for n = max(rows, cols) channels and
    transposed when cols > rows, as the published code does."""
    n, inputs = max(rows, cols), min(rows, cols)
    p, q = _projection(n, generator), _projection(n, generator)
    eye = torch.eye(n, dtype=torch.float64)
    block = torch.stack(
        [torch.stack([p @ q, p @ (eye - q)]), torch.stack([(eye - p) @ q, (eye - p) @ (eye - q)])]
    )
    taps = eye.reshape(1, 1, n, n)
    for _ in range(size - 1):  # taps <- taps (*) block, a 2-D block convolution
        grown = torch.zeros(len(taps) + 1, len(taps) + 1, n, n, dtype=torch.float64)
        for i in range(2):
            for j in range(2):
                grown[i : i + len(taps), j : j + len(taps)] += taps @ block[i, j]
        taps = grown
    head = _orthogonal(n, generator)[:inputs]  # (inputs, n)
    kernel = (head @ taps).transpose(-2, -1)  # (size, size, n, inputs)
    kernel = kernel.permute(2, 3, 0, 1)  # (n, inputs, size, size)
    return kernel if rows >= cols else kernel.transpose(0, 1)


def _orthogonal(n: int, generator: torch.Generator | None) -> Tensor:
    """A random n x n orthogonal matrix: QR of a Gaussian, signs fixed by R's diagonal."""
    q, r = torch.linalg.qr(torch.randn(n, n, dtype=torch.float64, generator=generator))
    return q * torch.diagonal(r).sign()


def _projection(n: int, generator: torch.Generator | None) -> Tensor:
    """A random symmetric projection: C C^T for a random half of an orthogonal basis."""
    basis = _orthogonal(n, generator)
    kept = (torch.randn(n, dtype=torch.float64, generator=generator) > 0).to(torch.float64)
    columns = basis * kept
    return columns @ columns.T
