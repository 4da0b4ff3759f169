"""Approximate isometry as the published EOI code runs it ("ai";
sparselearning/weight_preprocesser.py, ApproximateIsometryPreprocesser; docs/algorithm.md,
"Baselines").

It differs from "ai_kaiming" (approximate_isometry) in the objective, the unsquared
||(M*W)(M*W)^T - gain^2 I||_F on the smaller side, and in the start: the paper's base,
the masked orthogonal weights (orthogonal_base, not rescaled), the mask kept. Plain SGD with
learning rate 0.1; 1000 iterations, as in the paper's deep experiments (the published
default is 10000).
"""

from __future__ import annotations

import torch
from torch import Tensor

from ..checks import check_size
from ..progress import report
from .isometry import _blocks, _check_isometry_args, _unblock, isometry_errors

__all__ = ["PUBLISHED_AI_ITERATIONS", "published_isometry"]

PUBLISHED_AI_ITERATIONS = 1000
PUBLISHED_AI_LEARNING_RATE = 0.1


def published_isometry(
    weights: Tensor,
    masks: Tensor,
    *,
    gain: float = 1.0,
    groups: int = 1,
    iterations: int = PUBLISHED_AI_ITERATIONS,
) -> tuple[Tensor, Tensor]:
    """SGD (learning rate 0.1) on ||(M*W)(M*W)^T - gain^2 I||_F per block, masks fixed.

    Lee et al. (ICLR 2020) as the published EOI code (Nowak et al., ICML 2024) runs it:
    each weight's loss is the Frobenius norm itself, not its square, and the gradient of
    a sum of per-weight losses moves each weight by its own. Computed in float64. Each
    step is reported to eoi_ext.progress as "ai".

    Args:
        weights: (count, *shape) starting values (the published start: orthogonal_base).
        masks: (count, *shape) bool masks, kept fixed.
        gain: the scale the blocks should reach (the published sigma_w).
        groups: row blocks per weight, each its own matrix (1 as published).
        iterations: SGD steps.

    Returns:
        (new weights in weights' dtype, errors (count,) max |V V^T - gain^2 I| after the
        last step).

    Examples:
        >>> w, m = eoi_ext.baselines.orthogonal_base((32, 32), 0.5, count=2)
        >>> new, errors = eoi_ext.baselines.published_isometry(w, m, iterations=100)
        >>> bool((errors < eoi_ext.baselines.isometry_errors(w, 1.0, 1)).all())
        True
    """
    gain = _check_isometry_args(weights, masks, gain, groups)
    iterations = check_size(iterations, "iterations", minimum=0)
    v = _blocks(weights.to(torch.float64), groups).clone()
    m = _blocks(masks, groups).to(torch.float64)
    v *= m
    eye = gain**2 * torch.eye(v.shape[1], dtype=torch.float64, device=v.device)
    for step in range(iterations):
        # d/dV ||E||_F = 2 E V / ||E||_F for E = V V^T - gain^2 I (symmetric); at E = 0
        # the minimum is reached and the step is zero.
        residual = v @ v.transpose(1, 2) - eye
        norms = torch.linalg.matrix_norm(residual).clamp_min(torch.finfo(torch.float64).tiny)
        v -= PUBLISHED_AI_LEARNING_RATE * (2 * residual @ v / norms[:, None, None]) * m
        report("ai", step + 1, iterations)  # eoi_ext/progress.py
    result = _unblock(v, weights, groups)
    return result, isometry_errors(result, gain, groups)
