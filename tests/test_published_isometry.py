"""ai, the published AI (issue 14): approximate isometry as the published EOI code runs it
(sparselearning/weight_preprocesser.py, ApproximateIsometryPreprocesser), against a plain
reimplementation of that code: torch.norm of (M*W)(M*W)^T - sigma^2 I on the smaller
side, summed over the weights, torch.optim.SGD at 0.1, the mask kept; float64."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import eoi_ext
from eoi_ext.baselines import isometry_errors, orthogonal_base, published_isometry


def published_ai(weights: list[torch.Tensor], masks: list[torch.Tensor], sigma: float, iters: int):
    params = [nn.Parameter(w.clone()) for w in weights]
    optimizer = torch.optim.SGD(params, lr=0.1)

    def loss(p: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        cw = p.view(p.shape[0], -1) * mask.view(mask.shape[0], -1)
        mul = cw @ cw.T if cw.shape[0] <= cw.shape[1] else cw.T @ cw
        return torch.norm(mul - sigma**2 * torch.eye(mul.shape[0], dtype=mul.dtype))

    for _ in range(iters):
        optimizer.zero_grad()
        sum(loss(p, m) for p, m in zip(params, masks, strict=True)).backward()
        optimizer.step()
    return [p.detach() for p in params]


@pytest.mark.parametrize("shape", [(24, 24), (16, 40), (40, 16), (12, 6, 3, 3)])
def test_equals_the_published_preprocesser(shape):
    g = torch.Generator().manual_seed(1)
    w, m = orthogonal_base(shape, 0.4, gain=1.2, count=3, dtype=torch.float64, generator=g)
    # 20 steps: near the minimum the normalized steps (the norm is not squared) circle
    # it, and rounding differences grow (2e-16 after 20 steps, 4e-9 after 60 here).
    ours, errors = published_isometry(w, m, gain=1.2, iterations=20)
    expected = published_ai(list(w * m), list(m), 1.2, 20)
    for mine, theirs, mask in zip(ours, expected, m, strict=True):
        torch.testing.assert_close(mine, theirs, rtol=0, atol=1e-13)
        assert not mine[~mask].any()  # the mask is kept
    assert (errors < isometry_errors(w, 1.2, 1)).all()  # it descends
    torch.testing.assert_close(errors, isometry_errors(ours, 1.2, 1))


def test_zero_iterations_keep_the_masked_start_and_an_isometry_does_not_move():
    w, m = orthogonal_base((16, 16), 0.5, count=1, dtype=torch.float64)
    same, _ = published_isometry(w, m, iterations=0)
    assert torch.equal(same, w * m)
    eye = torch.eye(16, dtype=torch.float64)[None]
    still, errors = published_isometry(eye, eye.bool(), iterations=5)
    assert torch.equal(still, eye) and errors.item() == 0.0


def test_sparsify_method_ai_is_the_published_ai():
    model = nn.Sequential(nn.Linear(32, 32), nn.Tanh(), nn.Linear(32, 32))
    sparse = eoi_ext.sparsify(
        model, 0.5, distribution="uniform", method="ai", iterations=200,
        generator=torch.Generator().manual_seed(0),
    )  # fmt: skip
    errors = sparse.info["isometry_error"]
    assert set(errors) == {"0.weight", "2.weight"} and max(errors.values()) < 0.5
    for name, mask in sparse.masks.items():
        weight = model.get_submodule(name.split(".")[0]).weight
        assert not weight[~mask].any()
        assert abs(mask.float().mean().item() - 0.5) < 0.01
