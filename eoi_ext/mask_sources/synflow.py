"""SynFlow masks as the published EOI code computes them (sparselearning/synflow.py,
synflow_prune_loop with SynFlowPruner: global scope, exponential schedule, 100 rounds,
eval mode). Data-free: with every parameter and buffer made positive, the saliency of a
weight is |dR/dW * W| for R the sum of the outputs on an all-ones input; each round
prunes globally to density ** (round / rounds), the pruned weights zeroed, and scores
again (Tanaka et al., NeurIPS 2020)."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from ..checks import check_size
from .scoring_copy import saliencies, scoring_copy

__all__ = ["SYNFLOW_ROUNDS", "synflow_masks"]

SYNFLOW_ROUNDS = 100


def synflow_masks(
    model: nn.Module,
    density: float,
    input_shape: tuple[int, ...],
    *,
    rounds: int = SYNFLOW_ROUNDS,
) -> dict[str, Tensor]:
    """SynFlow (Tanaka, Kunin, Yamins and Ganguli, NeurIPS 2020): iterative, data-free
    pruning by synaptic flow, global, exponential schedule, as published.

    Args:
        model: the network at its dense initialization; not changed (a copy in eval
            mode is made positive and pruned).
        density: fraction of all supported weights' entries to keep, in (0, 1].
        input_shape: one input's shape, without the batch dimension.
        rounds: score-and-prune rounds (the published 100).

    Returns:
        {weight name: bool mask} for every supported weight (eoi_ext.layers).

    Raises:
        ValueError: a round would empty a layer. Where the positive network saturates
            (tanh of large inputs has a derivative of exactly 0 in float32), every score
            of a layer is 0, and the published rule `score > threshold` prunes all of
            it, far past the round's quota; the error names the layers.

    Examples:
        >>> nn = torch.nn
        >>> model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 4))
        >>> masks = eoi_ext.mask_sources.synflow_masks(model, 0.25, (8,), rounds=10)
        >>> sum(int(m.sum()) for m in masks.values())  # 25% of 192 entries
        48
    """
    rounds = check_size(rounds, "rounds")
    density, twin, layers, weights = scoring_copy(model, density)
    twin.eval()
    masks = [torch.ones_like(w, dtype=torch.bool) for w in weights]
    with torch.no_grad():
        for tensor in twin.state_dict().values():  # the published linearize
            tensor.abs_()
    dtype = weights[0].dtype
    ones = torch.ones(1, *input_shape, dtype=dtype, device=weights[0].device)
    for index in range(rounds):
        grads = torch.autograd.grad(twin(ones).sum(), weights, allow_unused=True)
        scores = saliencies(grads, weights)
        keep = density ** ((index + 1) / rounds)
        flat = torch.cat([score.flatten() for score in scores])
        prune = int((1.0 - keep) * flat.numel())
        if prune >= 1:  # below one the published loop keeps the masks as they are
            threshold = torch.kthvalue(flat, prune).values
            masks = [score > threshold for score in scores]
            _check_flow(layers, masks, index, rounds)
        with torch.no_grad():
            for weight, mask in zip(weights, masks, strict=True):
                weight.mul_(mask)
    return {layer.name: mask for layer, mask in zip(layers, masks, strict=True)}


def _check_flow(layers: list, masks: list[Tensor], index: int, rounds: int) -> None:
    """No silent empty masks (docs/reliability.md): sparsify would refuse them later,
    without the cause."""
    empty = [layer.name for layer, mask in zip(layers, masks, strict=True) if not mask.any()]
    if empty:
        raise ValueError(
            f"synflow_masks: round {index + 1} of {rounds} prunes every weight of "
            f"{', '.join(empty)}: the synaptic flow through them underflowed to 0 (a "
            "saturating activation on the all-positive network?). Score the model at a "
            "smaller weight scale, or in float64 (model.double())"
        )
