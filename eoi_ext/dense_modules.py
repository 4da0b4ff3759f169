"""Modules left dense, and why: unsupported types, adapters' reasons, and embeddings
with the layers tied to them, dense by choice (eoi_ext.layers.find_layer_weights)."""

from __future__ import annotations

from torch import nn

from .layer_weight import LayerWeight

__all__ = ["DenseModule", "label", "without_embeddings"]

_EMBEDDINGS = (nn.Embedding, nn.EmbeddingBag)


class DenseModule(str):
    """A module left dense, as "name (Type)" or "name (Type: reason)"; `by_choice` when
    it could be sparsified but is not by default (embeddings and the layers tied to
    them), which sparsify does not warn about.

    Attributes:
        by_choice: sparsify could make it sparse and leaves it dense by default.
        tensor: id of the weight left dense by choice (its ties share it), else None.

    Examples:
        >>> entry = eoi_ext.layers.DenseModule("wte (Embedding: an embedding)", by_choice=True)
        >>> entry == "wte (Embedding: an embedding)", entry.by_choice
        (True, True)
    """

    by_choice: bool
    tensor: int | None

    def __new__(cls, text: str, by_choice: bool = False, tensor: int | None = None) -> DenseModule:
        entry = super().__new__(cls, text)
        entry.by_choice, entry.tensor = by_choice, tensor
        return entry


def label(module_name: str, module: nn.Module, reason: str | None = None) -> str:
    """ "name (Type)" or "name (Type: reason)"; the model itself is "<model>"."""
    kind = type(module).__name__ + (f": {reason}" if reason else "")
    return f"{module_name or '<model>'} ({kind})"


def without_embeddings(found: list[LayerWeight]) -> tuple[list[LayerWeight], list[DenseModule]]:
    """The weights no embedding holds, and an entry for each holder of the others."""
    kept: list[LayerWeight] = []
    dense: list[DenseModule] = []
    for layer in found:
        tables = [h for h in layer.holders if isinstance(h.module, _EMBEDDINGS)]
        if not tables:
            kept.append(layer)
            continue
        for holder in layer.holders:
            module_name = holder.name[: -len(holder.attr)].rstrip(".")
            why = "an embedding" if holder in tables else f"tied to the embedding {tables[0].name}"
            dense.append(
                DenseModule(
                    label(module_name, holder.module, f"dense by choice, {why}"),
                    by_choice=True,
                    tensor=id(layer.parameter),
                )
            )
    return kept, dense
