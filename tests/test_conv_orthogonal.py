"""conv_orthogonal (issue 14): the published base of every CNN, Algorithm 1 of Xiao et
al. 2018 as models/initializers.py of the published code builds it, checked against a
plain reimplementation of that code (its loops, its draw order, a generator for the
draws, float64) and certified orthogonal on periodic signals."""

from __future__ import annotations

import pytest
import torch

from eoi_ext.baselines import conv_orthogonal
from eoi_ext.metrics import conv_orthogonality_error


def published_orthogonal(n: int, g: torch.Generator) -> torch.Tensor:
    a = torch.randn(n, n, dtype=torch.float64, generator=g)
    q, r = torch.linalg.qr(a)
    return q * torch.diag(r, 0).sign()


def published_projection(n: int, g: torch.Generator) -> torch.Tensor:
    q = published_orthogonal(n, g)
    mask = (torch.randn(n, dtype=torch.float64, generator=g) > 0).double()
    c = q * mask
    return c @ c.T


def published_block_convolution(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    n, k, m = a.shape[-1], a.shape[0], b.shape[0]
    size = k + m - 1
    result = torch.zeros(size, size, n, n, dtype=torch.float64)
    for i in range(size):
        for j in range(size):
            for i1 in range(min(k, i + 1)):
                for i2 in range(min(k, j + 1)):
                    if (i - i1) < m and (j - i2) < m:
                        result[i][j] += a[i1][i2] @ b[i - i1][j - i2]
    return result


def published_conv_orthogonal(c_out: int, c_in: int, k: int, g: torch.Generator) -> torch.Tensor:
    swapped = c_in > c_out
    if swapped:
        c_in, c_out = c_out, c_in
    a = torch.eye(c_out, dtype=torch.float64).reshape(1, 1, c_out, c_out)
    p, q = published_projection(c_out, g), published_projection(c_out, g)
    eye = torch.eye(c_out, dtype=torch.float64)
    b = torch.zeros(2, 2, c_out, c_out, dtype=torch.float64)
    b[0][0], b[0][1], b[1][0], b[1][1] = p @ q, p @ (eye - q), (eye - p) @ q, (eye - p) @ (eye - q)
    for _ in range(k - 1):
        a = published_block_convolution(a, b)
    h = published_orthogonal(c_out, g)[:c_in, :]
    result = torch.zeros(c_out, c_in, k, k, dtype=torch.float64)
    for i in range(k):
        for j in range(k):
            result[:, :, i, j] = (h @ a[i][j]).T
    return result.transpose(0, 1) if swapped else result


@pytest.mark.parametrize(
    ("c_out", "c_in", "k"), [(8, 8, 3), (12, 5, 3), (5, 12, 3), (6, 6, 1), (4, 4, 5)]
)
def test_equals_the_published_construction_and_is_orthogonal(c_out, c_in, k):
    weights = conv_orthogonal(
        (c_out, c_in, k, k), gain=1.5, count=2, dtype=torch.float64,
        generator=torch.Generator().manual_seed(3),
    )  # fmt: skip
    g = torch.Generator().manual_seed(3)
    for weight in weights:
        expected = published_conv_orthogonal(c_out, c_in, k, g) * 1.5
        torch.testing.assert_close(weight, expected, rtol=0, atol=1e-12)
        assert conv_orthogonality_error(weight, 1.5, grid=max(8, 2 * k)) < 1e-12
    if k > 1:
        assert (weights != 0).float().mean() > 0.9  # dense, unlike a delta kernel


def test_groups_are_each_orthogonal():
    weight = conv_orthogonal((12, 4, 3, 3), groups=3, generator=torch.Generator().manual_seed(0))[0]
    assert conv_orthogonality_error(weight, groups=3) < 1e-5
    assert conv_orthogonality_error(weight, groups=1) > 0.1  # the blocks are not one map


@pytest.mark.parametrize("shape", [(8, 8, 3, 2), (8, 8, 3), (8, 8)])
def test_only_square_2d_kernels(shape):
    with pytest.raises(ValueError, match="square 2-D kernel"):
        conv_orthogonal(shape)
