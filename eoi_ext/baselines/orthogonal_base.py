"""The paper's base: the dense orthogonal initialization, then a mask, not rescaled, as
the published EOI code builds it (models/initializers.py, Orthogonal; docs/algorithm.md,
"Baselines").

Matrices (Linear, RNN gates, q/k/v) get torch.nn.init.orthogonal_ per row block; square
2-D conv kernels get conv_orthogonal (Xiao et al. 2018, Algorithm 1), the published
`init_type: conv_orthogonal` of every sparse CNN run. Other kernels (1-D, 3-D,
non-square), which the published code never builds, get orthogonal_ of their
(rows, fan_in) view, as torch.nn.init.orthogonal_ does. The mask is random, or given
(a mask source such as SNIP, eoi_ext.mask_sources): then its positions are kept.
"""

from __future__ import annotations

import torch
from torch import Tensor

from ..checks import check_groups
from .conv_orthogonal import conv_orthogonal
from .random_sparse import check_builder, fan_in, masks_or_random

__all__ = ["orthogonal_base"]


def orthogonal_base(
    shape: tuple[int, ...],
    density: float,
    *,
    gain: float = 1.0,
    groups: int = 1,
    count: int = 1,
    masks: Tensor | None = None,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str = "cpu",
    generator: torch.Generator | None = None,
) -> tuple[Tensor, Tensor]:
    """Dense orthogonal weights (conv_orthogonal kernels for 2-D convs), then a mask.

    The base of Nowak et al. (ICML 2024): orthogonal before masking, no longer after,
    and not rescaled for the density.

    Args:
        shape: shape of each weight, (rows, cols) or a conv kernel.
        density: fraction of mask entries (ignored when `masks` is given).
        gain: scale of the orthogonal blocks.
        groups: row blocks, each orthogonal on its own (RNN gates, q/k/v, conv groups).
        count: number of weights.
        masks: (count, *shape) bool masks to keep, or None for uniformly random ones
            with round(density * numel) entries.
        dtype, device: of the result (computed in float64 on the CPU).
        generator: source of the draws (torch's default generator when None).

    Returns:
        (weights, masks), each (count, *shape).

    Examples:
        >>> w, m = eoi_ext.baselines.orthogonal_base((32, 32), 0.5)
        >>> eoi_ext.metrics.orthogonality_error(w[0]) > 0.1  # masking broke it
        True
        >>> w, m = eoi_ext.baselines.orthogonal_base((16, 16, 3, 3), 1.0)
        >>> eoi_ext.metrics.conv_orthogonality_error(w[0]) < 1e-5  # dense: an isometry
        True
    """
    shape, density, gain, count = check_builder(shape, density, gain, count, dtype, generator)
    groups = check_groups(groups, shape[0])
    if len(shape) == 4 and shape[2] == shape[3]:
        weights = conv_orthogonal(
            shape, gain=gain, groups=groups, count=count, dtype=torch.float64,
            generator=generator,
        )  # fmt: skip
    else:
        blocks = (count * groups, shape[0] // groups, fan_in(shape))
        weights = torch.empty(blocks, dtype=torch.float64)
        for block in weights:
            torch.nn.init.orthogonal_(block, gain=gain, generator=generator)
        weights = weights.view(count, *shape)
    masks = masks_or_random(masks, count, shape, density, generator)
    return (weights * masks).to(device=device, dtype=dtype), masks.to(device)
