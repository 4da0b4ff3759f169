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


def test_underflowed_flow_raises_naming_the_layer():
    """A tanh network at gain 1.2, made positive, saturates: tanh' is exactly 0 in
    float32, every score of the later layers is 0, and the published `score > threshold`
    would empty them. The error names the layer; in float64 the flow survives."""
    import eoi_ext

    model = deep_mlp(6, 32, "tanh", in_features=64)
    eoi_ext.sparsify(
        model, 1.0, distribution="uniform", method="base", gain=1.2,
        generator=torch.Generator().manual_seed(0),
    ).remove()  # fmt: skip
    with pytest.raises(ValueError, match=r"prunes every weight of 1\.weight.*underflowed"):
        synflow_masks(model, 0.125, (64,), rounds=10)
    masks = synflow_masks(model.double(), 0.125, (64,), rounds=10)
    kept = sum(int(mask.sum()) for mask in masks.values())
    assert kept == round(0.125 * sum(mask.numel() for mask in masks.values()))


@pytest.mark.parametrize("backend", ["ext", "python"])
def test_dense_kernel_top_up_fills_every_position(backend):
    """At density 1 the kernel top-up adds every free position, without drawing them
    one by one (eoi_ext/random_stream.py): the same all-True mask on both backends."""
    import eoi_ext

    weight = torch.empty(64, 64, 3, 3)
    if backend == "python":
        with eoi_ext.use_python_backend():
            mask = eoi_ext.init.sparse_orthogonal_(weight, 1.0)
    else:
        mask = eoi_ext.init.sparse_orthogonal_(weight, 1.0)
    assert bool(mask.all())
    assert eoi_ext.metrics.conv_orthogonality_error(weight) < 1e-5
