"""eoi_ext.init.sparse_orthogonal_: the torch.nn.init-style in-place initializer."""

from __future__ import annotations

import warnings

import pytest
import torch
from conftest import assert_orthogonal, assert_zero_outside_mask
from torch import nn

import eoi_ext
from eoi_ext.init import sparse_orthogonal_


@pytest.mark.parametrize(("in_features", "out_features"), [(784, 256), (256, 784), (40, 40)])
def test_linear_weight(in_features, out_features, make_generator):
    layer = nn.Linear(in_features, out_features)
    weight = layer.weight
    storage = weight.data_ptr()
    before = weight.detach().clone()
    mask = sparse_orthogonal_(weight, 0.05, generator=make_generator(0))
    assert weight.data_ptr() == storage, "the weight was not written in place"
    assert layer.weight is weight
    assert mask.dtype == torch.bool and mask.shape == weight.shape
    assert mask.device == weight.device
    assert not torch.equal(weight.detach(), before), "the weight was not written"
    assert_orthogonal(weight)
    assert_zero_outside_mask(weight, mask)
    density = mask.float().mean().item()
    step = 2 / max(in_features, out_features)  # one rotation adds at most 2n entries
    assert abs(density - 0.05) <= step or density == 1 / max(in_features, out_features), (
        f"density {density} is more than one rotation from 0.05"
    )


def test_matches_sparse_orthogonal(make_generator):
    weight = torch.empty(30, 50)
    mask = sparse_orthogonal_(weight, 0.3, gain=1.7, generator=make_generator(3))
    W, M = eoi_ext.sparse_orthogonal(30, 50, 0.3, gain=1.7, generator=make_generator(3))
    assert torch.equal(weight, W) and torch.equal(mask, M)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float16, torch.bfloat16])
def test_weight_dtype(dtype, make_generator):
    weight = torch.zeros(24, 36, dtype=dtype)
    mask = sparse_orthogonal_(weight, 0.4, generator=make_generator(1))
    assert weight.dtype == dtype
    assert_orthogonal(weight)
    assert_zero_outside_mask(weight, mask)


def test_non_contiguous_view(make_generator):
    base = torch.full((50, 20), float("nan"))
    view = base.T  # (20, 50), not contiguous
    assert not view.is_contiguous()
    mask = sparse_orthogonal_(view, 0.3, generator=make_generator(4))
    W, M = eoi_ext.sparse_orthogonal(20, 50, 0.3, generator=make_generator(4))
    assert torch.equal(view, W), "the view holds the wrong values"
    assert torch.equal(base, W.T), "the base tensor does not hold the transposed values"
    assert torch.equal(mask, M)
    assert mask.shape == (20, 50)


def test_strided_slice_leaves_rest_untouched(make_generator):
    base = torch.full((40, 30), 7.0)
    view = base[::2, 5:25]  # (20, 20) with strides
    mask = sparse_orthogonal_(view, 0.5, generator=make_generator(5))
    W, M = eoi_ext.sparse_orthogonal(20, 20, 0.5, generator=make_generator(5))
    assert torch.equal(view, W) and torch.equal(mask, M)
    untouched = torch.ones_like(base, dtype=torch.bool)
    untouched[::2, 5:25] = False
    assert bool((base[untouched] == 7.0).all()), "entries outside the view were modified"


def test_gain(make_generator):
    weight = torch.empty(64, 32)
    mask = sparse_orthogonal_(weight, 0.2, gain=2.0, generator=make_generator(2))
    assert_orthogonal(weight, gain=2.0)
    assert_zero_outside_mask(weight, mask)


def test_generator_reproducible_and_global_default():
    a, b = torch.empty(20, 20), torch.empty(20, 20)
    ma = sparse_orthogonal_(a, 0.4, generator=torch.Generator().manual_seed(1))
    mb = sparse_orthogonal_(b, 0.4, generator=torch.Generator().manual_seed(1))
    assert torch.equal(a, b) and torch.equal(ma, mb)
    c = torch.empty(20, 20)
    sparse_orthogonal_(c, 0.4, generator=torch.Generator().manual_seed(2))
    assert not torch.equal(a, c), "different generators gave the same weight"
    torch.manual_seed(1)
    d = torch.empty(20, 20)
    sparse_orthogonal_(d, 0.4)
    assert torch.equal(a, d), "generator=None must use torch's global generator"


def test_exact_density(make_generator):
    weight = torch.empty(30, 40)
    mask = sparse_orthogonal_(weight, 0.37, exact_density=True, generator=make_generator())
    assert int(mask.sum()) == round(0.37 * 30 * 40)
    assert_orthogonal(weight)
    assert_zero_outside_mask(weight, mask)


def test_requires_grad_parameter(make_generator):
    layer = nn.Linear(32, 16)
    assert layer.weight.requires_grad
    mask = sparse_orthogonal_(layer.weight, 0.25, generator=make_generator())
    assert layer.weight.requires_grad and layer.weight.is_leaf
    assert layer.weight.grad_fn is None
    # Training still works afterwards.
    loss = layer(torch.randn(4, 32)).pow(2).sum()
    loss.backward()
    assert layer.weight.grad is not None and layer.weight.grad.shape == (16, 32)
    assert_zero_outside_mask(layer.weight, mask)


