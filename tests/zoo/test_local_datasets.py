"""The lab's local datasets (eoi_ext/lab/data.py, issue 15) read by the real torchvision:
a fake CIFAR-100 in torchvision's pickle format, and Tiny ImageNet as JPEGs, compared
with torchvision's ImageFolder, which the published EOI code reads it with
(woocash2/sparser-better-deeper-stronger, data_handling/utils.py,
get_tinyimagenet_dataloaders). Nothing is downloaded.

Runs in the zoo venv (scripts/zoo_venv.sh); skipped where torchvision is missing.
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import pytest
import torch

from eoi_ext.lab.data import load_dataset
from eoi_ext.lab.datasets_tiny_imagenet import find_tiny_imagenet
from eoi_ext.lab.datasets_torchvision import TORCHVISION_LAYOUTS

torchvision = pytest.importorskip("torchvision")
Image = pytest.importorskip("PIL.Image")


def standardized(x: torch.Tensor, train: torch.Tensor) -> torch.Tensor:
    """x standardized per channel with train's statistics, in float64 (the reference)."""
    train = train.double()
    mean, std = train.mean(dim=(0, 2, 3)), train.std(dim=(0, 2, 3))
    return ((x.double() - mean.view(1, -1, 1, 1)) / std.view(1, -1, 1, 1)).float()


@pytest.mark.parametrize("name", list(TORCHVISION_LAYOUTS))
def test_an_empty_root_names_the_layout(name, tmp_path):
    cls, folder, files = TORCHVISION_LAYOUTS[name]
    with pytest.raises(FileNotFoundError) as raised:
        load_dataset(name, str(tmp_path))
    assert f"    {folder}/\n      {files[0]}\n" in str(raised.value)
    assert f"torchvision.datasets.{cls}({str(tmp_path)!r}, download=True)" in str(raised.value)
    assert os.listdir(tmp_path) == []  # nothing downloaded


def fake_cifar100(root: Path) -> dict[str, tuple[torch.Tensor, list[int]]]:
    """cifar-100-python/{train, test, meta} as torchvision.datasets.CIFAR100 reads them:
    pickled dicts of uint8 rows (3 x 32 x 32, channel-major) and fine labels."""
    folder = root / "cifar-100-python"
    folder.mkdir(parents=True)
    generator = torch.Generator().manual_seed(0)
    splits = {}
    for split, count in (("train", 30), ("test", 10)):
        data = torch.randint(0, 256, (count, 3072), dtype=torch.uint8, generator=generator)
        labels = torch.randint(0, 100, (count,), generator=generator).tolist()
        entry = {"data": data.numpy(), "fine_labels": labels, "coarse_labels": [0] * count}
        (folder / split).write_bytes(pickle.dumps(entry))
        splits[split] = (data.view(count, 3, 32, 32), labels)
    meta = {"fine_label_names": [f"class{i}" for i in range(100)], "coarse_label_names": []}
    (folder / "meta").write_bytes(pickle.dumps(meta))
    return splits


def test_cifar100(tmp_path, monkeypatch):
    splits = fake_cifar100(tmp_path)
    with pytest.raises(FileNotFoundError, match="Dataset not found or corrupted"):
        load_dataset("cifar100", str(tmp_path))  # torchvision checks the files' md5 sums
    # The fake files' md5 sums are not CIFAR-100's: check only that they exist.
    cifar = torchvision.datasets.cifar
    monkeypatch.setattr(cifar, "check_integrity", lambda path, md5=None: os.path.isfile(path))
    data = load_dataset("cifar100", str(tmp_path))
    assert data.name == "cifar100" and data.num_classes == 100
    assert data.input_shape == (3, 32, 32) and data.x_train.dtype == torch.float32
    assert data.y_train.tolist() == splits["train"][1]
    assert data.y_test.tolist() == splits["test"][1]
    train, test = (splits[split][0].double() / 255 for split in ("train", "test"))
    torch.testing.assert_close(data.x_train, standardized(train, train))
    torch.testing.assert_close(data.x_test, standardized(test, train))


def tiny_imagenet_jpegs(root: Path, wnids: list[str]) -> Path:
    """A tree of random-noise JPEGs (a grayscale one per class) with val reorganized into
    val/<wnid>/, the layout the published code's ImageFolder(valdir) reads."""
    base = root / "tiny-imagenet-200"
    generator = torch.Generator().manual_seed(0)
    for wnid in wnids:
        for folder, count in ((base / "train" / wnid / "images", 3), (base / "val" / wnid, 1)):
            folder.mkdir(parents=True)
            for i in range(count):
                pixels = torch.randint(0, 256, (64, 64, 3), dtype=torch.uint8, generator=generator)
                image = Image.fromarray(pixels.numpy())
                image = image.convert("L") if i == 2 else image
                image.save(folder / f"{wnid}_{i}.JPEG", quality=90)
    (base / "wnids.txt").write_text("\n".join(wnids) + "\n")
    return base


def test_tiny_imagenet_matches_image_folder(tmp_path):
    """The classes, the images, their order and their pixels are ImageFolder's (ToTensor,
    the published transforms without augmentation, before its fixed normalization)."""
    base = tiny_imagenet_jpegs(tmp_path, ["n09", "n01", "n05"])
    folders = {
        split: torchvision.datasets.ImageFolder(
            str(base / split), transform=torchvision.transforms.ToTensor()
        )
        for split in ("train", "val")
    }
    files = find_tiny_imagenet(str(tmp_path))
    assert files.classes == folders["train"].classes == ["n01", "n05", "n09"]
    assert [(str(path), label) for path, label in files.train] == folders["train"].samples
    assert [(str(path), label) for path, label in files.test] == folders["val"].samples
    data = load_dataset("tiny_imagenet", str(tmp_path))
    train, test = (
        torch.stack([image for image, _ in folders[split]]).double() for split in ("train", "val")
    )
    assert data.num_classes == 3 and data.x_train.shape == (9, 3, 64, 64)
    assert data.y_train.tolist() == [label for _, label in folders["train"].samples]
    torch.testing.assert_close(data.x_train, standardized(train, train))
    torch.testing.assert_close(data.x_test, standardized(test, train))
