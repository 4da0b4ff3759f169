"""The published CIFAR-10 training augmentation, on batches of tensors, without torchvision.

data_handling/utils.py (get_cifar10_dataloaders) of github
woocash2/sparser-better-deeper-stronger pads each image by 4 with F.pad(mode='reflect'),
takes a random 32 x 32 crop (RandomCrop(32): both offsets uniform in 0..8) and flips it
left-right with probability 1/2 (RandomHorizontalFlip), then normalizes. Here the batch
is already normalized (eoi_ext/lab/data.py): reflection commutes with the per-channel
affine normalization, so "reflect" is exactly the published order. "zeros" pads with 0,
which after normalization is the channel mean, not torchvision's black
RandomCrop(padding=4) of the published CIFAR-100 loader. Every draw comes from a
torch.Generator, so a run is repeatable for a seed.
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch.nn import functional

__all__ = ["augment_cifar"]


def augment_cifar(
    x: Tensor,
    generator: torch.Generator | None = None,
    *,
    padding: int = 4,
    padding_mode: str = "reflect",
) -> Tensor:
    """Random crops (after padding) and random horizontal flips of a batch of images.

    Args:
        x: images (N, C, H, W); any device (offsets are drawn on the generator's device).
        generator: the source of the offsets and flips (None: torch's default one). Per
            batch it draws N x 2 offsets with torch.randint, then N numbers with
            torch.rand (flip where < 0.5).
        padding: pixels added on each side before the (H, W) crop is taken.
        padding_mode: "reflect" (the published CIFAR-10 loader) or "zeros".

    Returns:
        A new tensor of x's shape, dtype and device.

    Examples:
        >>> x = torch.arange(16.0).reshape(1, 1, 4, 4)
        >>> g = torch.Generator().manual_seed(0)
        >>> y = eoi_ext.lab.augment.augment_cifar(x, g, padding=2, padding_mode="zeros")
        >>> y.shape, set(y.flatten().tolist()) <= set(range(16))
        (torch.Size([1, 1, 4, 4]), True)
    """
    if not isinstance(x, Tensor) or x.dim() != 4:
        raise ValueError(f"x must be a batch of images (N, C, H, W), got {_shape(x)}")
    if type(padding) is not int or padding < 0:
        raise ValueError(f"padding must be an int >= 0, got {padding!r}")
    if padding_mode not in ("reflect", "zeros"):
        raise ValueError(f"padding_mode must be 'reflect' or 'zeros', got {padding_mode!r}")
    count, channels, height, width = x.shape
    if padding_mode == "reflect" and padding >= min(height, width):
        raise ValueError(
            f"reflect padding {padding} needs images larger than it, got {height} x {width}"
        )
    # Draw order fixed (offsets, then flips) so that a seed gives the same batch anywhere.
    where = generator.device if generator is not None else torch.device("cpu")
    offsets = torch.randint(0, 2 * padding + 1, (count, 2), generator=generator, device=where)
    flips = torch.rand(count, generator=generator, device=where) < 0.5
    offsets, flips = offsets.to(x.device), flips.to(x.device)
    mode = "reflect" if padding_mode == "reflect" else "constant"
    padded = functional.pad(x, (padding,) * 4, mode=mode)
    rows = offsets[:, :1] + torch.arange(height, device=x.device)  # (N, H)
    cols = offsets[:, 1:] + torch.arange(width, device=x.device)  # (N, W)
    cols = torch.where(flips[:, None], cols.flip(1), cols)  # a flipped crop reads right to left
    batch = torch.arange(count, device=x.device)[:, None, None, None]
    channel = torch.arange(channels, device=x.device)[None, :, None, None]
    return padded[batch, channel, rows[:, None, :, None], cols[:, None, None, :]]


def _shape(x: object) -> str:
    return f"shape {tuple(x.shape)}" if isinstance(x, Tensor) else type(x).__name__
