"""What every mask source starts from: the arguments checked, and a copy of the model to
score, so that the user's model, its gradients and its normalization statistics stay as
they were; and the |dL/dW * W| saliency that SNIP and SynFlow share."""

from __future__ import annotations

import copy
from collections.abc import Sequence

import torch
from torch import Tensor, nn

from ..checks import check_density, check_model
from ..layers import LayerWeight, require_layer_weights

__all__ = ["saliencies", "scoring_copy"]


def scoring_copy(
    model: nn.Module, density: float
) -> tuple[float, nn.Module, list[LayerWeight], list[Tensor]]:
    """(density checked, a deep copy of the model, its supported weights, their tensors)."""
    check_model(model)
    density = check_density(density)
    twin = copy.deepcopy(model)
    layers, _ = require_layer_weights(twin)
    return density, twin, layers, [layer.parameter for layer in layers]


def saliencies(grads: Sequence[Tensor | None], weights: Sequence[Tensor]) -> list[Tensor]:
    """|g * W| per weight, zero where the loss does not reach a weight (g None)."""
    return [
        (torch.zeros_like(w) if g is None else g * w).detach().abs()
        for g, w in zip(grads, weights, strict=True)
    ]
