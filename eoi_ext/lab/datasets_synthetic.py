"""A small synthetic classification set for tests and smoke runs: no files, the same
tensors for the same seed, and structure a network learns (each class a fixed prototype,
each sample its class's prototype plus Gaussian noise), so accuracy rises above chance."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch.nn import functional

from .datasets_common import Dataset, standardize_

__all__ = ["load_synthetic"]


def load_synthetic(
    input_shape: Sequence[int] = (3, 32, 32),
    *,
    num_classes: int = 10,
    train_size: int = 512,
    test_size: int = 256,
    signal: float = 0.5,
    seed: int = 0,
) -> Dataset:
    """Samples x = signal * prototype[y] + N(0, 1) noise, standardized per channel (per
    feature for flat inputs) with the training statistics like the real datasets.

    Image shapes (c, h, w) get smooth prototypes (a 4 x 4 grid per channel, bilinearly
    upsampled), so convolutions and global pooling see the classes too; other shapes get
    N(0, 1) prototypes. Prototypes have unit RMS. The classes are balanced in both splits
    up to one sample.

    Args:
        input_shape: one input's shape, e.g. (64,) or (3, 32, 32).
        num_classes: labels 0 .. num_classes - 1.
        train_size: training samples.
        test_size: test samples.
        signal: the prototypes' scale against unit noise (larger: easier).
        seed: every tensor depends only on the arguments.

    Returns:
        The Dataset, named "synthetic".

    Examples:
        >>> load = eoi_ext.lab.datasets_synthetic.load_synthetic
        >>> data = load((3, 8, 8), train_size=40, test_size=20)
        >>> data.x_train.shape, data.y_test.shape, data.num_classes
        (torch.Size([40, 3, 8, 8]), torch.Size([20]), 10)
        >>> bool((data.x_train == eoi_ext.lab.datasets_synthetic.load_synthetic(
        ...     (3, 8, 8), train_size=40, test_size=20).x_train).all())
        True
    """
    shape = tuple(int(n) for n in input_shape)
    if not shape or min(shape) < 1:
        raise ValueError(f"input_shape must be positive sizes, got {tuple(input_shape)}")
    if num_classes < 2 or min(train_size, test_size) < 1:
        raise ValueError(
            f"need num_classes >= 2 and samples in both splits, got {num_classes} classes, "
            f"{train_size} train and {test_size} test"
        )
    generator = torch.Generator().manual_seed(seed)
    if len(shape) == 3:
        channels, height, width = shape
        coarse = torch.randn(
            num_classes, channels, min(4, height), min(4, width), generator=generator
        )
        prototypes = functional.interpolate(
            coarse, size=(height, width), mode="bilinear", align_corners=True
        )
    else:
        prototypes = torch.randn(num_classes, *shape, generator=generator)
    rms = prototypes.flatten(1).square().mean(dim=1).sqrt().clamp_min(1e-12)
    prototypes /= rms.view(-1, *([1] * len(shape)))
    count = train_size + test_size
    labels = torch.cat([torch.randperm(num_classes, generator=generator)
                        for _ in range(math.ceil(count / num_classes))])[:count]  # fmt: skip
    # Balanced in each split: the first train_size labels cycle through every class.
    x = signal * prototypes[labels] + torch.randn(count, *shape, generator=generator)
    x_train, x_test = standardize_(x[:train_size].clone(), x[train_size:].clone())
    return Dataset(
        "synthetic", x_train, labels[:train_size], x_test, labels[train_size:], num_classes
    )
