"""`eoi train`'s networks (eoi_ext/lab/networks.py) end to end on CIFAR-shaped data made
here (the real CIFAR-10 needs a local root and torchvision), and their refusals."""

from __future__ import annotations

import pytest
import torch

from eoi_ext.lab.data import Dataset
from eoi_ext.lab.experiment import ExperimentConfig, run_experiment
from eoi_ext.lab.networks import NETWORKS, build_network

pytest.importorskip("tqdm")  # the lab extra


def _cifar_like(count: int = 16) -> Dataset:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(count, 3, 32, 32, generator=g)
    y = torch.randint(0, 10, (count,), generator=g)
    return Dataset("cifar10", x, y, x[:4], y[:4], 10)


@pytest.mark.parametrize(
    ("model", "depth", "width", "conv_mode"),
    [
        ("cifar_conv", 8, 8, "delta"),
        ("cifar_resnet", 8, 4, "delta_more"),
        ("vgg16", None, None, "delta_more"),
        ("cnn", 4, 8, "delta"),
    ],
)
def test_train_each_network(model, depth, width, conv_mode):
    config = ExperimentConfig(
        model=model, depth=depth, width=width, activation="relu", density=0.25,
        distribution="erk", gain=1.0, bias_std=0.0, epochs=0.5, batch_size=8,
    )  # fmt: skip
    metrics = run_experiment(config, data=_cifar_like(), progress=False)
    assert metrics["conv_mode"] == conv_mode  # each family's published default
    assert metrics["steps"] == len(metrics["losses"]) == 1
    assert metrics["config"]["depth"] == (depth or None)
    assert metrics["orthogonality_error"]["max"] < 1e-5
    assert 0.0 <= metrics["test_accuracy"] <= 1.0


def test_defaults_fill_depth_and_width():
    model, depth, width = build_network("cifar_resnet", None, None, "relu", (3, 32, 32), 10)
    assert (depth, width) == (NETWORKS["cifar_resnet"].depth, 16)
    assert sum(1 for m in model.modules() if isinstance(m, torch.nn.Conv2d)) == 33  # ResNet-32


@pytest.mark.parametrize(
    ("name", "depth", "shape", "match"),
    [
        ("vgg16", 11, (3, 32, 32), "depth is fixed by the vgg16 architecture"),
        ("cifar_resnet", None, (1, 28, 28), r"needs 32 x 32 RGB images, got inputs \(1, 28"),
        ("efficientnet_b0", None, (1, 28, 28), r"needs RGB images, got inputs \(1, 28, 28\)"),
        ("cnn", None, (64,), r"needs image data"),
        ("resnet", None, (3, 32, 32), "model must be one of"),
    ],
)
def test_build_network_refuses(name, depth, shape, match):
    with pytest.raises(ValueError, match=match):
        build_network(name, depth, None, "relu", shape, 10)