def test_inside_no_grad_and_inference_mode(make_generator):
    weight = nn.Parameter(torch.empty(10, 12))
    with torch.no_grad():
        sparse_orthogonal_(weight, 0.3, generator=make_generator())
    assert_orthogonal(weight)
    plain = torch.empty(10, 12)
    with torch.inference_mode():
        sparse_orthogonal_(plain, 0.3, generator=make_generator())
    assert_orthogonal(plain)


@pytest.mark.parametrize("shape", [(0, 5), (5, 0), (0, 0)])
def test_zero_element_tensor(shape):
    tensor = torch.empty(shape)
    with pytest.warns(UserWarning, match="zero-element"):
        mask = sparse_orthogonal_(tensor, 0.5)
    assert mask.dtype == torch.bool and mask.shape == shape and mask.numel() == 0


def test_meta_tensor():
    weight = torch.empty(30, 40, device="meta")
    mask = sparse_orthogonal_(weight, 0.3)
    assert mask.is_meta and mask.shape == (30, 40) and mask.dtype == torch.bool


# ---------------------------------------------------------------------------------------
# Bad input: raises, names the argument, leaves the tensor untouched
# ---------------------------------------------------------------------------------------


def _weight() -> torch.Tensor:
    return torch.randn(6, 8, generator=torch.Generator().manual_seed(0))


BAD_CALLS = [
    # (id, tensor factory, density, kwargs, exception, match)
    ("density-0", _weight, 0, {}, ValueError, "density"),
    ("density-negative", _weight, -0.1, {}, ValueError, "density"),
    ("density-above-1", _weight, 1.5, {}, ValueError, "density"),
    ("density-nan", _weight, float("nan"), {}, ValueError, "density"),
    ("density-inf", _weight, float("inf"), {}, ValueError, "density"),
    ("density-str", _weight, "0.5", {}, TypeError, "density"),
    ("density-bool", _weight, True, {}, TypeError, "density"),
    ("density-none", _weight, None, {}, TypeError, "density"),
    ("tensor-1d", lambda: torch.randn(8), 0.5, {}, ValueError, "tensor"),
    ("tensor-0d", lambda: torch.tensor(1.5), 0.5, {}, ValueError, "tensor"),
    ("tensor-int", lambda: torch.arange(48).view(6, 8), 0.5, {}, TypeError, "tensor"),
    ("tensor-bool", lambda: torch.ones(6, 8, dtype=torch.bool), 0.5, {}, TypeError, "tensor"),
    (
        "tensor-complex",
        lambda: torch.ones(6, 8, dtype=torch.complex64),
        0.5,
        {},
        TypeError,
        "tensor",
    ),
    ("conv-mode", _weight, 0.5, {"conv_mode": "bogus"}, ValueError, "conv_mode"),
    ("gain-inf", _weight, 0.5, {"gain": float("inf")}, ValueError, "gain"),
    ("gain-nan", _weight, 0.5, {"gain": float("nan")}, ValueError, "gain"),
    ("gain-str", _weight, 0.5, {"gain": "1"}, (TypeError, ValueError), "gain"),
    ("generator-str", _weight, 0.5, {"generator": "x"}, TypeError, "generator"),
    ("generator-int", _weight, 0.5, {"generator": 3}, TypeError, "generator"),
    ("tensor-6d", lambda: torch.randn(2, 2, 2, 2, 2, 2), 0.5, {}, ValueError, "tensor"),
    ("groups-0", _weight, 0.5, {"groups": 0}, ValueError, "groups"),
    ("groups-float", _weight, 0.5, {"groups": 2.0}, TypeError, "groups"),
    ("groups-not-divisor", lambda: torch.randn(6, 8), 0.5, {"groups": 4}, ValueError, "groups"),
    ("conv-groups", lambda: torch.randn(6, 2, 3, 3), 0.5, {"groups": 4}, ValueError, "groups"),
    ("check-ranks-int", _weight, 0.5, {"check_ranks": 1}, TypeError, "check_ranks"),
]


@pytest.mark.parametrize(
    ("make", "density", "kwargs", "error", "match"),
    [c[1:] for c in BAD_CALLS],
    ids=[c[0] for c in BAD_CALLS],
)
def test_bad_input_raises_and_leaves_tensor_untouched(make, density, kwargs, error, match):
    tensor = make()
    before = tensor.clone()
    version = tensor._version
    with pytest.raises(error, match=match):
        sparse_orthogonal_(tensor, density, **kwargs)
    assert torch.equal(tensor, before), "the tensor was modified by a failing call"
    assert tensor._version == version, "the tensor was written to by a failing call"


def test_bad_input_checked_before_zero_element_shortcut():
    """Validation comes first even for zero-element tensors."""
    with pytest.raises(ValueError, match="density"):
        sparse_orthogonal_(torch.empty(0, 4), 2.0)


def test_not_a_tensor():
    with pytest.raises(TypeError, match="tensor"):
        sparse_orthogonal_([[1.0, 2.0]], 0.5)


def test_does_not_warn_for_ordinary_weights(make_generator):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sparse_orthogonal_(torch.empty(16, 16), 0.5, generator=make_generator())
