"""The only place sparsify changes a model: all of it, or on any failure none of it
(docs/reliability.md, "Nothing half-changed").

Everything that can be checked is checked before (eoi_ext.layer_checks) and every value
is computed before (eoi_ext.layer_values). What torch can still refuse late, or a
KeyboardInterrupt, is undone: each change is recorded with its inverse *before* it is
made, and on any exception the inverses run in reverse order and the exception goes on.
A written tensor's old values are kept in the buffer its new values came from (a swap
through one layer-sized temporary), so the undo log costs no second copy of the model.
Python delivers signals between bytecodes, and each step below is one torch call, so an
interrupt always finds the log describing what was changed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import torch
from torch import Tensor
from torch.nn.utils import parametrize
from torch.utils.hooks import RemovableHandle

from .gradient_masks import MaskGuard, hook_gradient, mask_buffer_name
from .layers import LayerWeight
from .sharding import is_dtensor, like_dtensor, local
from .sparse_model import FixedMask

__all__ = ["change_model"]

Undo = list[Callable[[], object]]


@contextmanager
def _all_or_nothing() -> Iterator[Undo]:
    undo: Undo = []
    try:
        yield undo
    except BaseException:
        with torch.no_grad():
            for inverse in reversed(undo):
                inverse()
        raise


def change_model(
    layers: list[LayerWeight],
    built: dict[str, tuple[Tensor, Tensor, float | None]],
    biases: dict[str, Tensor],
    masking: str = "hooks",
) -> tuple[dict[str, Tensor], dict[str, list[RemovableHandle]]]:
    """Writes the weights and biases and fixes the masks, all or nothing.

    Args:
        layers: the weights, each tensor once with its ties (eoi_ext.layers).
        built: {weight name: (values, mask, error)}; values become the old weights.
        biases: {bias name: values}; values become the old biases.
        masking: "hooks" (a mask buffer and a gradient hook, eoi_ext.gradient_masks) or
            "parametrize" (a FixedMask parametrization on every holder).

    Returns:
        ({weight name: mask in use}, {weight name: hook handles (hooks masking)}).

    Examples:
        >>> layer = torch.nn.Linear(2, 2, bias=False)
        >>> weights, _ = eoi_ext.layers.find_layer_weights(layer)
        >>> built = {"weight": (torch.eye(2), torch.eye(2, dtype=torch.bool), None)}
        >>> masks, _ = eoi_ext.model_changes.change_model(weights, built, {})
        >>> layer.weight.tolist(), masks["weight"].sum().item()
        ([[1.0, 0.0], [0.0, 1.0]], 2)
    """
    masks: dict[str, Tensor] = {}
    hooks: dict[str, list[RemovableHandle]] = {}
    with _all_or_nothing() as undo, torch.no_grad():
        for layer in layers:
            _swap_in(local(layer.parameter), built[layer.name][0], undo)
            for holder in layer.holders:
                if holder.bias_name in biases:
                    bias = local(getattr(holder.module, holder.bias))
                    _swap_in(bias, biases.pop(holder.bias_name), undo)  # tied: once
        for layer in layers:
            mask = built[layer.name][1]
            if is_dtensor(layer.parameter):
                mask = like_dtensor(mask, layer.parameter)
            masks[layer.name] = mask
            if masking == "hooks":
                hooks[layer.name] = _fix_with_hooks(layer, mask, undo)
                continue
            fixed = FixedMask(mask)  # one module for every holder: one mask buffer
            for holder in layer.holders:
                _fix(holder.module, holder.attr, fixed, undo)
    return masks, hooks


def _swap_in(target: Tensor, values: Tensor, undo: Undo) -> None:
    """target <- values, and values <- target's old values (the undo's copy)."""
    old = target.clone()
    undo.append(lambda: target.copy_(old))
    target.copy_(values)
    values.copy_(old)
    undo[-1] = lambda: target.copy_(values)


def _fix(module: torch.nn.Module, attr: str, fixed: FixedMask, undo: Undo) -> None:
    order = list(module._parameters)
    undo.append(lambda: _unfix(module, attr, order))
    parametrize.register_parametrization(module, attr, fixed)


def _unfix(module: torch.nn.Module, attr: str, order: list[str]) -> None:
    """Removes the parametrization, and puts the parameter back in its place: the order
    of module._parameters is the order of state_dict and of an optimizer's parameters."""
    if parametrize.is_parametrized(module, attr):
        parametrize.remove_parametrizations(module, attr, leave_parametrized=False)
    parameters = module._parameters
    saved = dict(parameters)
    parameters.clear()
    parameters.update((name, saved[name]) for name in order)


def _fix_with_hooks(layer: LayerWeight, mask: Tensor, undo: Undo) -> list[RemovableHandle]:
    """The buffer <attr>_eoi_mask on the first holder (a tied weight has one mask), a
    gradient hook on the parameter and, for plain tensors, the guard that re-attaches it
    on a copy of the model (eoi_ext.gradient_masks)."""
    name = mask_buffer_name(layer.attr)
    undo.append(lambda: layer.module._buffers.pop(name, None))
    layer.module.register_buffer(name, mask)
    handles = [hook_gradient(layer.module, layer.attr)]
    undo.append(handles[0].remove)
    if not is_dtensor(mask):  # FSDP2 swaps parameters in its own pre-hooks
        handles.append(layer.module.register_forward_pre_hook(MaskGuard(layer.attr)))
        undo.append(handles[-1].remove)
    return handles
