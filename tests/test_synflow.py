"""SynFlow masks (issue 14, "Mask sources") against a plain reimplementation of the
published loop (sparselearning/synflow.py: SynFlowPruner.score with linearize and
nonlinearize every round, global mask by kthvalue, apply_mask, exponential schedule,
eval mode), run on a copy of the model."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from eoi_ext.mask_sources import synflow_masks
from eoi_ext.models import cifar_conv, deep_mlp


def published_synflow(model: nn.Module, keep_ratio: float, input_shape, epochs: int) -> list:
    model = copy.deepcopy(model).eval()
    params = [m.weight for m in model.modules() if isinstance(m, (nn.Linear, nn.Conv2d))]
    masked = [(torch.ones_like(p), p) for p in params]
    for epoch in range(epochs):
        with torch.no_grad():
            signs = {}
            for name, param in model.state_dict().items():
                signs[name] = torch.sign(param)
                param.abs_()
        torch.sum(model(torch.ones([1, *input_shape]))).backward()
        scores = {}
        for _, p in masked:
            scores[id(p)] = torch.clone(p.grad * p).detach().abs_()
            p.grad.data.zero_()
        with torch.no_grad():
            for name, param in model.state_dict().items():
                param.mul_(signs[name])
        sparse = keep_ratio ** ((epoch + 1) / epochs)
        global_scores = torch.cat([torch.flatten(v) for v in scores.values()])
        k = int((1.0 - sparse) * global_scores.numel())
        if not k < 1:
            threshold, _ = torch.kthvalue(global_scores, k)
            for mask, param in masked:
                mask.copy_(torch.where(scores[id(param)] <= threshold, 0.0, 1.0))
        with torch.no_grad():
            for mask, param in masked:
                param.mul_(mask)
    return [mask.bool() for mask, _ in masked]


CASES = {
    "mlp": (lambda: deep_mlp(5, 32, "relu", in_features=64), (64,)),
    "cnn": (lambda: cifar_conv(8, width=8, activation="relu"), (3, 32, 32)),
    "bn": (
        lambda: nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.ReLU(), nn.Flatten(),
                              nn.Linear(8 * 6 * 6, 10)),
        (3, 8, 8),
    ),
}  # fmt: skip


@pytest.mark.parametrize("density", [0.02, 0.2])
@pytest.mark.parametrize(("make", "shape"), CASES.values(), ids=CASES.keys())
def test_equals_the_published_loop(make, shape, density):
    torch.manual_seed(0)
    model = make()
    if any(isinstance(m, nn.BatchNorm2d) for m in model.modules()):
        model.train()(torch.randn(16, *shape))  # running statistics of its own
    before = copy.deepcopy(model.state_dict())
    masks = synflow_masks(model, density, shape, rounds=20)
    expected = published_synflow(model, density, shape, 20)
    assert len(masks) == len(expected)
    for mask, theirs in zip(masks.values(), expected, strict=True):
        assert torch.equal(mask, theirs)
    kept = sum(int(m.sum()) for m in masks.values())
    total = sum(m.numel() for m in masks.values())
    assert abs(kept - density * total) < 5  # the published check
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert all(p.grad is None for p in model.parameters())


def test_synflow_keeps_every_layer_alive():
    """SynFlow's point: at extreme sparsity no layer is pruned away entirely."""
    torch.manual_seed(0)
    masks = synflow_masks(deep_mlp(6, 64, "relu", in_features=64), 0.01, (64,))
    assert all(mask.any() for mask in masks.values())
