"""Whether sparsify can change a layer: every reason it cannot, found before anything is
computed or written, and named (docs/reliability.md, "Nothing half-changed").

sparsify writes each weight and bias in place and fixes its mask (a buffer and hooks,
or a parametrization; docs/masking.md). A weight that is not one plain trainable tensor
(another parametrization, a pruned or old-style weight-normed module computing it in a
forward pre-hook), or a tensor that cannot be written in place (expanded, created in
inference mode, on the meta device), would otherwise fail half way through the model.
"""

from __future__ import annotations

from torch import Tensor, nn
from torch.nn.utils import parametrize

from .gradient_masks import mask_buffer_name
from .layers import LayerWeight
from .sharding import is_dtensor, local, local_block
from .sparse_model import FixedMask
from .tied_weights import Holder

__all__ = ["check_layer", "check_writable"]


def check_layer(layer: LayerWeight, fsdp_managed: set[int], masking: str = "hooks") -> None:
    """Raises, naming the weight and what is in the way, unless sparsify can change it.

    Args:
        layer: a supported weight (eoi_ext.layers), with its ties.
        fsdp_managed: ids of the parameters FSDP2 manages (eoi_ext.sharding).
        masking: how the mask will be fixed ("hooks" or "parametrize").

    Examples:
        >>> layer = torch.nn.utils.parametrizations.weight_norm(torch.nn.Linear(4, 4))
        >>> weight = eoi_ext.layers.find_layer_weights(layer)[0][0]
        >>> eoi_ext.layer_checks.check_layer(weight, set())
        Traceback (most recent call last):
        ...
        ValueError: weight is parametrized by _WeightNorm (torch.nn.utils.parametrize): ...
    """
    for holder in layer.holders:
        _check_holder(holder)
    weight = layer.parameter
    if not weight.is_floating_point():
        raise TypeError(f"{layer.name} must be floating point, got {weight.dtype}")
    # Masks are data: a meta weight would get a meta mask, left uninitialized by a later
    # to_empty. So a model built on the meta device is materialized first.
    if local(weight).device.type == "meta":
        raise ValueError(
            f"{layer.name} is on the meta device: materialize the model first "
            "(model.to_empty(device=...)), then sparsify it"
        )
    if id(weight) in fsdp_managed and not is_dtensor(weight):
        raise ValueError(
            f"{layer.name} is managed by FSDP but unsharded (after a forward with "
            "reshard_after_forward=False?): call model.reshard() first, then sparsify"
        )
    if masking == "parametrize" and id(weight) in fsdp_managed:
        raise ValueError(
            f"{layer.name} is managed by FSDP2, which swaps its tensor around every forward: "
            "a parametrization cannot hold it; use masking='hooks'"
        )
    check_writable(weight, layer.name)
    for holder in layer.holders:
        bias = None if holder.bias is None else getattr(holder.module, holder.bias)
        if bias is not None:
            if not bias.is_floating_point():
                raise TypeError(f"{holder.bias_name} must be floating point, got {bias.dtype}")
            check_writable(bias, holder.bias_name)


def check_writable(tensor: Tensor, name: str) -> None:
    """Raises unless `tensor` (or its DTensor shard) can be overwritten in place.

    Args:
        tensor: a weight or bias.
        name: its name in the error.

    Examples:
        >>> eoi_ext.layer_checks.check_writable(torch.zeros(1, 3).expand(4, 3), "weight")
        Traceback (most recent call last):
        ...
        ValueError: weight has overlapping memory (an expanded tensor?) ...
    """
    local_block(tensor)  # raises on placements other than Shard(0/1), Replicate
    shard = local(tensor)
    if shard.is_inference():
        raise ValueError(
            f"{name} was created in torch.inference_mode() and cannot be changed outside "
            "it: build the model outside inference mode (or clone its parameters)"
        )
    if any(
        stride == 0 and size > 1 for stride, size in zip(shard.stride(), shard.shape, strict=True)
    ):
        raise ValueError(
            f"{name} has overlapping memory (an expanded tensor?) and cannot be written in "
            "place: give it its own storage (.clone()) first"
        )


def _check_holder(holder: Holder) -> None:
    module, attr = holder.module, holder.attr
    if parametrize.is_parametrized(module, attr):
        found = list(module.parametrizations[attr])
        if any(isinstance(p, FixedMask) for p in found):
            raise ValueError(
                f"{holder.name} already has an eoi_ext mask (was the model sparsified "
                "already? call .remove() on its SparseModel first)"
            )
        kinds = ", ".join(type(p).__name__ for p in found)
        raise ValueError(
            f"{holder.name} is parametrized by {kinds} (torch.nn.utils.parametrize): call "
            f"parametrize.remove_parametrizations(module, {attr!r}) first"
        )
    if f"{attr}_orig" in module._parameters and f"{attr}_u" in module._buffers:
        raise ValueError(
            f"{holder.name} is computed by torch.nn.utils.spectral_norm from {attr}_orig (its "
            "forward rescales the weight): call torch.nn.utils.remove_spectral_norm(module, "
            f"{attr!r}) first"
        )
    if f"{attr}_orig" in module._parameters:
        raise ValueError(
            f"{holder.name} is pruned by torch.nn.utils.prune (it holds {attr}_orig and "
            f"{attr}_mask): call torch.nn.utils.prune.remove(module, {attr!r}) first"
        )
    if f"{attr}_g" in module._parameters and f"{attr}_v" in module._parameters:
        raise ValueError(
            f"{holder.name} is computed by torch.nn.utils.weight_norm from {attr}_g and "
            f"{attr}_v: call torch.nn.utils.remove_weight_norm(module, {attr!r}) first"
        )
    if mask_buffer_name(attr) in module._buffers:
        raise ValueError(
            f"{holder.name} already has an eoi_ext mask buffer {mask_buffer_name(attr)} (was "
            "the model sparsified already? call .remove() on its SparseModel first)"
        )
    if not isinstance(module._parameters.get(attr), nn.Parameter):
        raise ValueError(
            f"{holder.name} is not a parameter of its module (computed in a forward hook?): "
            "sparsify initializes and masks nn.Parameter weights"
        )
