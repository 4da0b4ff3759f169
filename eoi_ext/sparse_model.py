"""What sparsify leaves on a model: fixed masks, and the handle to inspect or remove them.

Masks are kept by torch.nn.utils.parametrize: each sparse weight becomes
``original * mask`` (a FixedMask parametrization holding the mask as a buffer). Chosen
over torch.nn.utils.prune because the parametrization is a module: its mask is in
state_dict, torch.compile traces it as ordinary code (no forward pre-hooks), it composes
with other parametrizations, and nn.RNN modules pick up the masked weights on every
forward. Gradients reach `original` only inside the mask, so any optimizer (momentum,
weight decay, Adam) leaves the effective weight zero outside it.

FSDP2 (fully_shard) swaps the parameters it manages between a sharded DTensor and an
unsharded plain tensor around every forward and backward, so a parametrization cannot
hold them. Their masks live with the shards instead: the mask is a DTensor buffer
``<weight>_mask`` sharded like the weight (in state_dict, a sharded state dict with
DCP), the weights are zero outside it, and a post-accumulate-grad hook on the sharded
parameter zeroes its gradient outside the mask after each reduce-scatter. The gradient
is then the one the parametrized model gets, and every optimizer that leaves a zero
weight with zero gradient and zero state at zero (SGD with momentum and weight decay,
Adam, AdamW, RMSprop, ...) keeps the weights inside the mask
(docs/blocks-and-sharding.md, "FSDP2").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor, nn
from torch.nn.utils import parametrize
from torch.utils.hooks import RemovableHandle

from .layers import LayerWeight
from .sharding import is_dtensor, local

__all__ = [
    "FixedMask",
    "ShardGradientMask",
    "SparseModel",
    "mask_buffer_name",
    "mask_entries",
]


class FixedMask(nn.Module):
    """Parametrization weight -> weight * mask, with a fixed bool mask buffer."""

    def __init__(self, mask: Tensor) -> None:
        super().__init__()
        self.register_buffer("mask", mask)

    def forward(self, weight: Tensor) -> Tensor:
        return weight * self.mask


def mask_buffer_name(attr: str) -> str:
    """The buffer that holds the mask of an FSDP-managed weight `attr` (as
    torch.nn.utils.prune names it)."""
    return f"{attr}_mask"


class ShardGradientMask:
    """Post-accumulate-grad hook of an FSDP-managed (sharded) weight: zeroes the local
    gradient shard outside the local mask shard. Reads the mask buffer from the module on
    every call, so a mask loaded with load_state_dict is the one applied."""

    def __init__(self, module: nn.Module, attr: str) -> None:
        self.module = module
        self.buffer = mask_buffer_name(attr)

    def __call__(self, parameter: Tensor) -> None:
        grad = parameter.grad
        if grad is None:
            return
        mask = getattr(self.module, self.buffer)
        with torch.no_grad():
            local(grad).mul_(local(mask))


def mask_entries(mask: Tensor) -> int:
    """Entries a mask holds; for a sharded (DTensor) mask, summed over the ranks (one
    all_reduce: call it on every rank).

    Args:
        mask: a bool mask, plain or DTensor.

    Returns:
        The number of True entries of the whole mask.

    Examples:
        >>> eoi_ext.sparse_model.mask_entries(torch.eye(3, dtype=torch.bool))
        3
    """
    count = mask.count_nonzero()
    return int(count.full_tensor() if is_dtensor(count) else count)


@dataclass
class SparseModel:
    """The handle sparsify returns.

    Attributes:
        model: the sparsified model (changed in place).
        masks: {parameter name: bool mask}, the masks in use (the FixedMask buffers); a
            tied weight once, under its first supported layer's name (its ties, in
            `layers`, share the mask).
        densities: {parameter name: target density} from the distribution.
        method: the initialization method.
        info: per-method details: for "ai" and "svd_ai", {"isometry_error":
            {name: error reached}}.
        hooks: {parameter name: gradient-mask hook} of FSDP-managed weights (their masks
            are buffers "<weight>_mask", not parametrizations).

    Examples:
        >>> model = torch.nn.Sequential(torch.nn.Linear(16, 32), torch.nn.Linear(32, 8))
        >>> sparse = eoi_ext.sparsify(model, 0.5, distribution="uniform")
        >>> sorted(sparse.masks), round(sparse.density, 1)
        (['0.weight', '1.weight'], 0.5)
        >>> type(sparse.remove()[0].weight)
        <class 'torch.nn.parameter.Parameter'>
    """

    model: nn.Module
    masks: dict[str, Tensor]
    densities: dict[str, float]
    method: str
    info: dict[str, Any] = field(default_factory=dict)
    layers: list[LayerWeight] = field(default_factory=list, repr=False)
    hooks: dict[str, RemovableHandle] = field(default_factory=dict, repr=False)

    @property
    def density(self) -> float:
        """Fraction of mask entries over all sparse weights. With sharded (DTensor) masks
        this sums the shards' counts across ranks (one all_reduce per mask): call it
        on every rank."""
        kept = sum(mask_entries(mask) for mask in self.masks.values())
        return kept / sum(mask.numel() for mask in self.masks.values())

    @property
    def model_density(self) -> float:
        """Density over every weight-like parameter of the model, the weights left dense
        included (eoi_ext.summary.model_density)."""
        from .summary import model_density

        return model_density(self)

    def summary(self) -> str:
        """Per weight: shape, blocks, target and achieved density, ties; the modules left
        dense and why; both densities (eoi_ext.summary.format_summary)."""
        from .summary import format_summary

        return format_summary(self)

    def __str__(self) -> str:
        return self.summary()

    def mask_state_dict(self) -> dict[str, Tensor]:
        """{parameter name: bool mask}, each its own contiguous tensor (a tied weight once):
        for torch.save or safetensors, and eoi_ext.fix_masks to bring them back."""
        return {name: mask.detach().clone().contiguous() for name, mask in self.masks.items()}

    def remove(self) -> nn.Module:
        """Removes the parametrizations, leaving the masked weights as plain parameters
        (for export or dense fine-tuning); for FSDP-managed weights, removes the gradient
        hooks and mask buffers. Tied weights stay tied. Returns the model."""
        for layer in self.layers:
            for holder in layer.holders:
                if parametrize.is_parametrized(holder.module, holder.attr):
                    parametrize.remove_parametrizations(
                        holder.module, holder.attr, leave_parametrized=True
                    )
            handle = self.hooks.pop(layer.name, None)
            if handle is not None:
                handle.remove()
                delattr(layer.module, mask_buffer_name(layer.attr))
        return self.model
