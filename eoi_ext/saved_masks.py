"""Masks that survive a save (docs/masking.md, "Saving and loading").

- eoi_ext.mask_keys.masks_in: the eoi_ext masks of any state dict, by weight name: the buffers
  ``<module>.<attr>_eoi_mask`` (hooks masking) and ``<module>.parametrizations.<attr>.0.
  eoi_mask`` (parametrize masking). A Hugging Face checkpoint keeps the buffers beside
  the weights, so save_pretrained, from_pretrained, then fix_masks(model,
  masks_in(checkpoint)) is the round trip.
- :func:`fix_masks`: given masks ({weight name: bool mask}, e.g. a SparseModel's
  mask_state_dict() saved with torch.save or safetensors) are fixed on a model's
  weights as they are, zero outside the mask, without re-initializing.
- :func:`load_sparse`: the whole state dict of a sparsified model is loaded into a fresh
  model of the same architecture: masks fixed (as the state dict kept them), then every
  value loaded. Both are all or nothing (eoi_ext.model_changes).
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import Tensor, nn

from .checks import check_choice, check_model
from .layer_checks import check_layer
from .layers import require_layer_weights
from .mask_keys import FIXED_SUFFIX, check_keys, masks_in, weight_key
from .model_changes import change_model
from .sharding import fsdp_parameters, is_dtensor
from .sparse_model import MASKINGS, SparseModel, mask_entries

__all__ = ["fix_masks", "load_sparse"]


def fix_masks(
    model: nn.Module,
    masks: Mapping[str, Tensor],
    *,
    blocks: Mapping[str, int] | None = None,
    masking: str = "hooks",
) -> SparseModel:
    """Fixes given masks on a model's weights, keeping their values inside the mask.

    Args:
        model: the network, changed in place (weights outside their masks become zero).
        masks: {parameter name: bool mask of the weight's shape}; weights without one
            stay dense. A tied weight under any of its holders' names; embeddings too.
        blocks: row blocks by module name pattern, as for sparsify.
        masking: "hooks" or "parametrize", as for sparsify.

    Returns:
        A SparseModel (method "given"; densities are the masks').

    Examples:
        >>> model = torch.nn.Sequential(torch.nn.Linear(8, 8))
        >>> saved = eoi_ext.sparsify(model, 0.5, distribution="uniform").mask_state_dict()
        >>> fresh = torch.nn.Sequential(torch.nn.Linear(8, 8))
        >>> sparse = eoi_ext.fix_masks(fresh, saved)
        >>> bool(torch.equal(sparse.masks["0.weight"], saved["0.weight"]))
        True
    """
    check_model(model)
    if not isinstance(masks, Mapping):
        raise TypeError(f"masks must map parameter names to masks, got {type(masks).__name__}")
    check_choice(masking, MASKINGS, "masking")
    chosen = _layers_with_masks(model, masks, blocks, masking)
    values = {name: layer.parameter.detach() * mask for name, (layer, mask) in chosen.items()}
    return _fix(model, chosen, values, masking)


def load_sparse(model: nn.Module, state_dict: Mapping[str, Tensor]) -> SparseModel:
    """Loads a sparsified model's state dict into a fresh model: its masks fixed, every
    value loaded.

    Args:
        model: a fresh (not sparsified) instance of the saved architecture.
        state_dict: the sparsified model's state_dict() (torch.save / torch.load).

    Returns:
        A SparseModel over `model`.

    Examples:
        >>> source = torch.nn.Sequential(torch.nn.Linear(8, 8))
        >>> _ = eoi_ext.sparsify(source, 0.5, distribution="uniform")
        >>> fresh = torch.nn.Sequential(torch.nn.Linear(8, 8))
        >>> _ = eoi_ext.load_sparse(fresh, source.state_dict())
        >>> bool(torch.equal(fresh[0].weight, source[0].weight))
        True
    """
    check_model(model)
    if not isinstance(state_dict, Mapping):
        raise TypeError(f"state_dict must be a mapping, got {type(state_dict).__name__}")
    masks = masks_in(state_dict)
    if not masks:
        raise ValueError(
            "state_dict holds no eoi_ext masks (keys '<module>.<attr>_eoi_mask' or "
            "'<module>.parametrizations.<attr>.0.eoi_mask')"
        )
    parametrized = any(key.endswith(FIXED_SUFFIX) for key in state_dict)
    masking = "parametrize" if parametrized else "hooks"
    chosen = _layers_with_masks(model, masks, None, masking)
    ties_absent = check_keys(model, state_dict, chosen, masking)
    values = {
        # A copy: change_model swaps the old weights into the values it is given.
        name: state_dict[weight_key(name, masking)].to(
            dtype=layer.parameter.dtype, device=layer.parameter.device, copy=True
        )
        for name, (layer, _) in chosen.items()
    }
    sparse = _fix(model, chosen, values, masking)
    model.load_state_dict(state_dict, strict=not ties_absent)  # every key checked above
    return sparse


def _layers_with_masks(
    model: nn.Module, masks: Mapping[str, Tensor], blocks: Mapping[str, int] | None, masking: str
) -> dict[str, tuple]:
    """{weight name: (layer, mask on its device)}, every mask checked against its weight."""
    layers, _ = require_layer_weights(model, blocks, embeddings=True)
    by_name = {holder.name: layer for layer in layers for holder in layer.holders}
    unknown = sorted(set(masks) - set(by_name))
    if unknown:
        raise ValueError(
            f"masks name weights the model has no supported layer for: {', '.join(unknown)}"
        )
    fsdp = fsdp_parameters(model)
    chosen = {}
    for name, mask in masks.items():
        layer = by_name[name]
        weight = layer.parameter
        if not isinstance(mask, Tensor) or mask.dtype != torch.bool or is_dtensor(mask):
            raise TypeError(f"mask for {name} must be a plain bool tensor, got {type(mask)}")
        if tuple(mask.shape) != tuple(weight.shape):
            raise ValueError(
                f"mask for {name} has shape {tuple(mask.shape)}, the weight {tuple(weight.shape)}"
            )
        if is_dtensor(weight):
            raise ValueError(f"{name} is sharded: fix its mask before sharding the model")
        if layer.name in chosen:  # another holder of a tied weight (a state dict has each)
            if not torch.equal(chosen[layer.name][1], mask.to(weight.device)):
                raise ValueError(f"masks for {name} and {layer.name}, one tied weight, differ")
            continue
        check_layer(layer, fsdp, masking)
        chosen[layer.name] = (layer, mask.to(weight.device))
    return chosen


def _fix(
    model: nn.Module, chosen: dict[str, tuple], values: dict[str, Tensor], masking: str
) -> SparseModel:
    layers = [layer for layer, _ in chosen.values()]
    built = {name: (values[name], mask, None) for name, (_, mask) in chosen.items()}
    with torch.no_grad():
        masks, hooks = change_model(layers, built, {}, masking)
    densities = {name: mask_entries(mask) / mask.numel() for name, mask in masks.items()}
    return SparseModel(model, masks, densities, "given", {}, layers, hooks, masking)
