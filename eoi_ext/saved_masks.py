"""Masks that survive a save (docs/reliability.md, "Masks that survive a save").

Two ways back to a sparse model, both all or nothing (eoi_ext.model_changes):

- :func:`fix_masks`: given masks ({parameter name: bool mask}, e.g. a SparseModel's
  mask_state_dict() saved with torch.save or safetensors) are fixed on a model's
  weights as they are, zero outside the mask, without re-initializing. This is the way
  back from a dense export: remove(), save_pretrained, from_pretrained, fix_masks.
- :func:`load_sparse`: the state dict of a sparsified model (its keys hold
  ``parametrizations.<attr>.original`` and ``parametrizations.<attr>.0.mask``) is
  loaded into a fresh model of the same architecture, whose plain load_state_dict
  would refuse those keys.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import Tensor, nn

from .checks import check_model
from .layer_checks import check_layer
from .layer_weight import qualified_name
from .layers import require_layer_weights
from .model_changes import change_model
from .sharding import fsdp_parameters, is_dtensor
from .sparse_model import SparseModel, mask_entries

__all__ = ["fix_masks", "load_sparse"]

_MASK_KEY = ".0.mask"


def fix_masks(
    model: nn.Module, masks: Mapping[str, Tensor], *, blocks: Mapping[str, int] | None = None
) -> SparseModel:
    """Fixes given masks on a model's weights, keeping their values inside the mask.

    Args:
        model: the network, changed in place (weights outside their masks become zero).
        masks: {parameter name: bool mask of the weight's shape}; weights without one
            stay dense. A tied weight under any of its holders' names.
        blocks: row blocks by module name pattern, as for sparsify.

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
    chosen = _layers_with_masks(model, masks, blocks)
    values = {name: layer.parameter.detach() * mask for name, (layer, mask) in chosen.items()}
    return _fix(model, chosen, values)


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
    masks = {_weight_name(key): value for key, value in state_dict.items() if _weight_name(key)}
    if not masks:
        raise ValueError(
            "state_dict holds no eoi_ext masks (keys '<module>.parametrizations.<attr>.0.mask')"
        )
    chosen = _layers_with_masks(model, masks, None)
    _check_keys(model, state_dict, chosen)
    values = {
        # A copy: change_model swaps the old weights into the values it is given.
        name: state_dict[_original_key(name)].to(
            dtype=layer.parameter.dtype, device=layer.parameter.device, copy=True
        )
        for name, (layer, _) in chosen.items()
    }
    sparse = _fix(model, chosen, values)
    model.load_state_dict(state_dict)  # every key and shape was checked above
    return sparse


def _weight_name(key: str) -> str | None:
    """The weight whose mask `key` holds ('<module>.parametrizations.<attr>.0.mask', the
    module possibly the model itself), or None for any other key."""
    parts = key[: -len(_MASK_KEY)].split(".") if key.endswith(_MASK_KEY) else []
    if len(parts) < 2 or parts[-2] != "parametrizations":
        return None
    return qualified_name(".".join(parts[:-2]), parts[-1])


def _original_key(name: str) -> str:
    prefix, _, attr = name.rpartition(".")
    return qualified_name(prefix, f"parametrizations.{attr}.original")


def _check_keys(model: nn.Module, state_dict: Mapping[str, Tensor], chosen: dict) -> None:
    """The keys and shapes the model will have once its masks are fixed must be the
    state dict's, so that load_state_dict cannot fail half way."""
    expected = {key: tuple(value.shape) for key, value in model.state_dict().items()}
    for layer, _ in chosen.values():
        for holder in layer.holders:
            shape = expected.pop(holder.name)
            original = _original_key(holder.name)
            expected[original] = shape
            expected[original[: -len(".original")] + _MASK_KEY] = shape
    missing = sorted(set(expected) - set(state_dict))
    unexpected = sorted(set(state_dict) - set(expected))
    if missing or unexpected:
        raise ValueError(
            f"state_dict does not match the model: missing {missing[:5]}, unexpected "
            f"{unexpected[:5]}"
        )
    for key, shape in expected.items():
        if tuple(state_dict[key].shape) != shape:
            raise ValueError(
                f"state_dict[{key!r}] has shape {tuple(state_dict[key].shape)}, the model {shape}"
            )


def _layers_with_masks(
    model: nn.Module, masks: Mapping[str, Tensor], blocks: Mapping[str, int] | None
) -> dict[str, tuple]:
    """{weight name: (layer, mask on its device)}, every mask checked against its weight."""
    layers, _ = require_layer_weights(model, blocks)
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
        check_layer(layer, fsdp)
        chosen[layer.name] = (layer, mask.to(weight.device))
    return chosen


def _fix(model: nn.Module, chosen: dict[str, tuple], values: dict[str, Tensor]) -> SparseModel:
    layers = [layer for layer, _ in chosen.values()]
    built = {name: (values[name], mask, None) for name, (_, mask) in chosen.items()}
    with torch.no_grad():
        masks, hooks = change_model(layers, built, {}, fsdp_parameters(model))
    densities = {name: mask_entries(mask) / mask.numel() for name, mask in masks.items()}
    return SparseModel(model, masks, densities, "given", {}, layers, hooks)
