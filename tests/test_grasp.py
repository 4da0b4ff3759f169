"""GraSP masks (issue 14, "Mask sources") against a plain reimplementation of the
published GraSP_v2 (sparselearning/snip_and_grasp.py): gradients summed over every batch
at temperature 200, the Hessian-gradient product by a second pass, signed scores
normalized by |their sum| + 1e-10, the largest removed."""

from __future__ import annotations

import copy

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from eoi_ext.mask_sources import grasp_masks
from eoi_ext.models import cifar_conv, deep_mlp


def published_grasp(model: nn.Module, keep_ratio: float, loader, temp=200, eps=1e-10):
    model = copy.deepcopy(model)
    params = [m.weight for m in model.modules() if isinstance(m, (nn.Linear, nn.Conv2d))]
    stopped_grads = 0
    for data, target in loader:
        L = F.cross_entropy(model(data) / temp, target)
        grads = torch.autograd.grad(L, params, create_graph=False)
        stopped_grads += torch.cat([g.reshape(-1) for g in grads if g is not None])
    for data, target in loader:
        L = F.cross_entropy(model(data) / temp, target)
        grads = torch.autograd.grad(L, params, create_graph=True)
        flatten_grads = torch.cat([g.reshape(-1) for g in grads if g is not None])
        (stopped_grads * flatten_grads).sum().backward()
    scores = [torch.clone(p.grad * p.data).detach() for p in params]
    all_scores = torch.cat([torch.flatten(v) for v in scores])
    norm = torch.abs(torch.sum(all_scores)) + eps
    all_scores.div_(norm)
    threshold, _ = torch.topk(all_scores, int(len(all_scores) * (1 - keep_ratio)), sorted=True)
    acceptable = threshold[-1] if len(threshold) > 0 else torch.max(all_scores)
    return [(score / norm < acceptable) for score in scores]


CASES = {
    "mlp": (lambda: deep_mlp(4, 32, in_features=64), (64,)),
    "cnn": (lambda: cifar_conv(7, width=8, activation="relu"), (3, 32, 32)),
}


@pytest.mark.parametrize("density", [0.05, 0.3, 1.0])
@pytest.mark.parametrize(("make", "shape"), CASES.values(), ids=CASES.keys())
def test_equals_the_published_grasp(make, shape, density):
    torch.manual_seed(0)
    model = make()
    loader = [(torch.randn(8, *shape), torch.randint(0, 10, (8,))) for _ in range(3)]
    before = copy.deepcopy(model.state_dict())
    masks = grasp_masks(model, density, loader)
    expected = published_grasp(model, density, loader)
    for mask, theirs in zip(masks.values(), expected, strict=True):
        assert torch.equal(mask, theirs)
    kept = sum(int(m.sum()) for m in masks.values())
    total = sum(m.numel() for m in masks.values())
    assert kept == total - max(1, int(total * (1 - density)))  # even at 1.0, as published
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert all(p.grad is None for p in model.parameters())


def test_no_batches_is_refused():
    with pytest.raises(ValueError, match="batches is empty"):
        grasp_masks(nn.Linear(4, 4), 0.5, [])
