"""Conv modes by default (eoi_ext/conv_modes.py) and the published structured EIS
distributions (eoi_ext/densities.py), against the published rules written out here
(sparselearning/weight_preprocesser.py, StrcuturedSparseOrthogonalPreprocesser;
specs/contemporary-networks/*.py, more_nonzeros)."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

import eoi_ext
from eoi_ext.conv_modes import default_conv_mode, mark_conv_mode
from eoi_ext.models import cifar_conv, cifar_resnet, cifar_vgg16, deep_mlp, vgg16


def _marked_conv() -> nn.Module:
    return mark_conv_mode(nn.Conv2d(8, 8, 3), "delta_more")


@pytest.mark.parametrize(
    ("conv_mode", "distribution", "model", "expected"),
    [
        (None, "erk", lambda: nn.Conv2d(8, 8, 3), "delta"),
        (None, "erk", _marked_conv, "delta_more"),
        ("delta", "erk", _marked_conv, "delta"),  # the caller's choice wins
        (None, "uni_skip_eis", _marked_conv, "structured"),
        (None, "erk_eis", lambda: nn.Conv2d(8, 8, 3), "structured"),
        ("structured", "erk_eis", lambda: nn.Conv2d(8, 8, 3), "structured"),
        (None, {"weight": torch.ones(8, 8, 3, 3, dtype=torch.bool)}, _marked_conv, "delta_more"),
    ],
)
def test_default_conv_mode(conv_mode, distribution, model, expected):
    assert default_conv_mode(conv_mode, distribution, model()) == expected


@pytest.mark.parametrize(
    ("conv_mode", "distribution", "mark", "match"),
    [
        ("delta", "uni_skip_eis", None, "conv_mode must be 'structured' or None"),
        ("delta_more", "erk_eis", None, "published structured EIS"),
        ("bogus", "erk", None, "conv_mode must be one of"),
        (None, "erk", "bogus", "the model's eoi_conv_mode"),
    ],
)
def test_conv_mode_errors_name_the_argument(conv_mode, distribution, mark, match):
    model = nn.Sequential(nn.Conv2d(8, 8, 3))
    if mark is not None:
        model.eoi_conv_mode = mark
    before = model[0].weight.clone()
    with pytest.raises(ValueError, match=match):
        eoi_ext.sparsify(model, 0.5, distribution=distribution, conv_mode=conv_mode)
    assert torch.equal(model[0].weight, before)  # nothing changed


@pytest.mark.parametrize(
    ("build", "mode"),
    [
        (lambda: cifar_resnet(8, width=4), "delta_more"),
        (vgg16, "delta_more"),
        (cifar_vgg16, "delta_more"),
        (lambda: cifar_conv(4, 8), "delta"),  # the 1000-layer CNN's spec: more_nonzeros False
        (lambda: deep_mlp(4, 8, "tanh", 8, 2), "delta"),
    ],
)
def test_network_families_default_as_published(build, mode):
    assert default_conv_mode(None, "erk", build()) == mode


def _centre_density(model: nn.Module, name: str) -> float:
    weight = model.get_parameter(name)
    k = weight.shape[-1] // 2
    return float((weight[:, :, k, k] != 0).float().mean())


@pytest.mark.parametrize(("conv_mode", "expected"), [(None, math.sqrt(0.1)), ("delta", 0.1)])
def test_resnet_sparsified_with_delta_more_by_default(conv_mode, expected, make_generator):
    """delta_more puts H at density min(9 d, 1, sqrt d) on the centre tap (published
    sparse_delta_orthogonal with more_nonzeros); delta at d."""
    model = cifar_resnet(8, width=16)
    sparse = eoi_ext.sparsify(
        model, 0.1, distribution="uniform", conv_mode=conv_mode, generator=make_generator(0)
    )
    name = "blocks.1.conv1.weight"  # 32 x 32 x 3 x 3
    assert _centre_density(model, name) == pytest.approx(expected, abs=0.04)
    assert sparse.densities[name] == pytest.approx(0.1)
    assert float(sparse.masks[name].float().mean()) == pytest.approx(0.1, abs=0.01)


def _published_eis(model: nn.Module, density: float, base: str) -> dict[str, float]:
    """The published EIS layer densities: the base distribution's, then every 2-D weight
    dense (sparse_linear_orthogonal(..., 1.0)) and a conv on 3 input channels dense (its
    mask all ones)."""
    densities = eoi_ext.layer_densities(model, density, base)
    for name in densities:
        shape = model.get_parameter(name).shape
        if len(shape) == 2 or (len(shape) == 4 and shape[1] == 3):
            densities[name] = 1.0
    return densities


@pytest.mark.parametrize("base", ["uni_skip", "erk"])
@pytest.mark.parametrize("build", [vgg16, lambda: cifar_resnet(8, width=8)])
def test_eis_distributions_as_published(base, build):
    model = build()
    got = eoi_ext.layer_densities(model, 0.1, f"{base}_eis")
    assert got == pytest.approx(_published_eis(model, 0.1, base))
    assert sum(1 for d in got.values() if d < 1) >= 3  # the inner convs stay sparse


def test_eis_sparsify_keeps_whole_kernels(make_generator):
    model = vgg16()
    sparse = eoi_ext.sparsify(model, 0.1, distribution="uni_skip_eis", generator=make_generator(2))
    for name, mask in sparse.masks.items():
        if mask.dim() == 2 or mask.shape[1] == 3:
            assert bool(mask.all()), name  # Linears and the first conv dense
            continue
        kernels = mask.flatten(2)
        assert torch.equal(kernels.all(-1), kernels.any(-1)), name  # all taps or none
        assert float(kernels.any(-1).float().mean()) == pytest.approx(0.1, abs=0.02), name
    error = max(eoi_ext.metrics.orthogonality_errors(model).values())
    assert error < 1e-5
