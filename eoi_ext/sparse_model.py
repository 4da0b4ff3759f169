"""What sparsify leaves on a model: fixed masks, and the handle to inspect or remove them.

Two ways to keep a mask fixed during training (docs/masking.md):

- "hooks" (the default, eoi_ext.gradient_masks): the weight stays the plain parameter
  it was, zero outside its mask; the mask is a bool buffer ``<attr>_eoi_mask``, the
  gradient is masked after backward accumulates it, and optimizers not known to keep
  zeros re-mask after their step. No cost in the forward pass, ties and the state
  dict's weight keys untouched (a Hugging Face save_pretrained / from_pretrained round
  trip works), and the only way under FSDP2, whose parameters are swapped between
  sharded and unsharded tensors around every forward.
- "parametrize" (torch.nn.utils.parametrize): the weight becomes ``original * mask``
  (FixedMask), recomputed in every forward. The masked weight holds by construction,
  whatever writes into ``original``; it costs time in every step, renames the weight's
  state-dict keys and unties tied weights for libraries that re-tie by assignment.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from torch import Tensor, nn
from torch.nn.utils import parametrize
from torch.utils.hooks import RemovableHandle

from .gradient_masks import mask_buffer_name
from .layers import LayerWeight
from .sharding import is_dtensor

__all__ = ["MASKINGS", "FixedMask", "SparseModel", "mask_entries"]

MASKINGS = ("hooks", "parametrize")


class FixedMask(nn.Module):
    """Parametrization weight -> weight * mask, with a fixed bool mask buffer `eoi_mask`.

    `mask` is not an attribute: torch.ao.pruning's sparsifiers write the mask of the
    first parametrization they find (``module.parametrizations.weight[0].mask``), which
    would overwrite this one, so reading it raises, naming the conflict.
    """

    def __init__(self, mask: Tensor) -> None:
        super().__init__()
        self.register_buffer("eoi_mask", mask)

    def forward(self, weight: Tensor) -> Tensor:
        return weight * self.eoi_mask

    @property
    def mask(self) -> Tensor:
        raise RuntimeError(
            "this weight's mask is fixed by eoi_ext (FixedMask, masking='parametrize'); "
            "torch.ao.pruning would overwrite it: sparsify with masking='hooks', whose mask "
            "composes with ao's, or call .remove() on the SparseModel first"
        )


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
        masks: {parameter name: bool mask}, the masks in use (the ``<attr>_eoi_mask``
            buffers, or the FixedMask buffers); a tied weight once, under its first
            supported layer's name (its ties, in `layers`, share the mask).
        densities: {parameter name: target density} from the distribution.
        method: the initialization method.
        info: per-method details: for "ai", "ai_kaiming" and "svd_ai", {"isometry_error":
            {name: error reached}}.
        hooks: {parameter name: its hook handles} under hooks masking.
        masking: "hooks" or "parametrize" (docs/masking.md).

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
    hooks: dict[str, list[RemovableHandle]] = field(default_factory=dict, repr=False)
    masking: str = "hooks"

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
        """Unfixes the masks, leaving the masked weights as plain parameters (for export or
        dense fine-tuning): removes the gradient hooks and mask buffers, or the
        parametrizations. Tied weights stay tied. Returns the model."""
        for layer in self.layers:
            for holder in layer.holders:
                if parametrize.is_parametrized(holder.module, holder.attr):
                    parametrize.remove_parametrizations(
                        holder.module, holder.attr, leave_parametrized=True
                    )
            for handle in self.hooks.pop(layer.name, []):
                handle.remove()
            layer.module._buffers.pop(mask_buffer_name(layer.attr), None)
        return self.model
