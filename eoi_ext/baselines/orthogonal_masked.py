"""Dense orthogonal blocks, then a random mask: orthogonal before masking, no longer
after (docs/algorithm.md, "Baselines")."""

from __future__ import annotations

import torch
from torch import Tensor

from ..checks import check_groups
from .random_sparse import check_builder, fan_in, random_masks

__all__ = ["orthogonal_masked"]


def orthogonal_masked(
    shape: tuple[int, ...],
    density: float,
    *,
    gain: float = 1.0,
    groups: int = 1,
    count: int = 1,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str = "cpu",
    generator: torch.Generator | None = None,
) -> tuple[Tensor, Tensor]:
    """torch.nn.init.orthogonal_ on each row block, then a uniformly random mask.

    Args:
        shape: shape of each weight, (rows, cols) or a conv kernel.
        density: fraction of mask entries.
        gain: scale of the orthogonal blocks.
        groups: row blocks, each orthogonal on its own (RNN gates, q/k/v, conv groups).
        count: number of weights.
        dtype, device: of the result (computed in float64 on the CPU).
        generator: source of the draws (torch's default generator when None).

    Returns:
        (weights, masks), each (count, *shape).

    Examples:
        >>> w, m = eoi_ext.baselines.orthogonal_masked((32, 32), 0.5)
        >>> eoi_ext.metrics.orthogonality_error(w[0]) > 0.1  # masking broke it
        True
    """
    shape, density, gain, count = check_builder(shape, density, gain, count, dtype, generator)
    groups = check_groups(groups, shape[0])
    weights = torch.empty((count * groups, shape[0] // groups, fan_in(shape)), dtype=torch.float64)
    for block in weights:
        torch.nn.init.orthogonal_(block, gain=gain, generator=generator)
    masks = random_masks(count, shape, density, generator)
    weights = weights.view(count, *shape) * masks
    return weights.to(device=device, dtype=dtype), masks.to(device)
