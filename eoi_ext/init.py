"""In-place initializers in the style of torch.nn.init."""

from __future__ import annotations

import warnings

import torch
from torch import Tensor

from .api import (
    check_density,
    check_gain,
    check_generator,
    sparse_orthogonal_batch,
)

CONV_MODES = ("delta", "delta_more", "structured")


def sparse_orthogonal_(
    tensor: Tensor,
    density: float,
    *,
    gain: float = 1.0,
    conv_mode: str = "delta",
    exact_density: bool = False,
    generator: torch.Generator | None = None,
) -> Tensor:
    """Fills a 2-D weight in place with an exactly orthogonal sparse matrix (EOI).

    Like torch.nn.init.orthogonal_, but with only a `density` fraction of nonzeros:
    the weight (rows, cols) becomes gain * W with W W^T = I (rows <= cols) or
    W^T W = I (rows > cols), zero outside the returned mask. Everything is validated
    before the tensor is touched.

    Args:
        tensor: a floating-point weight with 2 dimensions (for nn.Linear: (out, in)).
        density: target fraction of nonzeros, in (0, 1].
        gain: scale of the weight.
        conv_mode: how convolution kernels are built: "delta", "delta_more" or
            "structured" (DESIGN.md 1.5). Only 2-D weights are supported in this
            version; the argument is validated now so calls stay stable.
        exact_density: make the mask hold exactly round(density * numel) entries.
        generator: source of randomness (torch's default generator when None).

    Returns:
        The bool mask of the weight's shape, on the weight's device.
    """
    if not isinstance(tensor, Tensor):
        raise TypeError(f"tensor must be a torch.Tensor, got {type(tensor).__name__}")
    if tensor.dim() < 2:
        raise ValueError(
            f"tensor must have at least 2 dimensions (a weight), got shape {tuple(tensor.shape)}"
        )
    if not tensor.is_floating_point():
        raise TypeError(f"tensor must have a floating-point dtype, got {tensor.dtype}")
    density = check_density(density)
    gain = check_gain(gain)
    check_generator(generator)
    if conv_mode not in CONV_MODES:
        raise ValueError(f"conv_mode must be one of {', '.join(CONV_MODES)}, got {conv_mode!r}")
    if tensor.dim() > 2:
        raise NotImplementedError(
            f"sparse_orthogonal_ supports 2-D weights in this version; got shape "
            f"{tuple(tensor.shape)} (convolution weights are planned)"
        )
    if tensor.numel() == 0:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=2)
        return torch.zeros_like(tensor, dtype=torch.bool)

    rows, cols = tensor.shape
    weights, mask = sparse_orthogonal_batch(
        1,
        rows,
        cols,
        density,
        gain=gain,
        exact_density=exact_density,
        dtype=tensor.dtype,
        device=tensor.device,
        generator=generator,
    )
    with torch.no_grad():
        tensor.copy_(weights[0])
    return mask[0]
