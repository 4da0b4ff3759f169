"""Datasets for the demo and `eoi train`, all local: nothing is ever downloaded.

- "digits": scikit-learn's 8x8 handwritten digits (1,797 images that ship with
  scikit-learn), standardized with the training split's statistics.
- "synthetic": a small deterministic set made here (eoi_ext/lab/datasets_synthetic.py).
- "mnist", "cifar10", "cifar100": read from a local torchvision root (download=False;
  eoi_ext/lab/datasets_torchvision.py).
- "tiny_imagenet": the distributed Tiny ImageNet tree under a local root
  (eoi_ext/lab/datasets_tiny_imagenet.py).

The images are standardized per channel with the training split's statistics. A dataset
that is not under its root raises FileNotFoundError naming the expected tree and how to
get it; a missing torchvision (or Pillow, for Tiny ImageNet) raises ImportError.
"""

from __future__ import annotations

import torch

from .datasets_common import Dataset
from .datasets_synthetic import load_synthetic
from .datasets_tiny_imagenet import load_tiny_imagenet
from .datasets_torchvision import TORCHVISION_LAYOUTS, load_torchvision

__all__ = [
    "DATASETS",
    "IMAGE_DATASETS",
    "Dataset",
    "load_dataset",
    "load_digits",
    "load_synthetic",
    "load_tiny_imagenet",
    "load_torchvision",
]

# Image datasets (N, C, H, W) read from a local root (`eoi train --root`).
IMAGE_DATASETS = (*TORCHVISION_LAYOUTS, "tiny_imagenet")
# Everything load_dataset knows; digits and synthetic need no root.
DATASETS = ("digits", "synthetic", *IMAGE_DATASETS)


def load_dataset(name: str, root: str | None = None, *, seed: int = 0) -> Dataset:
    """Loads dataset `name`, from root for the IMAGE_DATASETS.

    Args:
        name: one of DATASETS.
        root: the local root of an image dataset (a torchvision root for mnist, cifar10
            and cifar100; the folder holding tiny-imagenet-200 for tiny_imagenet);
            ignored by digits and synthetic.
        seed: the digits split (80/20, stratified) and the synthetic samples (its
            default shape, (3, 32, 32)); the image datasets have fixed splits.

    Returns:
        The Dataset.

    Raises:
        ValueError: an unknown name, or no root for an image dataset.
        FileNotFoundError: the dataset is not under root; the message names the expected
            layout and how to get the files (nothing is ever downloaded).
        ImportError: torchvision (mnist, cifar10, cifar100) or Pillow (tiny_imagenet) is
            missing.

    Examples:
        >>> data = eoi_ext.lab.data.load_dataset("synthetic", seed=1)
        >>> data.input_shape, len(data.x_train), len(data.x_test), data.num_classes
        ((3, 32, 32), 512, 256, 10)
    """
    if name == "digits":
        return load_digits(seed=seed)
    if name == "synthetic":
        return load_synthetic(seed=seed)
    if name == "tiny_imagenet":
        return load_tiny_imagenet(root)
    if name in IMAGE_DATASETS:
        return load_torchvision(name, root)
    raise ValueError(f"name must be one of {', '.join(DATASETS)}, got {name!r}")


def load_digits(*, seed: int = 0, test_fraction: float = 0.2) -> Dataset:
    """scikit-learn's digits: x (N, 64) standardized with the training split's statistics
    (a pixel constant there is only centered, as scikit-learn's StandardScaler does: the
    test split's few nonzero border pixels would otherwise be scaled by 1e6), y in 0..9."""
    from sklearn.datasets import load_digits as sklearn_digits
    from sklearn.model_selection import train_test_split

    x, y = sklearn_digits(return_X_y=True)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=test_fraction, random_state=seed, stratify=y
    )
    mean = x_train.mean(axis=0)
    std = x_train.std(axis=0)
    std[std == 0] = 1.0  # some border pixels are always 0 in the training split

    def tensor(values) -> torch.Tensor:
        return torch.tensor((values - mean) / std, dtype=torch.float32)

    return Dataset(
        "digits",
        tensor(x_train),
        torch.tensor(y_train, dtype=torch.int64),
        tensor(x_test),
        torch.tensor(y_test, dtype=torch.int64),
        10,
    )
