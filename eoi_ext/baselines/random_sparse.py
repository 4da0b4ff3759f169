"""The standard sparse initialization: a uniformly random mask, scaled Kaiming-normal
values inside it (docs/algorithm.md, "Baselines")."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from ..checks import (
    check_density,
    check_dtype,
    check_gain,
    check_gain_fits,
    check_generator,
    check_shape,
    check_size,
)

__all__ = ["check_builder", "fan_in", "masks_or_random", "random_masks", "random_sparse"]


def check_builder(
    shape: object, density: object, gain: object, count: object, dtype: object, generator: object
) -> tuple[tuple[int, ...], float, float, int]:
    """The arguments every baseline builder takes, checked (eoi_ext.checks).

    Args:
        shape, density, gain, count, dtype, generator: as random_sparse.

    Returns:
        (shape, density, gain, count) as tuple of ints, float, float, int.

    Examples:
        >>> eoi_ext.baselines.check_builder([8, 4], 0.5, 1, 2, torch.float32, None)
        ((8, 4), 0.5, 1.0, 2)
    """
    shape = check_shape(shape)
    density = check_density(density)
    gain = check_gain_fits(check_gain(gain), check_dtype(dtype))
    count = check_size(count, "count", minimum=0)
    check_generator(generator)
    return shape, density, gain, count


def random_masks(
    count: int, shape: tuple[int, ...], density: float, generator: torch.Generator | None
) -> Tensor:
    """Uniformly random masks with a fixed number of entries.

    Args:
        count: number of masks.
        shape: shape of each mask.
        density: fraction of entries kept: round(density * numel), at least 1.
        generator: source of the draws (torch's default generator when None).

    Returns:
        (count, *shape) bool masks on the CPU.

    Examples:
        >>> masks = eoi_ext.baselines.random_masks(2, (10, 10), 0.3, None)
        >>> masks.shape, masks.flatten(1).sum(1).tolist()
        (torch.Size([2, 10, 10]), [30, 30])
    """
    numel = math.prod(shape)
    keep = max(1, round(density * numel))
    scores = torch.rand(count, numel, generator=generator)
    mask = torch.zeros(count, numel, dtype=torch.bool)
    mask.scatter_(1, scores.topk(keep, dim=1).indices, True)
    return mask.view(count, *shape)


def masks_or_random(
    masks: Tensor | None,
    count: int,
    shape: tuple[int, ...],
    density: float,
    generator: torch.Generator | None,
) -> Tensor:
    """Given masks, checked, or random_masks: how every baseline takes a mask source's
    positions (eoi_ext.mask_sources) or draws its own.

    Args:
        masks: None, or (count, *shape) masks (bool or 0/1 values).
        count, shape, density, generator: as random_masks.

    Returns:
        (count, *shape) bool masks on the CPU.

    Examples:
        >>> given = torch.eye(3, dtype=torch.bool)[None]
        >>> eoi_ext.baselines.masks_or_random(given, 1, (3, 3), 0.5, None).sum().item()
        3
    """
    if masks is None:
        return random_masks(count, shape, density, generator)
    if not isinstance(masks, Tensor) or tuple(masks.shape) != (count, *shape):
        got = tuple(masks.shape) if isinstance(masks, Tensor) else type(masks).__name__
        raise ValueError(f"masks must be a tensor of shape {(count, *shape)}, got {got}")
    masks = masks.detach().to("cpu", torch.bool)
    if not masks.flatten(1).any(1).all():
        raise ValueError("masks must keep at least one entry of every weight")
    return masks


def fan_in(shape: tuple[int, ...]) -> int:
    """Inputs of one output unit: the product of every dim but the first.

    Args:
        shape: a weight's shape, (out, in) or (c_out, c_in / groups, *kernel).

    Returns:
        The fan-in.

    Examples:
        >>> eoi_ext.baselines.fan_in((64, 16, 3, 3))
        144
    """
    return math.prod(shape[1:])


def random_sparse(
    shape: tuple[int, ...],
    density: float,
    *,
    gain: float = 1.0,
    count: int = 1,
    masks: Tensor | None = None,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str = "cpu",
    generator: torch.Generator | None = None,
) -> tuple[Tensor, Tensor]:
    """Random masks and Kaiming-normal values with std gain / sqrt(density * fan_in), so
    a unit keeps the variance of a dense Kaiming initialization.

    Args:
        shape: shape of each weight, (rows, cols) or a conv kernel.
        density: fraction of mask entries.
        gain: scale of the standard deviation.
        count: number of weights.
        masks: (count, *shape) bool masks to keep (a mask source's), or None for
            uniformly random ones with round(density * numel) entries.
        dtype, device: of the result (drawn in float64 on the CPU).
        generator: source of the draws (torch's default generator when None).

    Returns:
        (weights, masks), each (count, *shape); weights are zero outside the masks.

    Examples:
        >>> w, m = eoi_ext.baselines.random_sparse((64, 32), 0.25)
        >>> w.shape, bool((w[0][~m[0]] == 0).all())
        (torch.Size([1, 64, 32]), True)
    """
    shape, density, gain, count = check_builder(shape, density, gain, count, dtype, generator)
    masks = masks_or_random(masks, count, shape, density, generator)
    std = gain / math.sqrt(density * fan_in(shape))
    weights = torch.randn((count, *shape), generator=generator, dtype=torch.float64) * std
    return (weights * masks).to(device=device, dtype=dtype), masks.to(device)
