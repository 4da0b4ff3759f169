"""Layer adapters: for a module type, which parameters are weights and how each is one
or more matrices (docs/algorithm.md, "Recurrent and attention layers").

An adapter maps a module to its WeightSlots: the attribute, its row blocks (RNN gates,
q/k/v), its bias, and whether the tensor is stored transposed (transformers' Conv1D
keeps (in, out)). Or it returns a string: why the module stays dense (timm's
weight-standardizing convs rebuild the weight in every forward, so a mask or an
orthogonal start would not be what the layer applies).

Adapters are found by module type, most derived first: the library types of
eoi_ext.library_adapters, named by module path and class name so that the library is
never imported; then the types registered with
:func:`register_adapter`; then torch's. Parents may also split a child's weight: a
fused q/k/v projection is one Linear of an attention module (PARENT_BLOCKS).
"""

from __future__ import annotations

from torch import nn

from .library_adapters import LIBRARY, PARENT_BLOCKS
from .weight_slot import Adapter, WeightSlot

__all__ = ["PARENT_BLOCKS", "WeightSlot", "adapter_for", "child_blocks", "register_adapter"]

RNN_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


_REGISTERED: dict[type, Adapter] = {}


def register_adapter(module_type: type, adapter: Adapter) -> None:
    """Tells sparsify (and every eoi_ext.layers consumer) how to handle a module type.

    Args:
        module_type: an nn.Module subclass; its subclasses use the adapter too, unless
            they have their own.
        adapter: module -> [WeightSlot, ...], or a string saying why it stays dense.

    Examples:
        >>> class Scale(torch.nn.Module):
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.matrix = torch.nn.Parameter(torch.empty(8, 8))
        >>> slot = eoi_ext.adapters.WeightSlot("matrix")
        >>> eoi_ext.adapters.register_adapter(Scale, lambda module: [slot])
        >>> [w.name for w in eoi_ext.layers.find_layer_weights(Scale())[0]]
        ['matrix']
    """
    if not (isinstance(module_type, type) and issubclass(module_type, nn.Module)):
        raise TypeError(f"module_type must be an nn.Module subclass, got {module_type!r}")
    if not callable(adapter):
        raise TypeError(f"adapter must be callable, got {adapter!r}")
    _REGISTERED[module_type] = adapter


def _linear(module: nn.Module) -> list[WeightSlot]:
    return [WeightSlot("weight", bias="bias")]


def _conv(module: nn.Module) -> list[WeightSlot]:
    return [WeightSlot("weight", groups=module.groups, bias="bias", kind="conv")]


def _recurrent(module: nn.Module) -> list[WeightSlot]:
    gates = RNN_GATES[module.mode]
    slots = []
    for attr in module._flat_weights_names:
        if attr.startswith(("weight_ih", "weight_hh")):
            slots.append(WeightSlot(attr, gates, attr.replace("weight", "bias"), "recurrent"))
        elif attr.startswith("weight_hr"):
            slots.append(WeightSlot(attr, kind="recurrent"))
    return slots


def _attention(module: nn.Module) -> list[WeightSlot]:
    if module._qkv_same_embed_dim:
        return [WeightSlot("in_proj_weight", 3, "in_proj_bias", "attention")]
    # Separate q/k/v weights share one packed bias: it goes with q_proj_weight.
    return [
        WeightSlot("q_proj_weight", bias="in_proj_bias", kind="attention"),
        WeightSlot("k_proj_weight", kind="attention"),
        WeightSlot("v_proj_weight", kind="attention"),
    ]


def _embedding(module: nn.Module) -> list[WeightSlot]:
    """A lookup table (num, dim): row i is the image of token i, so the map is its
    transpose. Dense unless sparsify(..., embeddings=True) (eoi_ext.layers)."""
    return [WeightSlot("weight", kind="embedding", transposed=True)]


_TORCH: dict[type, Adapter] = {
    nn.MultiheadAttention: _attention,
    nn.RNNBase: _recurrent,
    nn.modules.conv._ConvNd: _conv,
    nn.Linear: _linear,
    nn.Embedding: _embedding,
    nn.EmbeddingBag: _embedding,
}


def adapter_for(module: nn.Module) -> Adapter | None:
    """The adapter of a module, most derived type first; None when no type has one.

    Args:
        module: any module.

    Returns:
        The adapter, or None (the module is not a supported layer).

    Examples:
        >>> eoi_ext.adapters.adapter_for(torch.nn.LSTM(4, 4))(torch.nn.LSTM(4, 4))[0].groups
        4
    """
    for cls in type(module).__mro__:
        found = LIBRARY.get((cls.__module__, cls.__qualname__))
        found = found or _REGISTERED.get(cls) or _TORCH.get(cls)
        if found is not None:
            return found
    return None


def child_blocks(module: nn.Module) -> dict[str, int]:
    """The row blocks a module fixes for its children's weights (PARENT_BLOCKS).

    Args:
        module: any module.

    Returns:
        {child attribute: row blocks}, empty for most modules.

    Examples:
        >>> eoi_ext.adapters.child_blocks(torch.nn.Linear(2, 2))
        {}
    """
    for cls in type(module).__mro__:
        rules = PARENT_BLOCKS.get((cls.__module__, cls.__qualname__))
        if rules is not None:
            children = module._modules
            return {
                name: rule(children[name]) if callable(rule) else rule
                for name, rule in rules.items()
                if children.get(name) is not None
            }
    return {}
