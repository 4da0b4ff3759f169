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

import collections
import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from torch import Tensor, nn
from torch.nn.utils import parametrize

if TYPE_CHECKING:
    from .layer_weight import LayerWeight

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
    original under a parametrization; None for several originals (weight_norm) or for
    no parameter (a tensor computed in a hook: torch.nn.utils.prune, old weight_norm).

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
    # module._parameters and ._modules directly: nn.Module.__getattr__ is slow, and this
    # runs for every parameter of a model (the 1000-layer MLP of eoi_ext.models).
    tensor = module._parameters.get(attr)
    if tensor is not None:
        return tensor
    lists = module._modules.get("parametrizations")
    if lists is not None and attr in lists._modules:
        originals = lists._modules[attr]
        return originals.original if originals.is_tensor else None
    return None


def holders_by_tensor(model: nn.Module) -> dict[int, list[Holder]]:
    """The tensors several attributes of the model hold (tied weights), by id, with their
    holders (shared modules count once, as in named_modules()).

    Args:
        model: the network.

    Returns:
        {id(tensor): [Holder, ...] in model order}, for tied tensors only.

    Examples:
        >>> model = torch.nn.Sequential(torch.nn.Linear(3, 3), torch.nn.Linear(3, 3))
        >>> model[1].weight = model[0].weight
        >>> tied = eoi_ext.tied_weights.holders_by_tensor(model)
        >>> [[holder.name for holder in holders] for holders in tied.values()]
        [['0.weight', '1.weight']]
    """
    # Two passes, the first counting ids alone: a Holder for every parameter of a large
    # model is thousands of small GC-tracked objects, enough to trigger a full collection
    # of the user's heap (docs/reliability.md, "Tied weights").
    counts: collections.Counter[int] = collections.Counter()
    for _, _, _, tensor in _parameter_slots(model):
        counts[id(tensor)] += 1
    holders: dict[int, list[Holder]] = {}
    for module_name, module, attr, tensor in _parameter_slots(model):
        key = id(tensor)
        if counts[key] > 1:
            name = f"{module_name}.{attr}" if module_name else attr
            holders.setdefault(key, []).append(Holder(name, module, attr))
    return holders


def _parameter_slots(model: nn.Module) -> Iterator[tuple[str, nn.Module, str, Tensor]]:
    """(module name, module, attr, trainable tensor) of every parameter, parametrized
    ones included."""
    for module_name, module in model.named_modules():
        if isinstance(module, parametrize.ParametrizationList):
            continue  # originals are reached through their module's attribute below
        for attr, tensor in module._parameters.items():
            if tensor is not None:
                yield module_name, module, attr, tensor
        lists = module._modules.get("parametrizations")
        for attr in () if lists is None else lists._modules:
            tensor = trainable_tensor(module, attr)
            if tensor is not None:
                yield module_name, module, attr, tensor


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
    supported = {(layer.module, layer.attr): layer for layer in found} if holders else {}
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
        if ties:
            layer = dataclasses.replace(layer, ties=tuple(ties))
        merged[id(tensor)] = layer
        unique.append(layer)
    return unique, {key for key, layer in merged.items() if layer.ties}
