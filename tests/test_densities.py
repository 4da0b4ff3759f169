"""eoi_ext.layer_densities: every distribution keeps the overall density
(docs/algorithm.md, "Layer-wise densities")."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

import eoi_ext
from eoi_ext import layer_densities


def model() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(3, 16, 3),
        nn.Conv2d(16, 32, 5),
        nn.Flatten(),
        nn.Linear(32, 256),
        nn.Linear(256, 256),
        nn.Linear(256, 10),
    )


def sizes(net: nn.Module) -> dict[str, int]:
    return {name: p.numel() for name, p in net.named_parameters() if name.endswith("weight")}


def kept(densities: dict[str, float], net: nn.Module) -> float:
    numel = sizes(net)
    return sum(densities[name] * numel[name] for name in densities)


@pytest.mark.parametrize("distribution", ["uniform", "er", "erk", "uniform_dense_ends"])
@pytest.mark.parametrize("density", [0.05, 0.125, 0.5, 0.9])
def test_total_matches_target(distribution, density):
    net = model()
    densities = layer_densities(net, density, distribution)
    assert set(densities) == set(sizes(net))
    assert all(0 < d <= 1 for d in densities.values())
    total = sum(sizes(net).values())
    assert kept(densities, net) == pytest.approx(density * total, rel=1e-9)


def test_uniform_and_dense_ends():
    net = model()
    assert set(layer_densities(net, 0.3, "uniform").values()) == {0.3}
    ends = layer_densities(net, 0.3, "uniform_dense_ends")
    assert ends["0.weight"] == ends["5.weight"] == 1.0
    inner = {ends[name] for name in ("1.weight", "3.weight", "4.weight")}
    assert len(inner) == 1 and inner.pop() < 0.3
    with pytest.raises(ValueError, match="dense first and last"):
        layer_densities(net, 0.001, "uniform_dense_ends")


def test_erk_follows_the_formula():
    net = model()
    densities = layer_densities(net, 0.3, "erk")
    scores = {
        "0.weight": (16 + 3 + 3 + 3) / (16 * 3 * 9),
        "1.weight": (32 + 16 + 5 + 5) / (32 * 16 * 25),
        "3.weight": (256 + 32) / (256 * 32),
        "4.weight": (256 + 256) / 256**2,
        "5.weight": (10 + 256) / 2560,
    }
    free = {name: densities[name] / scores[name] for name in scores if densities[name] < 1.0}
    eps = next(iter(free.values()))
    assert all(value == pytest.approx(eps) for value in free.values())
    # Layers whose share would exceed 1 are dense: the smallest layer here.
    assert densities["0.weight"] == 1.0
    # er ignores the kernel dims: the 5x5 conv is denser under er than under erk.
    er = layer_densities(net, 0.3, "er")
    assert er["1.weight"] > densities["1.weight"]


def test_densities_from_masks():
    net = model()
    masks = {
        "1.weight": torch.rand(32, 16, 5, 5) < 0.2,
        "4.weight": torch.zeros(256, 256, dtype=torch.bool),
    }
    masks["4.weight"][:64] = True
    densities = layer_densities(net, None, masks)
    assert densities["1.weight"] == pytest.approx(float(masks["1.weight"].float().mean()))
    assert densities["4.weight"] == 0.25
    assert densities["0.weight"] == densities["3.weight"] == densities["5.weight"] == 1.0
    with pytest.raises(ValueError, match="no supported layer for: nope"):
        layer_densities(net, None, {"nope": torch.ones(2, 2, dtype=torch.bool)})
    with pytest.raises(ValueError, match="shape"):
        layer_densities(net, None, {"4.weight": torch.ones(2, 2, dtype=torch.bool)})
    with pytest.raises(ValueError, match="empty"):
        layer_densities(net, None, {"4.weight": torch.zeros(256, 256, dtype=torch.bool)})


def test_realized_masks_are_within_one_weight_per_layer():
    """With exact_density the kept total is the target up to rounding: one weight per layer."""
    net = model()
    sparse = eoi_ext.sparsify(
        net, 0.2, distribution="erk", exact_density=True, generator=torch.Generator().manual_seed(0)
    )
    total = sum(mask.numel() for mask in sparse.masks.values())
    kept_weights = sum(int(mask.sum()) for mask in sparse.masks.values())
    assert abs(kept_weights - 0.2 * total) <= len(sparse.masks)


@pytest.mark.parametrize(
    ("density", "distribution", "error", "match"),
    [
        (0.5, "bogus", ValueError, "distribution must be one of"),
        (0.0, "erk", ValueError, "density"),
        (1.5, "uniform", ValueError, "density"),
        ("x", "uniform", TypeError, "density"),
    ],
)
def test_bad_arguments(density, distribution, error, match):
    with pytest.raises(error, match=match):
        layer_densities(model(), density, distribution)


def test_no_supported_layers():
    with pytest.raises(ValueError, match="no supported layers"):
        layer_densities(nn.Sequential(nn.ReLU(), nn.LayerNorm(4)), 0.5)
    assert math.isfinite(layer_densities(nn.Linear(3, 3), 0.5, "erk")["weight"])
