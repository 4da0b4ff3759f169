"""In-place initializers in the style of torch.nn.init."""

from __future__ import annotations

import warnings

import torch
from torch import Tensor

from .build import build
from .checks import (
    check_conv_mode,
    check_density,
    check_flag,
    check_gain,
    check_gain_fits,
    check_generator,
    check_groups,
    check_weight,
)
from .layer_checks import check_writable
from .sharding import check_same_draws, is_dtensor, like_dtensor, local, local_block
from .spec import WeightSpec

__all__ = ["sparse_orthogonal_"]


def sparse_orthogonal_(
    tensor: Tensor,
    density: float,
    *,
    gain: float = 1.0,
    conv_mode: str = "delta",
    groups: int = 1,
    exact_density: bool = False,
    generator: torch.Generator | None = None,
    check_ranks: bool = False,
) -> Tensor:
    """Fills a weight in place with an exactly orthogonal sparse matrix; returns its mask.

    Exact Orthogonal Initialization (Nowak et al., "Sparser, Better, Deeper, Stronger",
    ICML 2024): like torch.nn.init.orthogonal_, but with only a `density` fraction of
    nonzeros, the mask sampled with the values. Everything is validated before the
    tensor is touched.

    - 2-D weights (rows, cols), e.g. nn.Linear's (out, in): gain * W with W W^T = I
      (rows <= cols) or W^T W = I (rows > cols), zero outside the mask.
    - Convolution weights (c_out, c_in / groups, k_1, ..., k_s): delta-orthogonal
      (docs/algorithm.md, "Convolutions"): an EOI matrix H (c_out, c_in / groups) at the
      kernel's centre tap, zeros elsewhere, so the convolution is an orthogonal map. The
      mask follows `conv_mode`: "delta" (H at density d, then random zero-valued
      positions anywhere in the kernel join the mask until it holds round(d * numel)
      entries), "delta_more" (H at density min(d * K, 1, sqrt(d)), same top-up) or
      "structured" (H at density d; every spatial position keeps H's support).
    - groups: the weight's rows (conv: output channels) are `groups` equal blocks, each
      its own EOI matrix: conv groups, the gates of nn.RNN / nn.LSTM / nn.GRU weights
      (groups=1 / 4 / 3), the q, k, v blocks of nn.MultiheadAttention.in_proj_weight.
    - A DTensor (Shard(0), Shard(1) or Replicate() on a 1-D mesh) gets only this rank's
      shard computed and written, with no collective; seed every rank alike. The mask
      is then a DTensor placed like the weight (docs/blocks-and-sharding.md).

    Args:
        tensor: floating-point weight, 2-D or a conv weight (3-D to 5-D).
        density: target fraction of mask entries, in (0, 1].
        gain: scale of the weight.
        conv_mode: "delta" (default), "delta_more" or "structured"; used for conv weights.
        groups: number of row blocks (a divisor of tensor.shape[0]); default 1.
        exact_density: every EOI matrix stops below its density and is topped up to
            exactly round(density * numel) mask entries.
        generator: source of randomness (torch's default generator when None).
        check_ranks: for a DTensor, first compare a fingerprint of the generator state
            and the arguments across the mesh's ranks (one small all_gather, the only
            collective) and raise ValueError on every rank if they differ.

    Returns:
        The bool mask, of the weight's shape and on its device.

    Examples:
        >>> layer = torch.nn.Linear(784, 256)
        >>> mask = eoi_ext.init.sparse_orthogonal_(layer.weight, 0.05)
        >>> mask.shape, bool((layer.weight[~mask] == 0).all())
        (torch.Size([256, 784]), True)
        >>> conv = torch.nn.Conv2d(64, 64, 3)
        >>> mask = eoi_ext.init.sparse_orthogonal_(conv.weight, 0.1, conv_mode="delta")
        >>> int(mask.sum()) == round(0.1 * conv.weight.numel())
        True
    """
    check_weight(tensor)
    density = check_density(density)
    gain = check_gain_fits(check_gain(gain), tensor.dtype)
    check_generator(generator)
    check_conv_mode(conv_mode)
    groups = check_groups(groups, tensor.shape[0])
    check_flag(exact_density, "exact_density")
    check_flag(check_ranks, "check_ranks")
    check_writable(tensor, "tensor")
    spec = WeightSpec(
        tuple(tensor.shape), density, gain=gain, conv_mode=conv_mode, groups=groups,
        exact_density=exact_density,
    )  # fmt: skip
    sharded = is_dtensor(tensor)
    if not sharded and tensor.numel() == 0:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=2)
        return torch.zeros_like(tensor, dtype=torch.bool)
    rows, cols = local_block(tensor)
    if sharded and check_ranks:
        check_same_draws([tensor], generator, spec)
    target = local(tensor)
    in_place = target.is_contiguous()  # write straight into the tensor, no temporary
    with torch.no_grad():
        weights, masks = build(
            spec, generator=generator, row_range=rows, col_range=cols, dtype=target.dtype,
            device=target.device, out=target.unsqueeze(0) if in_place else None,
        )  # fmt: skip
        if not in_place:
            target.copy_(weights[0])
    return like_dtensor(masks[0], tensor) if sharded else masks[0]
