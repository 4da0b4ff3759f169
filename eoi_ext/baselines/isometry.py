"""Approximate isometry from a random sparse start: the alternatives EOI makes exact
(docs/algorithm.md, "Baselines").

Both work on each row block's matrix view (rows, cols * kernel), as Lee et al. do for
convolutions, on the smaller side, and report the error max |V V^T - gain^2 I| of that
view after the last step, per weight: they approach orthogonality, EOI starts there.
"""

from __future__ import annotations

import math
import numbers

import torch
from torch import Tensor

from ..checks import check_gain, check_gain_fits, check_groups, check_size

__all__ = [
    "AI_LEARNING_RATE",
    "AI_STEPS",
    "SVD_ITERATIONS",
    "approximate_isometry",
    "isometry_errors",
    "svd_isometry",
]

AI_STEPS = 100
AI_LEARNING_RATE = 0.1
SVD_ITERATIONS = 10


def _blocks(tensor: Tensor, groups: int) -> Tensor:
    """(count, *shape) -> (count * groups, rows, cols * kernel), wide side last."""
    count, rows = tensor.shape[0], tensor.shape[1] // groups
    view = tensor.reshape(count * groups, rows, -1)
    return view.transpose(1, 2) if view.shape[1] > view.shape[2] else view


def _unblock(blocks: Tensor, like: Tensor, groups: int) -> Tensor:
    """Inverse of _blocks, in like's dtype."""
    rows = like.shape[1] // groups
    if blocks.shape[1] != rows:
        blocks = blocks.transpose(1, 2)
    return blocks.reshape(like.shape).to(like.dtype)


def isometry_errors(weights: Tensor, gain: float, groups: int) -> Tensor:
    """How far each weight's blocks are from orthogonal.

    Args:
        weights: (count, *shape).
        gain: the scale the blocks should have.
        groups: row blocks per weight.

    Returns:
        (count,) float64: max |V V^T - gain^2 I| over each weight's blocks V.

    Examples:
        >>> W, _ = eoi_ext.sparse_orthogonal_batch(2, 16, 16, 0.3, dtype=torch.float64)
        >>> bool((eoi_ext.baselines.isometry_errors(W, 1.0, 1) < 1e-12).all())
        True
    """
    v = _blocks(weights.detach().to(torch.float64), groups)
    eye = torch.eye(v.shape[1], dtype=torch.float64, device=v.device)
    per_block = (v @ v.transpose(1, 2) - gain**2 * eye).abs().amax(dim=(1, 2))
    return per_block.view(weights.shape[0], groups).amax(dim=1)


def _check_isometry_args(weights: Tensor, masks: Tensor, gain: object, groups: object) -> float:
    """The shared arguments: (count, *shape) weights, bool masks like them, gain, groups."""
    if not isinstance(weights, Tensor) or weights.dim() < 3 or not weights.is_floating_point():
        raise TypeError("weights must be a floating-point (count, *shape) stack of weights")
    if not isinstance(masks, Tensor) or masks.dtype != torch.bool or masks.shape != weights.shape:
        raise ValueError(f"masks must be a bool tensor of weights' shape {tuple(weights.shape)}")
    check_groups(groups, weights.shape[1])
    return check_gain_fits(check_gain(gain), weights.dtype)


def approximate_isometry(
    weights: Tensor,
    masks: Tensor,
    *,
    gain: float = 1.0,
    groups: int = 1,
    steps: int = AI_STEPS,
    learning_rate: float = AI_LEARNING_RATE,
) -> tuple[Tensor, Tensor]:
    """Approximate isometry ("ai_kaiming"): gradient descent on
    1/4 ||(M*W)(M*W)^T - gain^2 I||_F^2 per block with the masks fixed.

    From Lee, Ajanthan, Gould and Torr, "A Signal Propagation Perspective for Pruning
    Neural Networks at Initialization" (ICLR 2020).

    Args:
        weights: (count, *shape) starting values (e.g. random_sparse).
        masks: (count, *shape) bool masks, kept fixed.
        gain: the scale the blocks should reach.
        groups: row blocks per weight, each its own matrix.
        steps: gradient steps.
        learning_rate: step size.

    Returns:
        (new weights in weights' dtype, errors (count,) after the last step).

    Examples:
        >>> w, m = eoi_ext.baselines.random_sparse((32, 32), 0.5, count=2)
        >>> new, errors = eoi_ext.baselines.approximate_isometry(w, m, steps=50)
        >>> bool((errors < eoi_ext.baselines.isometry_errors(w, 1.0, 1)).all())
        True
    """
    gain = _check_isometry_args(weights, masks, gain, groups)
    steps = check_size(steps, "steps", minimum=0)
    if (
        isinstance(learning_rate, bool)
        or not isinstance(learning_rate, numbers.Real)
        or not (math.isfinite(learning_rate) and learning_rate > 0)
    ):
        raise ValueError(f"learning_rate must be a finite real number > 0, got {learning_rate!r}")
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
    """SVD-based approximate isometry ("svd_ai"): alternate W <- gain * U V^T (the polar
    factor, the nearest orthogonal matrix) and W <- M * W.

    Args:
        weights: (count, *shape) starting values.
        masks: (count, *shape) bool masks.
        gain: the scale the blocks should reach.
        groups: row blocks per weight, each its own matrix.
        iterations: projection rounds.

    Returns:
        (new weights in weights' dtype, errors (count,) after the last round).

    Examples:
        >>> w, m = eoi_ext.baselines.random_sparse((32, 32), 0.5)
        >>> new, errors = eoi_ext.baselines.svd_isometry(w, m, iterations=5)
        >>> bool((new[~m] == 0).all()), float(errors[0]) > 1e-3  # sparse, not orthogonal
        (True, True)
    """
    gain = _check_isometry_args(weights, masks, gain, groups)
    iterations = check_size(iterations, "iterations", minimum=0)
    v = _blocks(weights.to(torch.float64), groups)
    m = _blocks(masks, groups)
    for _ in range(iterations):
        u, _, vh = torch.linalg.svd(v, full_matrices=False)
        v = gain * (u @ vh) * m
    result = _unblock(v, weights, groups)
    return result, isometry_errors(result, gain, groups)
