"""The networks, cached builds and fidelity checks of tests/test_method_grid.py.

Every build follows the published pipeline (docs/algorithm.md, "Baselines"): the dense
orthogonal init ("base" at density 1, also the grid's dense row), mask sources scoring
that init, then sparsify. Builds reused by several cells are cached per session.
"""

from __future__ import annotations

import copy
import functools
import math
from collections.abc import Callable
from typing import NamedTuple

import torch
from conftest import ORTHO_TOL

import eoi_ext
from eoi_ext.layers import find_layer_weights
from eoi_ext.mask_sources import grasp_masks, snip_masks, synflow_masks
from eoi_ext.models import cifar_conv, cifar_resnet, deep_mlp, vgg16

DENSITY = 0.125  # SAO degrees 4 (MLP width 32), 2 (CNN width 16), 2/4/8, 8..64: exact
SEED = 0
BATCH = 4  # VGG-16's BatchNorm1d needs more than one sample in train mode
SYNFLOW_ROUNDS = 10  # the published 100 take ten times as long
AI_ITERATIONS = 3


class Network(NamedTuple):
    build: Callable[[], torch.nn.Module]
    input_shape: tuple[int, ...]
    gain: float  # of the dense init and of every cell


# Small instances of the tanh MLP and circular CNN, the real ResNet-32 and VGG-16
# (VGG-C, the paper's; vgg16() has no width argument). The tanh networks at gain 1:
# at 1.2 their SynFlow scores vanish and synflow_masks returns empty masks.
NETWORKS = {
    "mlp": Network(lambda: deep_mlp(6, 32, in_features=64), (64,), 1.0),
    "cnn": Network(lambda: cifar_conv(8, 16), (3, 32, 32), 1.0),  # 5 circular convs
    "resnet32": Network(lambda: cifar_resnet(32), (3, 32, 32), 1.2),
    "vgg16": Network(vgg16, (3, 32, 32), 1.2),
}
DISTRIBUTIONS = ("uniform", "erk")
MASK_SOURCES = ("snip", "grasp", "synflow")


def generator(seed: int = SEED) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@functools.cache
def dense(network: str) -> tuple[torch.nn.Module, dict[str, torch.Tensor]]:
    """The published dense init (orthogonal / conv_orthogonal, the network's gain) and masks:
    the grid's dense row, the init the mask sources score and base masks."""
    torch.manual_seed(SEED)  # the constructor's own init, overwritten
    model = NETWORKS[network].build()
    sparse = eoi_ext.sparsify(
        model, 1.0, distribution="uniform", method="base", gain=NETWORKS[network].gain,
        generator=generator(),
    )  # fmt: skip
    masks = dict(sparse.masks)
    sparse.remove()
    return model, masks


def batch(network: str) -> tuple[torch.Tensor, torch.Tensor]:
    g = generator(1)
    inputs = torch.randn(BATCH, *NETWORKS[network].input_shape, generator=g)
    return inputs, torch.randint(0, 10, (BATCH,), generator=g)


@functools.cache
def given(network: str, source: str) -> dict[str, torch.Tensor]:
    """The masks `source` chooses on the dense init, at DENSITY over all weights."""
    model, _ = dense(network)
    inputs, targets = batch(network)
    if source == "snip":
        return snip_masks(model, DENSITY, inputs, targets)
    if source == "grasp":
        return grasp_masks(model, DENSITY, [(inputs, targets)])
    return synflow_masks(model, DENSITY, NETWORKS[network].input_shape, rounds=SYNFLOW_ROUNDS)


def build(network: str, source: str, method: str):
    """sparsify of a copy of the dense init: (model, SparseModel)."""
    model = copy.deepcopy(dense(network)[0])
    masks = source in MASK_SOURCES
    sparse = eoi_ext.sparsify(
        model, None if masks else DENSITY,
        distribution=given(network, source) if masks else source, method=method,
        gain=NETWORKS[network].gain,
        iterations=AI_ITERATIONS if method == "ai" else None, generator=generator(),
    )  # fmt: skip
    return model, sparse


@functools.cache
def built_base(network: str, source: str):
    """The base cell, also the start the ai cell is compared with (same seed)."""
    return build(network, source, "base")


def expected_densities(network: str, source: str) -> dict[str, float]:
    model = dense(network)[0]
    if source in MASK_SOURCES:
        masks = given(network, source)
        return {name: int(mask.sum()) / mask.numel() for name, mask in masks.items()}
    return eoi_ext.layer_densities(model, DENSITY, source)


def weights(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {layer.name: layer.parameter.detach() for layer in find_layer_weights(model)[0]}


def check_masks_hold(model, sparse, network: str) -> None:
    """Every supported weight has a bool mask of its shape, zeros outside; the model runs."""
    found = weights(model)
    assert sorted(sparse.masks) == sorted(found)
    for name, weight in found.items():
        mask = sparse.masks[name]
        assert mask.dtype == torch.bool and mask.shape == weight.shape, name
        assert not weight[~mask].any(), f"{name}: nonzero outside its mask"
    with torch.no_grad():
        out = model.eval()(batch(network)[0])
    assert out.shape == (BATCH, 10) and out.isfinite().all()


def check_orthogonal(model, gain: float) -> None:
    """Every supported weight an isometry of scale `gain` (conv kernels as periodic maps)."""
    tol = ORTHO_TOL[torch.float32] * gain**2
    for layer in find_layer_weights(model)[0]:
        error = eoi_ext.metrics.layer_orthogonality_error(layer, gain)
        assert error < tol, f"{layer.name}: orthogonality error {error:.3g} (gain {gain})"


def _rule(d: float, n: int, m: int) -> tuple[float, float]:
    """Entries of an EOI (n x m) matrix at density d, by the published stopping rule
    (docs/algorithm.md): n at d <= 1/m (no rotation), else within half a rotation's
    growth (at most n) of d * n * m."""
    return (n, n) if d * m <= 1 else (d * n * m - n / 2, d * n * m + n / 2)


def check_eoi_counts(sparse, densities: dict[str, float]) -> None:
    """EOI's realized entries per layer: a matrix by the stopping rule; a kernel
    ("delta" or "delta_more") topped up to exactly round(d * numel), unless its centre
    matrix alone already holds more."""
    for name, mask in sparse.masks.items():
        rows, cols, *kernel = mask.shape
        n, m, d = min(rows, cols), max(rows, cols), densities[name]
        count = int(mask.sum())
        if not kernel:
            low, high = _rule(d, n, m)
            assert low <= count <= high, f"{name}: {count} entries at density {d:.4g}"
            continue
        target = round(d * mask.numel())
        centre = max(d, min(d * math.prod(kernel), 1.0, math.sqrt(d)))  # delta_more's, >= d
        high = max(target, _rule(centre, n, m)[1])
        assert target <= count <= high, f"{name}: {count} entries, target {target}"


def published_ai_objective(weight: torch.Tensor, mask: torch.Tensor, gain: float) -> float:
    """The published AI loss of one weight: ||(M*W)(M*W)^T - gain^2 I||_F (unsquared)
    on the smaller side of the (rows, fan_in) view, in float64."""
    v = (weight * mask).double().reshape(weight.shape[0], -1)
    gram = v @ v.T if v.shape[0] <= v.shape[1] else v.T @ v
    eye = torch.eye(gram.shape[0], dtype=torch.float64)
    return torch.linalg.matrix_norm(gram - gain**2 * eye).item()
