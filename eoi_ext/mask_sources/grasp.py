"""GraSP masks as the published EOI code computes them (sparselearning/snip_and_grasp.py,
GraSP_v2; Wang, Zhang and Grosse, ICLR 2020): with logits divided by a temperature of
200, g is the loss gradient summed over every batch given, and the score of a weight is
(H g) * W, the Hessian-gradient product from a second pass; the scores, normalized by
|their sum|, are removed from the largest down, globally, until `density` remains."""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import Tensor, nn

from .scoring_copy import scoring_copy

__all__ = ["GRASP_TEMPERATURE", "grasp_masks"]

GRASP_TEMPERATURE = 200.0
_EPS = 1e-10


def grasp_masks(
    model: nn.Module,
    density: float,
    batches: Iterable[tuple[Tensor, Tensor]],
    *,
    temperature: float = GRASP_TEMPERATURE,
) -> dict[str, Tensor]:
    """GraSP (Wang, Zhang and Grosse, ICLR 2020): keep the weights whose removal would
    least reduce the gradient flow, as published (temperature 200, every batch twice).

    Args:
        model: the network at its dense initialization; not changed (a copy runs the
            batches, in the model's mode).
        density: fraction of all supported weights' entries to keep, in (0, 1].
        batches: (inputs, targets) pairs, iterated twice (a list, or a DataLoader); the
            published code passes its whole training loader.
        temperature: the logits are divided by it.

    Returns:
        {weight name: bool mask} for every supported weight (eoi_ext.layers).

    Examples:
        >>> nn = torch.nn
        >>> model = nn.Sequential(nn.Linear(8, 16), nn.Tanh(), nn.Linear(16, 4))
        >>> batch = (torch.randn(32, 8), torch.randint(0, 4, (32,)))
        >>> masks = eoi_ext.mask_sources.grasp_masks(model, 0.25, [batch])
        >>> sum(int(m.sum()) for m in masks.values())  # 25% of 192 entries
        48
    """
    density, twin, layers, weights = scoring_copy(model, density)
    for weight in weights:
        weight.grad = None
    stopped: Tensor | int = 0
    for inputs, targets in batches:  # g, without a graph
        loss = nn.functional.cross_entropy(twin(inputs) / temperature, targets)
        grads = torch.autograd.grad(loss, weights)
        stopped = stopped + torch.cat([g.reshape(-1) for g in grads])
    if isinstance(stopped, int):
        raise ValueError("batches is empty")
    for inputs, targets in batches:  # H g, accumulated into .grad
        loss = nn.functional.cross_entropy(twin(inputs) / temperature, targets)
        grads = torch.autograd.grad(loss, weights, create_graph=True)
        (stopped * torch.cat([g.reshape(-1) for g in grads])).sum().backward()
    scores = [(w.grad * w.data).detach() for w in weights]
    flat = torch.cat([score.flatten() for score in scores])
    norm = flat.sum().abs() + _EPS
    flat = flat / norm
    removed = int(flat.numel() * (1 - density))
    # The published rule: remove the `removed` largest; with none, the largest anyway.
    top = torch.topk(flat, removed, sorted=True).values if removed else flat.new_empty(0)
    threshold = top[-1] if len(top) else flat.max()
    return {
        layer.name: score / norm < threshold for layer, score in zip(layers, scores, strict=True)
    }
