"""Tiny ImageNet (200 classes, 64 x 64 RGB) from its distributed zip, unpacked under a
local root; nothing is ever downloaded.

Follows the published EOI code (woocash2/sparser-better-deeper-stronger,
data_handling/utils.py, get_tinyimagenet_dataloaders): training is an ImageFolder of
train/ (classes: the sorted wnids), and the validation split is the test split (test/ has
no labels). The published code reads val/ as an ImageFolder too (val reorganized into
val/<wnid>/), which is read here as well as the distributed val/images with
val/val_annotations.txt. Its augmentation and fixed 0.5 normalization are left out: the
images are standardized per channel with the training statistics (eoi_ext/lab/data.py).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import NamedTuple

import torch

from .datasets_common import Dataset, layout_error, standardize_

__all__ = ["TINY_IMAGENET_URL", "TinyImageNetFiles", "find_tiny_imagenet", "load_tiny_imagenet"]

TINY_IMAGENET_URL = "http://cs231n.stanford.edu/tiny-imagenet-200.zip"
SIZE = 64
_EXTENSIONS = (".jpeg", ".jpg", ".png")  # a subset of torchvision's ImageFolder's
_LAYOUT = [
    "tiny-imagenet-200/              (or root itself)",
    "  wnids.txt                     (the class ids, one a line)",
    "  train/<wnid>/images/*.JPEG",
    "  val/images/*.JPEG",
    "  val/val_annotations.txt       (file <tab> wnid ...; or val/<wnid>/*.JPEG)",
]
_HOW = f"Get it by unzipping {TINY_IMAGENET_URL} (downloaded on a machine online) under root."


class TinyImageNetFiles(NamedTuple):
    """The images of a Tiny ImageNet tree and their labels (indices into classes).

    Attributes:
        classes: the sorted wnids (torchvision ImageFolder's order).
        train: (path, label) of every training image, by class then file name.
        test: (path, label) of every validation image, in the annotations' order.

    Examples:
        >>> files = eoi_ext.lab.datasets_tiny_imagenet.TinyImageNetFiles(["n01"], [], [])
        >>> files.classes
        ['n01']
    """

    classes: list[str]
    train: list[tuple[Path, int]]
    test: list[tuple[Path, int]]


def _images(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in _EXTENSIONS)


def find_tiny_imagenet(root: str) -> TinyImageNetFiles:
    """Finds the Tiny ImageNet images under root and labels them; reads no image.

    Args:
        root: the folder holding tiny-imagenet-200/, or tiny-imagenet-200 itself.

    Returns:
        The TinyImageNetFiles.

    Raises:
        FileNotFoundError: the tree is missing or incomplete; the message names the
            expected layout and the zip's URL.

    Examples:
        >>> try:
        ...     eoi_ext.lab.datasets_tiny_imagenet.find_tiny_imagenet("/no/such/root")
        ... except FileNotFoundError as error:
        ...     print(str(error).splitlines()[0])
        tiny_imagenet was not found under '/no/such/root' (no such directory). Expected layout:
    """
    base = Path(root) / "tiny-imagenet-200"
    base = base if base.is_dir() else Path(root)

    def fail(problem: str) -> FileNotFoundError:
        return layout_error("tiny_imagenet", root, problem, _LAYOUT, _HOW)

    if not base.is_dir():
        raise fail("no such directory")
    if not (base / "wnids.txt").is_file():
        raise fail("no wnids.txt")
    classes = sorted(set((base / "wnids.txt").read_text().split()))
    index = {wnid: i for i, wnid in enumerate(classes)}
    train = []
    for wnid in classes:
        found = _images(base / "train" / wnid)
        if not found:
            raise fail(f"no images under train/{wnid}")
        train += [(path, index[wnid]) for path in found]
    val, test = base / "val", []
    if (val / "val_annotations.txt").is_file():
        for line in (val / "val_annotations.txt").read_text().splitlines():
            fields = line.strip().split("\t")  # file, wnid, bounding box
            if len(fields) < 2 or fields[1] not in index:
                if not line.strip():
                    continue
                raise fail(f"val/val_annotations.txt: no wnid of wnids.txt in {line!r}")
            if not (val / "images" / fields[0]).is_file():
                raise fail(f"no val/images/{fields[0]}, named in val/val_annotations.txt")
            test.append((val / "images" / fields[0], index[fields[1]]))
    else:  # reorganized into val/<wnid>/, as the published ImageFolder(valdir) reads it
        test = [(path, index[wnid]) for wnid in classes for path in _images(val / wnid)]
    if not test:
        raise fail("no val/val_annotations.txt, nor images under val/<wnid>/")
    return TinyImageNetFiles(classes, train, test)


def _read_pixels(files: list[tuple[Path, int]], workers: int) -> torch.Tensor:
    """(N, 3, 64, 64) float32 in [0, 1], decoded with Pillow by `workers` threads."""
    try:
        import numpy as np
        from PIL import Image
    except ImportError as error:
        raise ImportError(
            "tiny_imagenet needs Pillow to read its images: pip install pillow "
            "(torchvision installs it)"
        ) from error
    out = torch.empty(len(files), 3, SIZE, SIZE)

    def read(i: int) -> None:
        with Image.open(files[i][0]) as image:  # some are grayscale: RGB, as ImageFolder
            pixels = np.array(image.convert("RGB"))  # a writable copy, for torch
        if pixels.shape != (SIZE, SIZE, 3):
            raise ValueError(f"{files[i][0]}: {pixels.shape[1]} x {pixels.shape[0]} pixels, "
                             f"Tiny ImageNet's are {SIZE} x {SIZE}")  # fmt: skip
        out[i] = torch.from_numpy(pixels).permute(2, 0, 1)

    with ThreadPoolExecutor(workers) as pool:  # Pillow decodes without the GIL
        list(pool.map(read, range(len(files))))
    return out.div_(255.0)


def load_tiny_imagenet(root: str | None, *, workers: int | None = None) -> Dataset:
    """Tiny ImageNet: x (N, 3, 64, 64) standardized per channel with the training
    statistics; train: the 100,000 training images, test: the 10,000 validation ones.

    Memory: float32 throughout, 4.9 GB for training and 0.5 GB for testing, with no second
    copy (decoded into place by `workers` threads, standardized in place).

    Args:
        root: the folder holding tiny-imagenet-200/ (or that folder itself).
        workers: decoding threads (None: up to 8, one per core).

    Returns:
        The Dataset, with len(classes) classes (200).

    Raises:
        ValueError: root is None, or an image is not 64 x 64.
        FileNotFoundError: the tree is incomplete (find_tiny_imagenet).
        ImportError: Pillow is missing.

    Examples:
        >>> try:
        ...     eoi_ext.lab.datasets_tiny_imagenet.load_tiny_imagenet(None)
        ... except ValueError as error:
        ...     print(error)
        root must name a local folder holding tiny-imagenet-200 (no downloads)
    """
    if root is None:
        raise ValueError("root must name a local folder holding tiny-imagenet-200 (no downloads)")
    files = find_tiny_imagenet(root)
    workers = workers or min(8, os.cpu_count() or 1)
    x_train, x_test = standardize_(
        _read_pixels(files.train, workers), _read_pixels(files.test, workers)
    )
    y_train, y_test = (torch.tensor([y for _, y in f], dtype=torch.int64) for f in files[1:])
    return Dataset("tiny_imagenet", x_train, y_train, x_test, y_test, len(files.classes))
