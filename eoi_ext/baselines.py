"""The initializations EOI is compared with, in the shape sparsify uses
(docs/algorithm.md, "Baselines").

Every builder returns new (weights, masks) stacks of shape (count, *shape) for `count`
weights of one shape whose rows form `groups` blocks (conv groups, RNN gates, q/k/v):
- random_sparse: a uniformly random mask with round(density * numel) entries per weight,
  Kaiming-normal values inside it, std gain / sqrt(density * fan_in).
- orthogonal_masked: dense torch.nn.init.orthogonal_ per block, then a random mask (the
  result is no longer orthogonal).
- approximate_isometry ("ai", Lee et al., ICLR 2020): given masks, gradient descent on
  1/4 ||(M*W)(M*W)^T - gain^2 I||_F^2 per block (smaller side) from random_sparse.
- svd_isometry ("svd_ai"): alternate W <- gain * U V^T (the polar factor) and W <- M * W.
ai and svd_ai work on each block's matrix view (rows, cols * kernel), as Lee et al. do
for convolutions; their `errors` are max |V V^T - gain^2 I| of that view after the last
step, per weight.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

__all__ = [
    "AI_STEPS",
    "SVD_ITERATIONS",
    "approximate_isometry",
    "isometry_errors",
    "orthogonal_masked",
    "random_masks",
    "random_sparse",
    "svd_isometry",
]

AI_STEPS = 100
AI_LEARNING_RATE = 0.1
SVD_ITERATIONS = 10


def random_masks(
    count: int, shape: tuple[int, ...], density: float, generator: torch.Generator | None
) -> Tensor:
    """(count, *shape) bool masks on the CPU, each with round(density * numel) entries
    (at least 1) at uniformly random positions."""
    numel = math.prod(shape)
    keep = max(1, round(density * numel))
    scores = torch.rand(count, numel, generator=generator)
    mask = torch.zeros(count, numel, dtype=torch.bool)
    mask.scatter_(1, scores.topk(keep, dim=1).indices, True)
    return mask.view(count, *shape)


def fan_in(shape: tuple[int, ...]) -> int:
    return math.prod(shape[1:])


def random_sparse(
    shape: tuple[int, ...],
    density: float,
    *,
    gain: float = 1.0,
    count: int = 1,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str = "cpu",
    generator: torch.Generator | None = None,
) -> tuple[Tensor, Tensor]:
    """The standard sparse initialization: random mask, scaled Kaiming-normal values."""
    masks = random_masks(count, shape, density, generator)
    std = gain / math.sqrt(density * fan_in(shape))
    weights = torch.randn((count, *shape), generator=generator, dtype=torch.float64) * std
    return (weights * masks).to(device=device, dtype=dtype), masks.to(device)


def orthogonal_masked(
    shape: tuple[int, ...],
    density: float,
    *,
    gain: float = 1.0,
    groups: int = 1,
    count: int = 1,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str = "cpu",
    generator: torch.Generator | None = None,
) -> tuple[Tensor, Tensor]:
    """Dense orthogonal blocks (torch.nn.init.orthogonal_), then a random mask."""
    weights = torch.empty((count * groups, shape[0] // groups, fan_in(shape)), dtype=torch.float64)
    for block in weights:
        torch.nn.init.orthogonal_(block, gain=gain, generator=generator)
    masks = random_masks(count, shape, density, generator)
    weights = weights.view(count, *shape) * masks
    return weights.to(device=device, dtype=dtype), masks.to(device)


def _blocks(tensor: Tensor, groups: int) -> Tensor:
    """(count, *shape) -> (count * groups, rows, cols * kernel), wide side last."""
    count, rows = tensor.shape[0], tensor.shape[1] // groups
    view = tensor.reshape(count * groups, rows, -1)
    return view.transpose(1, 2) if view.shape[1] > view.shape[2] else view


def isometry_errors(weights: Tensor, gain: float, groups: int) -> Tensor:
    """(count,) max |V V^T - gain^2 I| over each weight's blocks (matrix views)."""
    v = _blocks(weights.detach().to(torch.float64), groups)
    eye = torch.eye(v.shape[1], dtype=torch.float64, device=v.device)
    per_block = (v @ v.transpose(1, 2) - gain**2 * eye).abs().amax(dim=(1, 2))
    return per_block.view(weights.shape[0], groups).amax(dim=1)


def approximate_isometry(
    weights: Tensor,
    masks: Tensor,
    *,
    gain: float = 1.0,
    groups: int = 1,
    steps: int = AI_STEPS,
    learning_rate: float = AI_LEARNING_RATE,
) -> tuple[Tensor, Tensor]:
    """Gradient descent towards (M*W)(M*W)^T = gain^2 I on every block, from `weights`
    (count, *shape) with fixed `masks`. Returns (new weights, errors (count,))."""
    if gain == 0.0:  # the target is W = 0
        return torch.zeros_like(weights), isometry_errors(torch.zeros_like(weights), 0.0, groups)
    v = _blocks(weights.to(torch.float64) / gain, groups).clone()
    m = _blocks(masks, groups)
    v *= m
    eye = torch.eye(v.shape[1], dtype=torch.float64, device=v.device)
    for _ in range(steps):
        # d/dV of 1/4 ||V V^T - I||_F^2 is (V V^T - I) V; the mask keeps zeros at zero.
        v -= learning_rate * ((v @ v.transpose(1, 2) - eye) @ v) * m
    result = _unblock(v * gain, weights, groups)
    return result, isometry_errors(result, gain, groups)


def svd_isometry(
    weights: Tensor,
    masks: Tensor,
    *,
    gain: float = 1.0,
    groups: int = 1,
    iterations: int = SVD_ITERATIONS,
) -> tuple[Tensor, Tensor]:
    """Alternating projections: polar factor gain * U V^T, then the mask, `iterations`
    times. Returns (new weights, errors (count,))."""
    v = _blocks(weights.to(torch.float64), groups)
    m = _blocks(masks, groups)
    for _ in range(iterations):
        u, _, vh = torch.linalg.svd(v, full_matrices=False)
        v = gain * (u @ vh) * m
    result = _unblock(v, weights, groups)
    return result, isometry_errors(result, gain, groups)


def _unblock(blocks: Tensor, like: Tensor, groups: int) -> Tensor:
    """Inverse of _blocks, in like's dtype."""
    rows = like.shape[1] // groups
    if blocks.shape[1] != rows:
        blocks = blocks.transpose(1, 2)
    return blocks.reshape(like.shape).to(like.dtype)
