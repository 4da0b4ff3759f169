"""eoi_ext/lab/data.py (issue 15): the synthetic set, each local loader's refusal naming its
tree, Tiny ImageNet from a fake tree; torchvision's reads: tests/zoo/test_local_datasets.py."""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from torch.nn import functional

from eoi_ext.lab import datasets_torchvision
from eoi_ext.lab.data import DATASETS, IMAGE_DATASETS, load_dataset, load_synthetic
from eoi_ext.lab.datasets_tiny_imagenet import TINY_IMAGENET_URL, find_tiny_imagenet
from eoi_ext.lab.datasets_torchvision import TORCHVISION_LAYOUTS, check_torchvision_layout

WNIDS = ["n02", "n01", "n03"]  # wnids.txt's order; the classes are sorted (ImageFolder's)


def test_the_names_are_coherent():
    assert set(IMAGE_DATASETS) == {"mnist", "cifar10", "cifar100", "tiny_imagenet"}
    assert ("digits", "synthetic", *IMAGE_DATASETS) == DATASETS
    for name in IMAGE_DATASETS:
        with pytest.raises(ValueError, match="root must name a local"):
            load_dataset(name, None)
    with pytest.raises(ValueError, match=r"one of digits, synthetic, mnist, .*tiny_imagenet"):
        load_dataset("imagenet")


@pytest.mark.parametrize("shape", [(20,), (3, 8, 8), (1, 5, 7)])
def test_synthetic_is_deterministic(shape):
    a, b, c = (load_synthetic(shape, train_size=60, test_size=30, seed=s) for s in (3, 3, 4))
    assert a.x_train.shape == (60, *shape) and a.x_test.shape == (30, *shape)
    assert a.x_train.dtype == torch.float32 and a.y_train.dtype == torch.int64
    for field in ("x_train", "y_train", "x_test", "y_test"):
        assert torch.equal(getattr(a, field), getattr(b, field))
    assert not torch.equal(a.x_train, c.x_train)
    assert torch.bincount(a.y_train, minlength=10).tolist() == [6] * 10
    dims = [0, *range(2, a.x_train.dim())]  # standardized per channel (per feature if flat)
    assert a.x_train.mean(dim=dims).abs().max() < 1e-5
    assert (a.x_train.std(dim=dims) - 1).abs().max() < 1e-5


def test_synthetic_is_learnable():
    def accuracy(data) -> float:  # of a linear model after 20 full-batch Adam steps
        model = torch.nn.Linear(data.x_train[0].numel(), data.num_classes)
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
        for _ in range(20):
            optimizer.zero_grad()
            functional.cross_entropy(model(data.x_train.flatten(1)), data.y_train).backward()
            optimizer.step()
        return float((model(data.x_test.flatten(1)).argmax(1) == data.y_test).float().mean())

    data = load_dataset("synthetic", seed=0)
    assert data.name == "synthetic" and data.input_shape == (3, 32, 32)
    assert torch.equal(data.x_test, load_synthetic(seed=0).x_test)
    assert accuracy(data) > 0.5  # chance: 0.1
    assert accuracy(load_synthetic((64,), signal=0.0)) < 0.25  # no prototypes: chance


@pytest.mark.parametrize("name", list(TORCHVISION_LAYOUTS))
def test_torchvision_layout_is_named(name, tmp_path, monkeypatch):
    stub = SimpleNamespace(datasets=SimpleNamespace())  # no torchvision here: a stub
    monkeypatch.setattr(datasets_torchvision, "import_torchvision", lambda needed_by: stub)
    cls, folder, files = TORCHVISION_LAYOUTS[name]
    root = str(tmp_path)
    with pytest.raises(FileNotFoundError) as raised:
        load_dataset(name, root)
    message = str(raised.value)
    assert message.startswith(f"{name} was not found under {root!r} (missing {folder}/")
    assert f"\n    {folder}/\n" + "".join(f"      {f}\n" for f in files) in message
    assert f"torchvision.datasets.{cls}({root!r}, download=True) once" in message
    assert "never downloads" in message
    (tmp_path / folder).mkdir(parents=True)
    for file in files[1:]:
        (tmp_path / folder / file).touch()
    with pytest.raises(FileNotFoundError, match=re.escape(f"(missing {folder}/{files[0]})")):
        load_dataset(name, root)
    (tmp_path / folder / files[0]).touch()
    with pytest.raises(AttributeError, match=cls):  # the layout is complete: on to torchvision
        load_dataset(name, root)


def test_mnist_processed_files_of_older_torchvision_pass(tmp_path):
    (tmp_path / "MNIST" / "processed").mkdir(parents=True)
    (tmp_path / "MNIST" / "processed" / "training.pt").touch()
    with pytest.raises(FileNotFoundError, match="MNIST/raw/train-images-idx3-ubyte"):
        check_torchvision_layout("mnist", str(tmp_path))  # test.pt is missing
    (tmp_path / "MNIST" / "processed" / "test.pt").touch()
    check_torchvision_layout("mnist", str(tmp_path))


def test_missing_torchvision_is_named_first(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "torchvision", None)  # import torchvision: ImportError
    with pytest.raises(ImportError, match="loading cifar100 needs torchvision: pip install"):
        load_dataset("cifar100", str(tmp_path))  # an empty root: torchvision is named first


