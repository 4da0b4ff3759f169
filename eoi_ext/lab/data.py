"""Datasets for the demo and `eoi train`, all local: nothing is ever downloaded.

- "digits": scikit-learn's 8x8 handwritten digits (1,797 images that ship with
  scikit-learn), standardized with the training split's statistics.
- "mnist", "cifar10": read from a local torchvision root (download=False); a clear error
  says how to provide the files when they are missing.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from ..optional_imports import import_torchvision

__all__ = [
    "DATASETS",
    "IMAGE_DATASETS",
    "Dataset",
    "load_dataset",
    "load_digits",
    "load_torchvision",
]

DATASETS = ("digits", "mnist", "cifar10")
IMAGE_DATASETS = ("mnist", "cifar10")  # read from a local torchvision root


@dataclass(frozen=True)
class Dataset:
    """Train and test tensors: x (N, *input_shape) float32, y (N,) int64."""

    name: str
    x_train: Tensor
    y_train: Tensor
    x_test: Tensor
    y_test: Tensor
    num_classes: int

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.x_train.shape[1:])


def load_dataset(name: str, root: str | None = None, *, seed: int = 0) -> Dataset:
    """Loads `name` ("digits", "mnist" or "cifar10"); root is the torchvision root of the
    latter two. The digits split (80/20, stratified) depends on `seed`."""
    if name == "digits":
        return load_digits(seed=seed)
    if name in IMAGE_DATASETS:
        return load_torchvision(name, root)
    raise ValueError(f"name must be one of {', '.join(DATASETS)}, got {name!r}")


def load_digits(*, seed: int = 0, test_fraction: float = 0.2) -> Dataset:
    """scikit-learn's digits: x (N, 64) standardized, y in 0..9."""
    from sklearn.datasets import load_digits as sklearn_digits
    from sklearn.model_selection import train_test_split

    x, y = sklearn_digits(return_X_y=True)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=test_fraction, random_state=seed, stratify=y
    )
    mean = x_train.mean(axis=0)
    std = x_train.std(axis=0) + 1e-6  # some border pixels are always 0

    def tensor(values) -> Tensor:
        return torch.tensor((values - mean) / std, dtype=torch.float32)

    return Dataset(
        "digits",
        tensor(x_train),
        torch.tensor(y_train, dtype=torch.int64),
        tensor(x_test),
        torch.tensor(y_test, dtype=torch.int64),
        10,
    )


def load_torchvision(name: str, root: str | None) -> Dataset:
    """MNIST (N, 1, 28, 28) or CIFAR-10 (N, 3, 32, 32) from a local torchvision root,
    scaled to [0, 1] and standardized per channel with the training statistics.

    Raises:
        ValueError: root is None. ImportError: torchvision is missing or fails to import.
        FileNotFoundError: the dataset is not under root (nothing is ever downloaded).
    """
    if root is None:
        raise ValueError(f"root must name a local torchvision root holding {name} (no downloads)")
    torchvision = import_torchvision(f"loading {name}")
    cls = {"mnist": torchvision.datasets.MNIST, "cifar10": torchvision.datasets.CIFAR10}[name]
    try:
        train = cls(root, train=True, download=False)
        test = cls(root, train=False, download=False)
    except RuntimeError as error:
        raise FileNotFoundError(
            f"{name} was not found under {root!r} ({error}); place the torchvision files "
            "there (this package never downloads)"
        ) from error

    def images(dataset) -> Tensor:
        x = torch.as_tensor(dataset.data, dtype=torch.float32) / 255.0
        return x.unsqueeze(1) if x.dim() == 3 else x.permute(0, 3, 1, 2)

    x_train, x_test = images(train), images(test)
    mean = x_train.mean(dim=(0, 2, 3), keepdim=True)
    std = x_train.std(dim=(0, 2, 3), keepdim=True)
    return Dataset(
        name,
        (x_train - mean) / std,
        torch.as_tensor(train.targets, dtype=torch.int64),
        (x_test - mean) / std,
        torch.as_tensor(test.targets, dtype=torch.int64),
        10,
    )
