"""SNIP masks as the published EOI code computes them (sparselearning/snip_and_grasp.py,
SNIP): on one batch, the saliency of a connection is |dL/dm| for a multiplicative mask m
at 1, that is |dL/dW * W|; the scores are normalized by their sum over every weight, and
the `density * total` largest are kept, globally (ties at the threshold kept too).

One divergence, kept on purpose: the published code scores through a patched forward
that calls F.conv2d, which pads with zeros whatever the conv's padding_mode, so on its
circular-padded CNN the saliencies are those of a zero-padded network. Here the model is
scored as it runs (tests/test_snip.py's reimplementation pads like the model)."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn

from .scoring_copy import saliencies, scoring_copy

__all__ = ["snip_masks"]


def snip_masks(
    model: nn.Module,
    density: float,
    inputs: Tensor,
    targets: Tensor,
    *,
    loss_fn: Callable[[Tensor, Tensor], Tensor] = nn.functional.cross_entropy,
) -> dict[str, Tensor]:
    """SNIP (Lee, Ajanthan and Torr, ICLR 2019): keep the connections whose removal would
    change the loss most, scored on one batch at the model's current weights.

    Args:
        model: the network at its dense initialization; not changed (a copy runs the
            batch, so normalization statistics are untouched too).
        density: fraction of all supported weights' entries to keep, in (0, 1].
        inputs: one batch of inputs.
        targets: its targets.
        loss_fn: loss(outputs, targets); the published code uses nll_loss on
            log-softmax outputs or cross_entropy on logits.

    Returns:
        {weight name: bool mask} for every supported weight (eoi_ext.layers).

    Examples:
        >>> nn = torch.nn
        >>> model = nn.Sequential(nn.Linear(8, 16), nn.Tanh(), nn.Linear(16, 4))
        >>> masks = eoi_ext.mask_sources.snip_masks(
        ...     model, 0.25, torch.randn(32, 8), torch.randint(0, 4, (32,)))
        >>> sum(int(m.sum()) for m in masks.values())  # 25% of 192 entries
        48
    """
    density, twin, layers, weights = scoring_copy(model, density)
    loss = loss_fn(twin(inputs), targets)
    scores = saliencies(torch.autograd.grad(loss, weights, allow_unused=True), weights)
    norm = sum(score.sum() for score in scores)
    flat = torch.cat([score.flatten() for score in scores]) / norm
    keep = int(flat.numel() * density)
    if keep < 1:
        raise ValueError(f"density {density} keeps no entry of the {flat.numel()} weights")
    threshold = torch.topk(flat, keep, sorted=True).values[-1]
    return {
        layer.name: (score / norm >= threshold) for layer, score in zip(layers, scores, strict=True)
    }
