"""Tied weights: one tensor that several module attributes hold (docs/reliability.md,
"Tied weights").

Real models tie weights: GPT-2 and T5 use the token embedding's matrix as lm_head's
weight, and any module assigned another's Parameter shares it. The tensor is one
weight, so it gets one initialization, one mask and one density, and the mask is fixed
on every attribute that holds it (an nn.Embedding tied to a Linear is masked with it):
otherwise the second write overwrites the first, one holder reads the weight unmasked,
and the density counts the tensor twice.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING

from torch import Tensor, nn
from torch.nn.utils import parametrize

if TYPE_CHECKING:
    from .layers import LayerWeight

__all__ = ["Holder", "holders_by_tensor", "merge_ties", "trainable_tensor"]


@dataclass(frozen=True)
class Holder:
    """A module attribute holding a weight tensor: its qualified name, module and attr,
    and for a supported layer the attribute of its own bias (initialized like any bias).

    Examples:
        >>> holder = eoi_ext.tied_weights.Holder("0.weight", torch.nn.Linear(2, 2), "weight")
        >>> holder.name
        '0.weight'
    """

    name: str
    module: nn.Module
    attr: str
    bias: str | None = None

    @property
    def bias_name(self) -> str | None:
        """The bias's qualified name, or None."""
        if self.bias is None:
            return None
        prefix = self.name[: -len(self.attr)]
        return prefix + self.bias


def trainable_tensor(module: nn.Module, attr: str) -> Tensor | None:
    """The tensor an optimizer trains for module.attr: the parameter, or the single
    original under a parametrization; None for several originals (weight_norm) or none.

    Args:
        module: the owning module.
        attr: the attribute ("weight", ...).

    Returns:
        The tensor, or None.

    Examples:
        >>> layer = torch.nn.Linear(2, 2)
        >>> eoi_ext.tied_weights.trainable_tensor(layer, "weight") is layer.weight
        True
    """
    if parametrize.is_parametrized(module, attr):
        originals = module.parametrizations[attr]
        return originals.original if originals.is_tensor else None
    tensor = getattr(module, attr, None)
    return tensor if isinstance(tensor, Tensor) else None


def holders_by_tensor(model: nn.Module) -> dict[int, list[Holder]]:
    """Every parameter of the model's modules, by the id of the tensor: ties are the
    entries with several holders (shared modules count once, as in named_modules()).

    Args:
        model: the network.

    Returns:
        {id(tensor): [Holder, ...] in model order}.

    Examples:
        >>> model = torch.nn.Sequential(torch.nn.Linear(3, 3), torch.nn.Linear(3, 3))
        >>> model[1].weight = model[0].weight
        >>> [len(h) for h in eoi_ext.tied_weights.holders_by_tensor(model).values()]
        [2, 1, 1]
    """
    holders: dict[int, list[Holder]] = {}
    for module_name, module in model.named_modules():
        if isinstance(module, parametrize.ParametrizationList):
            continue  # originals are reached through their module's attribute below
        attrs = list(module._parameters)
        if parametrize.is_parametrized(module):
            attrs += list(module.parametrizations)
        for attr in attrs:
            tensor = trainable_tensor(module, attr)
            if tensor is not None:
                name = f"{module_name}.{attr}" if module_name else attr
                holders.setdefault(id(tensor), []).append(Holder(name, module, attr))
    return holders


def merge_ties(
    found: list[LayerWeight], holders: dict[int, list[Holder]]
) -> tuple[list[LayerWeight], set[int]]:
    """Each tensor once, at its first supported layer, every other holder a tie of it.

    Args:
        found: the supported weights in model order (eoi_ext.layers).
        holders: holders_by_tensor(model).

    Returns:
        (the weights, each tensor once, with their ties; ids of the tied tensors).

    Raises:
        ValueError: two supported layers tie one tensor but split it differently (as
            one matrix and as gates or q/k/v blocks).

    Examples:
        >>> model = torch.nn.Sequential(torch.nn.Linear(3, 3), torch.nn.Linear(3, 3))
        >>> model[1].weight = model[0].weight
        >>> weights, unsupported = eoi_ext.layers.find_layer_weights(model)
        >>> [(w.name, [t.name for t in w.ties]) for w in weights]
        [('0.weight', ['1.weight'])]
    """
    supported = {(layer.module, layer.attr): layer for layer in found}
    merged: dict[int, LayerWeight] = {}
    unique: list[LayerWeight] = []
    for layer in found:
        tensor = trainable_tensor(layer.module, layer.attr)
        if tensor is None:  # refused later, by name (eoi_ext.layer_checks)
            unique.append(layer)
            continue
        first = merged.get(id(tensor))
        if first is not None:
            if first.groups != layer.groups:
                raise ValueError(
                    f"{first.name} and {layer.name} are one tied tensor split into different "
                    f"matrices ({first.groups} vs {layer.groups} row blocks): untie them first"
                )
            continue
        ties = []
        for holder in holders.get(id(tensor), []):
            other = supported.get((holder.module, holder.attr))
            if other is not layer:
                ties.append(dataclasses.replace(holder, bias=other and other.bias))
        merged[id(tensor)] = layer = dataclasses.replace(layer, ties=tuple(ties))
        unique.append(layer)
    return unique, {key for key, layer in merged.items() if layer.ties}