def color(k: int, i: int) -> tuple[int, int, int]:
    return (40 * k + 10 * i, 7 * k + 3 * i + 50, 200 - 50 * k - i)


def tiny_tree(root: Path, *, image=None, val: str = "annotations") -> Path:
    """3 classes x 2 training images, 3 validation images (val_k of class WNIDS[k]);
    image(path, color) writes one (default: an empty file, enough for the parsing)."""
    write = image or (lambda path, color: path.touch())
    base = root / "tiny-imagenet-200"
    for k, wnid in enumerate(WNIDS):
        (base / "train" / wnid / "images").mkdir(parents=True)
        for i in range(2):
            write(base / "train" / wnid / "images" / f"{wnid}_{i}.png", color(k, i))
        folder = base / "val" / ("images" if val == "annotations" else wnid)
        folder.mkdir(parents=True, exist_ok=True)
        write(folder / f"val_{k}.png", 60 + k)  # one value: a grayscale image
    (base / "wnids.txt").write_text("\n".join(WNIDS) + "\n")
    lines = [f"val_{k}.png\t{wnid}\t0\t0\t63\t63\n" for k, wnid in enumerate(WNIDS)]
    if val == "annotations":
        (base / "val" / "val_annotations.txt").write_text("".join(lines))
    return base


@pytest.mark.parametrize("val", ["annotations", "folders"])
def test_tiny_imagenet_files(tmp_path, val):
    base = tiny_tree(tmp_path, val=val)
    for root in (tmp_path, base):  # the folder holding tiny-imagenet-200, or that folder
        files = find_tiny_imagenet(str(root))
        assert files.classes == ["n01", "n02", "n03"]
        assert [(p.name, y) for p, y in files.train] == [
            (f"{w}_{i}.png", k) for k, w in enumerate(files.classes) for i in range(2)
        ]
        expected = [("val_0.png", 1), ("val_1.png", 0), ("val_2.png", 2)]
        assert sorted((p.name, y) for p, y in files.test) == expected


@pytest.mark.parametrize(
    ("spoil", "problem"),
    [
        (lambda base: (base / "wnids.txt").unlink(), "(no wnids.txt)"),
        (lambda base: (base / "wnids.txt").write_text("n01 n04"), "(no images under train/n04)"),
        (lambda base: (base / "val" / "val_annotations.txt").unlink(),
         "(no val/val_annotations.txt, nor images under val/<wnid>/)"),
        (lambda base: (base / "val" / "images" / "val_1.png").unlink(),
         "(no val/images/val_1.png, named in val/val_annotations.txt)"),
        (lambda base: (base / "val" / "val_annotations.txt").write_text("val_0.png\tn09\n"),
         "(val/val_annotations.txt: no wnid of wnids.txt in 'val_0.png\\tn09')"),
        (lambda base: shutil.rmtree(base.parent), "(no such directory)"),
    ],
)  # fmt: skip
def test_tiny_imagenet_layout_is_named(tmp_path, spoil, problem):
    root = tmp_path / "root"
    spoil(tiny_tree(root))
    with pytest.raises(FileNotFoundError) as raised:
        load_dataset("tiny_imagenet", str(root))
    message = str(raised.value)
    assert message.startswith(f"tiny_imagenet was not found under {str(root)!r} {problem}")
    assert "train/<wnid>/images/*.JPEG" in message and "val/val_annotations.txt" in message
    assert f"unzipping {TINY_IMAGENET_URL}" in message and "never downloads" in message


def test_tiny_imagenet_pixels(tmp_path, monkeypatch):
    """Read with Pillow (grayscale to RGB, as ImageFolder), standardized per channel."""
    Image = pytest.importorskip("PIL.Image")

    def png(path: Path, color) -> None:
        Image.new("RGB" if isinstance(color, tuple) else "L", (64, 64), color).save(path)

    base = tiny_tree(tmp_path, image=png)
    data = load_dataset("tiny_imagenet", str(tmp_path))
    colors = [color(WNIDS.index(wnid), i) for wnid in sorted(WNIDS) for i in range(2)]
    train = torch.tensor(colors, dtype=torch.float64)[:, :, None, None].expand(6, 3, 64, 64)
    test = torch.tensor([60.0, 61, 62], dtype=torch.float64)[:, None, None, None]
    mean, std = train.mean(dim=(0, 2, 3)).view(3, 1, 1), train.std(dim=(0, 2, 3)).view(3, 1, 1)
    assert data.num_classes == 3 and data.input_shape == (3, 64, 64)
    assert data.y_train.tolist() == [0, 0, 1, 1, 2, 2] and data.y_test.tolist() == [1, 0, 2]
    torch.testing.assert_close(data.x_train, ((train - mean) / std).float())
    torch.testing.assert_close(data.x_test, ((test.expand(3, 3, 64, 64) - mean) / std).float())
    Image.new("RGB", (32, 64)).save(base / "val" / "images" / "val_2.png")
    with pytest.raises(ValueError, match=r"val_2.png: 32 x 64 pixels, Tiny ImageNet's are 64"):
        load_dataset("tiny_imagenet", str(tmp_path))
    monkeypatch.setitem(sys.modules, "PIL", None)  # from PIL import Image: ImportError
    with pytest.raises(ImportError, match="tiny_imagenet needs Pillow to read its images"):
        load_dataset("tiny_imagenet", str(tmp_path))
