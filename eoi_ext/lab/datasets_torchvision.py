"""MNIST, CIFAR-10 and CIFAR-100 from a local torchvision root (download=False): the
layout each of torchvision's classes reads (torchvision/datasets/mnist.py and cifar.py:
MNIST's raw folder, CIFAR's pickled batches) is checked first, so a missing file is named
in a FileNotFoundError with the expected tree and the one-time download to run elsewhere.
"""

from __future__ import annotations

import os

import torch
from torch import Tensor

from ..optional_imports import import_torchvision
from .datasets_common import Dataset, layout_error, standardize_

__all__ = ["TORCHVISION_LAYOUTS", "check_torchvision_layout", "load_torchvision"]

# The files each torchvision class reads under root (download=False); its class name.
TORCHVISION_LAYOUTS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "mnist": ("MNIST", "MNIST/raw", tuple(
        f"{split}-{kind}-ubyte"
        for split in ("train", "t10k")
        for kind in ("images-idx3", "labels-idx1")
    )),
    "cifar10": ("CIFAR10", "cifar-10-batches-py", (
        *(f"data_batch_{i}" for i in range(1, 6)), "test_batch", "batches.meta"
    )),
    "cifar100": ("CIFAR100", "cifar-100-python", ("train", "test", "meta")),
}  # fmt: skip
_CLASSES = {"mnist": 10, "cifar10": 10, "cifar100": 100}
# torchvision's MNIST also reads the files of its older releases (MNIST.processed_folder).
_MNIST_LEGACY = ("MNIST/processed/training.pt", "MNIST/processed/test.pt")


def check_torchvision_layout(name: str, root: str) -> None:
    """Checks that the files torchvision reads for `name` are under root.

    Args:
        name: "mnist", "cifar10" or "cifar100".
        root: the local torchvision root.

    Raises:
        FileNotFoundError: a file is missing; the message names the expected tree and
            the torchvision call (download=True) to run once on a machine online.

    Examples:
        >>> check = eoi_ext.lab.datasets_torchvision.check_torchvision_layout
        >>> try:
        ...     check("cifar100", "/no/such/root")
        ... except FileNotFoundError as error:
        ...     print(str(error).splitlines()[0])
        cifar100 was not found under '/no/such/root' (missing cifar-100-python/train, ...
    """
    cls, folder, files = TORCHVISION_LAYOUTS[name]
    missing = [f"{folder}/{f}" for f in files if not os.path.isfile(os.path.join(root, folder, f))]
    if not missing:
        return
    if name == "mnist" and all(os.path.isfile(os.path.join(root, f)) for f in _MNIST_LEGACY):
        return
    raise layout_error(
        name,
        root,
        f"missing {', '.join(missing)}",
        [f"{folder}/", *(f"  {f}" for f in files)],
        f"Get it by running torchvision.datasets.{cls}({root!r}, download=True) once on a "
        "machine online, then copying that root here.",
    )


def load_torchvision(name: str, root: str | None) -> Dataset:
    """MNIST (N, 1, 28, 28), CIFAR-10 or CIFAR-100 (N, 3, 32, 32) from a local torchvision
    root, scaled to [0, 1] and standardized per channel with the training statistics.

    Memory: the float32 images (CIFAR: 50,000 x 3,072 x 4 B = 614 MB for training) plus
    torchvision's uint8 arrays while converting.

    Args:
        name: "mnist", "cifar10" or "cifar100".
        root: the local torchvision root (torchvision.datasets.<cls>(root, download=False)).

    Returns:
        The Dataset: torchvision's train split, and its test split as the test split.

    Raises:
        ValueError: root is None. ImportError: torchvision is missing or fails to import.
        FileNotFoundError: the dataset is not under root (nothing is ever downloaded).

    Examples:
        >>> try:  # no files needed to see the refusal
        ...     eoi_ext.lab.datasets_torchvision.load_torchvision("cifar100", None)
        ... except ValueError as error:
        ...     print(error)
        root must name a local torchvision root holding cifar100 (no downloads)
    """
    if name not in TORCHVISION_LAYOUTS:
        raise ValueError(f"name must be one of {', '.join(TORCHVISION_LAYOUTS)}, got {name!r}")
    if root is None:
        raise ValueError(f"root must name a local torchvision root holding {name} (no downloads)")
    torchvision = import_torchvision(f"loading {name}")  # first: tests/test_cli.py
    check_torchvision_layout(name, root)
    cls = getattr(torchvision.datasets, TORCHVISION_LAYOUTS[name][0])
    try:
        train = cls(root, train=True, download=False)
        test = cls(root, train=False, download=False)
    except RuntimeError as error:  # present but corrupted: torchvision checks md5 sums
        raise FileNotFoundError(
            f"{name} was not found under {root!r} ({error}); place the torchvision files "
            "there (this package never downloads)"
        ) from error

    def images(dataset) -> Tensor:
        x = torch.as_tensor(dataset.data)  # uint8 (N, H, W) or (N, H, W, C)
        x = x.unsqueeze(1) if x.dim() == 3 else x.permute(0, 3, 1, 2)
        return x.contiguous().float().div_(255.0)

    x_train, x_test = standardize_(images(train), images(test))
    return Dataset(
        name,
        x_train,
        torch.as_tensor(train.targets, dtype=torch.int64),
        x_test,
        torch.as_tensor(test.targets, dtype=torch.int64),
        _CLASSES[name],
    )
