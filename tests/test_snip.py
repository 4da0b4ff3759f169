"""SNIP masks (issue 14, "Mask sources") against a plain reimplementation of the
published SNIP (sparselearning/snip_and_grasp.py): the multiplicative weight_mask
parameter monkey-patched into every Linear and Conv2d of a copy, |dL/dm| normalized by
its sum, the global top `density` kept with ties."""

from __future__ import annotations

import copy
import types

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import eoi_ext
from eoi_ext.mask_sources import snip_masks
from eoi_ext.models import cifar_conv, deep_mlp


def published_snip(net: nn.Module, keep_ratio: float, inputs, targets) -> list[torch.Tensor]:
    net = copy.deepcopy(net)

    def conv_forward(self, x):
        return F.conv2d(x, self.weight * self.weight_mask, self.bias, self.stride,
                        self.padding, self.dilation, self.groups)  # fmt: skip

    def linear_forward(self, x):
        return F.linear(x, self.weight * self.weight_mask, self.bias)

    for layer in net.modules():
        if isinstance(layer, (nn.Conv2d, nn.Linear)):
            layer.weight_mask = nn.Parameter(torch.ones_like(layer.weight))
            layer.weight.requires_grad = False
        if isinstance(layer, nn.Conv2d):
            if layer.padding_mode != "zeros":  # F.conv2d pads with zeros only
                layer.forward = types.MethodType(
                    lambda self, x: self._conv_forward(
                        x, self.weight * self.weight_mask, self.bias
                    ),
                    layer,
                )
            else:
                layer.forward = types.MethodType(conv_forward, layer)
        if isinstance(layer, nn.Linear):
            layer.forward = types.MethodType(linear_forward, layer)
    net.zero_grad()
    F.cross_entropy(net(inputs), targets).backward()
    grads = [
        layer.weight_mask.grad.abs() for layer in net.modules() if hasattr(layer, "weight_mask")
    ]
    scores = torch.cat([g.flatten() for g in grads])
    norm = scores.sum()
    scores.div_(norm)
    threshold = torch.topk(scores, int(len(scores) * keep_ratio), sorted=True).values[-1]
    return [(g / norm >= threshold) for g in grads]


CASES = {
    "mlp": (lambda: deep_mlp(4, 32, in_features=64), lambda: torch.randn(16, 64)),
    "cnn": (lambda: cifar_conv(7, width=8), lambda: torch.randn(4, 3, 32, 32)),
}


@pytest.mark.parametrize("density", [0.05, 0.3])
@pytest.mark.parametrize(("make", "batch"), CASES.values(), ids=CASES.keys())
def test_equals_the_published_snip(make, batch, density):
    torch.manual_seed(0)
    model, inputs = make(), batch()
    targets = torch.randint(0, 10, (len(inputs),))
    masks = snip_masks(model, density, inputs, targets)
    expected = published_snip(model, density, inputs, targets)
    assert len(masks) == len(expected)
    for mask, theirs in zip(masks.values(), expected, strict=True):
        assert torch.equal(mask, theirs)
    kept = sum(int(m.sum()) for m in masks.values())
    total = sum(m.numel() for m in masks.values())
    assert kept == int(total * density)  # no ties with random weights


def test_the_model_is_untouched_and_sparsify_takes_the_densities():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.ReLU(), nn.Flatten(),
                          nn.Linear(8 * 6 * 6, 10))  # fmt: skip
    before = copy.deepcopy(model.state_dict())
    inputs, targets = torch.randn(8, 3, 8, 8), torch.randint(0, 10, (8,))
    masks = snip_masks(model, 0.2, inputs, targets)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())  # BN stats too
    assert all(p.grad is None for p in model.parameters())
    sparse = eoi_ext.sparsify(model, None, distribution=masks, generator=torch.Generator())
    for name, mask in masks.items():
        assert sparse.densities[name] == pytest.approx(mask.float().mean().item())


def test_a_density_keeping_nothing_is_refused():
    model = nn.Linear(4, 4)
    with pytest.raises(ValueError, match="keeps no entry"):
        snip_masks(model, 0.01, torch.randn(2, 4), torch.randint(0, 4, (2,)))
