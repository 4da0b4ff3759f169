"""Which weights of a model EOI initializes, and how each is split into matrices.

A model's supported weights are found by each module's adapter (eoi_ext.adapters;
docs/algorithm.md, "Convolutions" and "Recurrent and attention layers"): nn.Linear
(:math:`(out, in)`), nn.ConvNd and nn.ConvTransposeNd (a kernel per group of the first
dimension), nn.RNN / nn.LSTM / nn.GRU (``weight_ih_l*``, ``weight_hh_l*`` as 1 / 4 / 3
gate blocks, ``weight_hr_l*``), nn.MultiheadAttention (the packed ``in_proj_weight`` as
q, k, v blocks, or the separate q/k/v weights), transformers' Conv1D (stored
transposed), fused q/k/v Linears of timm and torchvision attention, nn.Embedding (dense
by choice unless asked, with every layer tied to one), and any registered type.
Anything else that owns a weight-like parameter is reported as left dense, with
the reason where an adapter gives one, never skipped silently.
A tensor several attributes hold is one weight, found once with its other holders
(eoi_ext.tied_weights).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from dataclasses import replace

from torch import Tensor, nn
from torch.nn.utils import parametrize

from .adapters import adapter_for, child_blocks
from .checks import check_size
from .dense_modules import DenseModule, label, without_embeddings
from .layer_weight import LayerWeight, qualified_name
from .tied_weights import holders_by_tensor, merge_ties

__all__ = [
    "SUPPORTED",
    "DenseModule",
    "LayerWeight",
    "find_layer_weights",
    "matrix_like",
    "require_layer_weights",
]

SUPPORTED = (
    "Linear, Conv1d/2d/3d, ConvTranspose1d/2d/3d, RNN, LSTM, GRU, MultiheadAttention, "
    "transformers Conv1D, Embedding (embeddings=True), and types given to "
    "eoi_ext.adapters.register_adapter"
)


def _module_weights(
    module_name: str, module: nn.Module, blocks: dict[str, int]
) -> list[LayerWeight] | str | None:
    """The supported weights of one module (row blocks from its parent in `blocks`), a
    reason it stays dense, or None when no adapter knows its type."""
    adapter = adapter_for(module)
    if adapter is None:
        return None
    slots = adapter(module)
    if isinstance(slots, str):
        return slots
    found = []
    for slot in slots:
        bias = slot.bias if getattr(module, slot.bias or "", None) is not None else None
        groups = blocks.get(module_name, slot.groups)
        name = qualified_name(module_name, slot.attr)
        layer = LayerWeight(name, module_name, module, slot.attr, groups, bias, slot.kind)
        found.append(replace(layer, transposed=True) if slot.transposed else layer)
    return found


def find_layer_weights(
    model: nn.Module, blocks: Mapping[str, int] | None = None, embeddings: bool = False
) -> tuple[list[LayerWeight], list[DenseModule]]:
    """The weights of a model that EOI initializes, and the modules it leaves dense.

    Weights are found by the modules' adapters (eoi_ext.adapters); a parent may split a
    child's weight into blocks (a fused q/k/v Linear), and `blocks` says so for any
    layer by name. A module is left dense when its adapter says why (the reason is
    given), or when no adapter knows its type and it owns a parameter whose two leading
    dimensions exceed 1, like nn.Bilinear. Normalization layers (1-D parameters), class
    tokens, position tables and layer scales are neither. Embeddings, and the layers
    tied to them (a language model's head), are dense by choice unless `embeddings`:
    a token's vector is a row to look up, and a sparse table leaves rare tokens with
    few coordinates.

    Args:
        model: the network.
        blocks: {module name pattern (fnmatch): row blocks}, e.g. {"*.qkv": 3}: those
            layers' matrices are that many blocks, each its own EOI matrix.
        embeddings: include nn.Embedding weights (and the layers tied to them).

    Returns:
        (supported weights in model order, DenseModule entries "name (Type)" or
        "name (Type: reason)").

    Raises:
        ValueError: a pattern matches no layer, or its blocks do not divide the rows.

    Examples:
        >>> model = torch.nn.Sequential(torch.nn.Embedding(10, 4), torch.nn.Linear(4, 6))
        >>> weights, unsupported = eoi_ext.layers.find_layer_weights(model, blocks={"1": 3})
        >>> [(w.name, w.groups) for w in weights], unsupported
        ([('1.weight', 3)], ['0 (Embedding: dense by choice, an embedding)'])
    """
    overrides = _check_blocks(blocks)
    fixed: dict[str, int] = {}  # module name -> row blocks, from its parent or the user
    found: list[LayerWeight] = []
    candidates: list[tuple[str, nn.Module]] = []
    dense: list[DenseModule] = []
    matched: set[str] = set()
    for module_name, module in model.named_modules():
        for child, groups in child_blocks(module).items():
            fixed[qualified_name(module_name, child)] = groups
        for pattern, groups in overrides.items():
            if fnmatch.fnmatchcase(module_name, pattern):
                fixed[module_name] = groups
                matched.add(pattern)
        if isinstance(module, parametrize.ParametrizationList):
            continue  # a parametrized weight's originals: reported with their module
        weights = _module_weights(module_name, module, fixed)
        if weights is None:
            candidates.append((module_name, module))
        elif isinstance(weights, str):
            dense.append(DenseModule(label(module_name, module, weights)))
        else:
            found.extend(weights)
    _check_matched(overrides, matched, found)
    found, tied = merge_ties(found, holders_by_tensor(model))
    if not embeddings:
        found, by_choice = without_embeddings(found)
        dense += by_choice
    dense += [
        DenseModule(label(module_name, module))
        for module_name, module in candidates
        if any(matrix_like(p) and id(p) not in tied for p in module._parameters.values())
    ]
    return found, dense


def _check_blocks(blocks: object) -> dict[str, int]:
    if blocks is None:
        return {}
    if not isinstance(blocks, Mapping) or not all(isinstance(k, str) for k in blocks):
        raise TypeError(f"blocks must map module name patterns to row blocks, got {blocks!r}")
    return {
        pattern: check_size(groups, f"blocks[{pattern!r}]") for pattern, groups in blocks.items()
    }


def _check_matched(overrides: dict[str, int], matched: set[str], found: list[LayerWeight]) -> None:
    unmatched = sorted(set(overrides) - matched)
    if unmatched:
        raise ValueError(f"blocks patterns match no module: {', '.join(unmatched)}")
    for layer in found:
        if layer.shape[0] % layer.groups:
            raise ValueError(
                f"{layer.name} cannot be {layer.groups} row blocks: they must divide its "
                f"{layer.shape[0]} rows"
            )


def matrix_like(parameter: Tensor | None) -> bool:
    """Whether a parameter could be a layer's weight: two leading dimensions above 1.

    Class tokens (1, 1, d), position tables (1, n, d) and layer scales (c, 1, 1) are not
    reported as left dense, nor counted in a model's density (eoi_ext.summary).

    Args:
        parameter: a parameter, or None.

    Returns:
        True for a weight-like parameter.

    Examples:
        >>> eoi_ext.layers.matrix_like(torch.zeros(1, 197, 768))
        False
    """
    return parameter is not None and parameter.dim() >= 2 and min(parameter.shape[:2]) > 1


def require_layer_weights(
    model: nn.Module, blocks: Mapping[str, int] | None = None, embeddings: bool = False
) -> tuple[list[LayerWeight], list[DenseModule]]:
    """:func:`find_layer_weights`, raising when the model has no supported weight.

    Args:
        model: the network.
        blocks: row blocks by module name pattern, as for find_layer_weights.
        embeddings: include embeddings, as for find_layer_weights.

    Returns:
        (supported weights in model order, unsupported modules), the first non-empty.

    Examples:
        >>> eoi_ext.layers.require_layer_weights(torch.nn.ReLU())
        Traceback (most recent call last):
        ...
        ValueError: model has no supported layers (Linear, Conv1d/2d/3d, ...)
    """
    layers, unsupported = find_layer_weights(model, blocks, embeddings)
    if not layers:
        by_choice = [entry for entry in unsupported if entry.by_choice]
        hint = f"; dense by choice: {', '.join(by_choice)} (embeddings=True)" if by_choice else ""
        raise ValueError(f"model has no supported layers ({SUPPORTED}){hint}")
    return layers, unsupported
