"""The paper's networks (eoi_ext.models; issue 14, "Networks"): the published deep CNN,
cifar_conv, as models/convolution.py builds it, and why its circular padding matters: a
deep linear stack of its stride-1 convs initialized by EOI is an exact isometry, which
zero padding (vanilla_cnn's) is not."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import eoi_ext
from eoi_ext.baselines import conv_orthogonal
from eoi_ext.models import activation, cifar_conv, deep_mlp


def convs(model: nn.Module) -> list[nn.Conv2d]:
    return [m for m in model.modules() if isinstance(m, nn.Conv2d)]


@pytest.mark.parametrize(("depth", "count"), [(1, 3), (6, 3), (7, 4), (1000, 997)])
def test_cifar_conv_counts_layers_as_published(depth, count):
    model = cifar_conv(depth, width=4 if depth == 1000 else 8)
    layers = convs(model)
    assert len(layers) == count  # 3 + max(0, depth - 6), as the published loop
    assert [c.stride for c in layers[:3]] == [(1, 1), (2, 2), (2, 2)]
    assert all(c.padding_mode == "circular" and c.padding == (1, 1) for c in layers)
    assert all(c.stride == (1, 1) for c in layers[3:])
    assert (
        isinstance(model[-3], nn.AvgPool2d) and model[-1].in_features == layers[0].out_channels * 16
    )
    if depth < 1000:
        assert model(torch.zeros(2, 3, 32, 32)).shape == (2, 10)


@pytest.mark.parametrize(("padding", "isometric"), [("circular", True), ("zeros", False)])
def test_a_deep_linear_circular_stack_is_an_isometry(padding, isometric):
    """200 stride-1 convs of the published CNN, linear activation, dense orthogonal
    kernels (conv_orthogonal, the published base; every tap nonzero): the Jacobian of
    the whole stack is orthogonal to float64 rounding with circular padding; with zero
    padding the borders leak. (EOI's delta kernels have one nonzero tap, an isometry
    under either padding: checked too.)"""
    torch.manual_seed(0)
    model = cifar_conv(206, width=4, activation="linear").double()
    stack = nn.Sequential(*list(model[6:-3]))  # after the three first convs
    layers = convs(stack)
    assert len(layers) == 200
    kernels = conv_orthogonal((4, 4, 3, 3), count=200, dtype=torch.float64)
    with torch.no_grad():
        for conv, kernel in zip(layers, kernels, strict=True):
            conv.padding_mode = padding
            conv.weight.copy_(kernel)
            conv.bias.zero_()
    x = torch.randn(1, 4, 6, 6, dtype=torch.float64)
    assert (isometry_error(stack, x) < 1e-10) == isometric
    eoi_ext.sparsify(stack, 0.5, distribution="uniform")  # delta kernels
    assert isometry_error(stack, x) < 1e-10


def isometry_error(stack: nn.Module, x: torch.Tensor) -> float:
    jacobian = torch.autograd.functional.jacobian(stack, x).reshape(x.numel(), -1)
    return float((jacobian @ jacobian.T - torch.eye(x.numel(), dtype=x.dtype)).abs().max())


def test_activations_include_the_published_names():
    assert activation("lrelu") is nn.LeakyReLU and activation("hard_tanh") is nn.Hardtanh
    assert isinstance(deep_mlp(3, 8, "selu")[2], nn.SELU)
    with pytest.raises(ValueError, match="activation must be one of"):
        activation("gelu")
