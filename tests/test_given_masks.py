"""sparsify with given masks (issue 14, "Mask sources") and the paper's base.

The published pipeline (main.py, sparselearning/weight_preprocesser.py): the dense
orthogonal init (models/initializers.py, Orthogonal: orthogonal_ for Linears,
conv_orthogonal for convs), a mask source scores it, then base masks those values, AI
optimizes them from there, EOI draws its own matrices at each layer's realized density.
"""

from __future__ import annotations

import pytest
import torch

import eoi_ext
from eoi_ext import layer_values
from eoi_ext.baselines import conv_orthogonal, orthogonal_base, published_isometry, random_masks
from eoi_ext.mask_sources import snip_masks
from eoi_ext.methods import KEEPS_MASKS
from eoi_ext.models import cifar_conv, deep_mlp


def published_base_linear(shape, gain, generator):
    """models/initializers.py Orthogonal on a Linear: orthogonal_ of the whole weight."""
    w = torch.empty(shape, dtype=torch.float64)
    return torch.nn.init.orthogonal_(w, gain=gain, generator=generator)


@pytest.mark.parametrize("shape", [(64, 32), (32, 64), (48, 48)])
def test_base_of_a_matrix_is_the_published_orthogonal_masked_unscaled(shape):
    w, m = orthogonal_base(shape, 0.3, gain=1.3, dtype=torch.float64,
                           generator=torch.Generator().manual_seed(5))  # fmt: skip
    g = torch.Generator().manual_seed(5)
    dense = published_base_linear(shape, 1.3, g)
    mask = random_masks(1, shape, 0.3, g)[0]
    assert torch.equal(m[0], mask)
    assert torch.equal(w[0], dense * mask)  # no 1/density rescaling


def test_base_of_a_conv_is_conv_orthogonal_masked():
    shape = (16, 8, 3, 3)
    w, m = orthogonal_base(shape, 0.25, count=2, dtype=torch.float64,
                           generator=torch.Generator().manual_seed(1))  # fmt: skip
    g = torch.Generator().manual_seed(1)
    dense = conv_orthogonal(shape, count=2, dtype=torch.float64, generator=g)
    assert torch.equal(m, random_masks(2, shape, 0.25, g))
    assert torch.equal(w, dense * m)
    full, _ = orthogonal_base(shape, 1.0, dtype=torch.float64)
    assert eoi_ext.metrics.conv_orthogonality_error(full[0]) < 1e-10


def scored(model, density=0.2):
    """The published flow's first two steps: the dense base init, then SNIP on it."""
    torch.manual_seed(0)
    eoi_ext.sparsify(model, 1.0, method="base").remove()
    inputs = torch.randn(16, *INPUT[type(model[0]).__name__], dtype=torch.float64)
    targets = torch.randint(0, 10, (16,))
    return snip_masks(model, density, inputs, targets)


INPUT = {"Flatten": (64,), "Conv2d": (3, 32, 32)}
MODELS = {
    "mlp": lambda: deep_mlp(4, 32, in_features=64).double(),
    "conv": lambda: cifar_conv(4, 8).double(),
}


@pytest.mark.parametrize("model_name", MODELS)
@pytest.mark.parametrize("method", sorted(KEEPS_MASKS))
def test_baselines_keep_the_given_positions(model_name, method):
    model = MODELS[model_name]()
    masks = scored(model)
    before = {name: p.detach().clone() for name, p in model.named_parameters()}
    sparse = eoi_ext.sparsify(model, None, distribution=masks, method=method, iterations=3,
                              generator=torch.Generator().manual_seed(2))  # fmt: skip
    params = dict(model.named_parameters())
    for name, mask in masks.items():
        assert torch.equal(sparse.masks[name], mask), name
        assert not params[name][~mask].any()
        if method == "base":  # the scored init itself, masked
            assert torch.equal(params[name], before[name] * mask)


def test_ai_starts_from_the_scored_init_as_published():
    model = MODELS["conv"]()
    masks = scored(model)
    start = {name: p.detach().clone() for name, p in model.named_parameters() if name in masks}
    eoi_ext.sparsify(model, None, distribution=masks, method="ai", iterations=7)
    params = dict(model.named_parameters())
    for name, mask in masks.items():
        expected, _ = published_isometry(start[name][None], mask[None], iterations=7)
        torch.testing.assert_close(params[name], expected[0], rtol=0, atol=1e-12)


def test_eoi_takes_the_realized_densities_not_the_positions():
    model = MODELS["mlp"]()
    masks = scored(model, 0.3)
    sparse = eoi_ext.sparsify(model, None, distribution=masks, exact_density=True)
    moved = 0
    for name, mask in masks.items():
        assert sparse.densities[name] == pytest.approx(mask.float().mean().item())
        assert int(sparse.masks[name].sum()) == int(mask.sum())
        moved += int((sparse.masks[name] != mask).sum())
    assert moved > 0


def test_a_layer_without_a_given_mask_is_dense():
    model = MODELS["mlp"]()
    masks = scored(model)
    first = next(iter(masks))
    del masks[first]
    sparse = eoi_ext.sparsify(model, None, distribution=masks, method="base")
    assert bool(sparse.masks[first].all())


def test_float_masks_are_taken_as_bool():
    model = MODELS["mlp"]()
    masks = {name: mask.double() for name, mask in scored(model).items()}
    sparse = eoi_ext.sparsify(model, None, distribution=masks, method="random")
    assert all(torch.equal(sparse.masks[n], m.bool()) for n, m in masks.items())


def test_sharded_masks_are_refused_by_the_methods_that_keep_them(monkeypatch):
    model = MODELS["mlp"]()
    masks = scored(model)
    monkeypatch.setattr(layer_values, "is_dtensor", lambda t: t.dtype == torch.bool)
    before = [p.detach().clone() for p in model.parameters()]
    with pytest.raises(ValueError, match=r"distribution: method 'base' .* DTensor"):
        eoi_ext.sparsify(model, None, distribution=masks, method="base")
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))
    eoi_ext.sparsify(model, None, distribution=masks, method="eoi")  # densities only


def test_erk_at_density_one_makes_every_layer_dense():
    """A regression: the ERK loop never ended once every layer was dense."""
    densities = eoi_ext.layer_densities(MODELS["mlp"](), 1.0, "erk")
    assert set(densities.values()) == {1.0}
