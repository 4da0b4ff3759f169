"""Layer-wise densities as the published code computes them (issue 14, "Distributions"):
ERK (sparselearning/sparsity_initializers.py, ERK_initializer, erk_power_scale 1) on
the raw weight shapes, depthwise and grouped convs included, and uni_skip
(uniform_skip_first_last_initializer), against plain reimplementations of that code."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

import eoi_ext
from eoi_ext.models import cifar_conv, deep_mlp


def published_erk(shapes: dict[str, tuple[int, ...]], density: float) -> dict[str, float]:
    dense_layers: set[str] = set()
    while True:
        divisor = rhs = 0.0
        raw = {}
        for name, shape in shapes.items():
            n_param = np.prod(shape)
            if name in dense_layers:
                rhs -= n_param * (1 - density)
            else:
                rhs += n_param * density
                raw[name] = np.sum(shape) / np.prod(shape)
                divisor += raw[name] * n_param
        epsilon = rhs / divisor
        max_prob = np.max(list(raw.values()))
        if max_prob * epsilon > 1:
            dense_layers.update(name for name, p in raw.items() if p == max_prob)
        else:
            break
    return {name: 1.0 if name in dense_layers else epsilon * raw[name] for name in shapes}


def published_uni_skip(shapes: dict[str, tuple[int, ...]], density: float) -> dict[str, float]:
    def skipped(shape: tuple[int, ...]) -> bool:
        return (len(shape) == 2 and shape[0] != shape[1]) or (len(shape) == 4 and shape[1] == 3)

    return {name: 1.0 if skipped(shape) else density for name, shape in shapes.items()}


def depthwise_net() -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(3, 32, 3), nn.Conv2d(32, 32, 3, groups=32), nn.Conv2d(32, 64, 1),
        nn.Conv2d(64, 64, 3, groups=4), nn.Flatten(), nn.Linear(64, 10),
    )  # fmt: skip


MODELS = {
    "cifar_conv": lambda: cifar_conv(12, width=32),
    "mlp": lambda: deep_mlp(6, 100, in_features=784),
    "depthwise": depthwise_net,
}


@pytest.mark.parametrize("density", [0.05, 0.1, 0.3])
@pytest.mark.parametrize("make", MODELS.values(), ids=MODELS.keys())
@pytest.mark.parametrize(
    ("name", "published"), [("erk", published_erk), ("uni_skip", published_uni_skip)]
)
def test_equal_to_the_published_code(make, density, name, published):
    model = make()
    shapes = {n: tuple(p.shape) for n, p in model.named_parameters() if p.dim() > 1}
    ours = eoi_ext.layer_densities(model, density, name)
    expected = published(shapes, density)
    assert ours.keys() == expected.keys()
    for layer, value in expected.items():
        assert ours[layer] == pytest.approx(float(value), rel=1e-12), layer


def test_a_depthwise_conv_is_scored_on_its_shape():
    """(32, 1, 3, 3) scores (32 + 1 + 3 + 3) / 288, not (1 + 1 + 3 + 3) / 9 per group,
    which made it dense (before: density 1.0 at 0.1 overall)."""
    densities = eoi_ext.layer_densities(depthwise_net(), 0.1, "erk")
    assert densities["1.weight"] < 1.0


def test_uni_skip_keeps_the_inner_layers_at_the_density():
    densities = eoi_ext.layer_densities(cifar_conv(10, width=16), 0.1, "uni_skip")
    assert list(densities.values()) == [1.0] + [0.1] * 6 + [1.0]
    mlp = eoi_ext.layer_densities(deep_mlp(5, 64), 0.1, "uni_skip")
    assert list(mlp.values()) == [1.0, 0.1, 0.1, 0.1, 1.0]
    model = deep_mlp(5, 64)
    sparse = eoi_ext.sparsify(model, 0.1, distribution="uni_skip", generator=torch.Generator())
    assert sparse.density > 0.1  # the published meaning: inner layers at D, not the total
