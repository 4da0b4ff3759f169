"""What sparsify did to a model, for a person (SparseModel.summary()) and as numbers
(model_density): per weight its shape, blocks, target and achieved density and ties;
the modules left dense and why; the density over the sparse weights and over every
weight-like parameter of the model (docs/algorithm.md, "Recurrent and attention
layers", on what counts as weight-like).
"""

from __future__ import annotations

from collections.abc import Iterator

from torch import Tensor, nn
from torch.nn.utils import parametrize

from .adapters import adapter_for
from .layers import find_layer_weights, matrix_like
from .sparse_model import SparseModel, mask_entries
from .tied_weights import trainable_tensor

__all__ = ["format_summary", "model_density"]


def model_density(sparse: SparseModel) -> float:
    """Fraction of nonzero-capable entries over every weight-like parameter of the model:
    the masks' entries, plus every entry of the weights left dense (embeddings, dense
    layers, unsupported modules). Each tied tensor counts once; biases, norms, position
    tables and tokens do not count (_weight_like).

    Args:
        sparse: what sparsify (or fix_masks) returned.

    Returns:
        The whole model's density, at least SparseModel.density's share.

    Examples:
        >>> import warnings
        >>> model = torch.nn.Sequential(torch.nn.Embedding(10, 8), torch.nn.Linear(8, 8))
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("ignore")
        ...     sparse = eoi_ext.sparsify(model, 0.5, distribution="uniform", exact_density=True)
        >>> round(eoi_ext.summary.model_density(sparse), 3)  # (80 + 32) / (80 + 64)
        0.778
    """
    masked = {id(layer.parameter): sparse.masks[layer.name] for layer in sparse.layers}
    kept = total = 0
    seen: set[int] = set()
    for parameter in _weight_like(sparse.model):
        if id(parameter) in seen:  # each tensor once
            continue
        seen.add(id(parameter))
        mask = masked.get(id(parameter))
        kept += parameter.numel() if mask is None else mask_entries(mask)
        total += parameter.numel()
    return kept / total if total else 1.0


def _weight_like(model: nn.Module) -> Iterator[Tensor]:
    """The weights an adapter names (depthwise kernels included), and the matrix-like
    parameters of modules no adapter knows or that stay dense for a reason; not biases,
    norms, position tables (an adapter with no weights) or tokens."""
    for module in model.modules():
        if isinstance(module, parametrize.ParametrizationList):
            continue
        adapter = adapter_for(module)
        slots = None if adapter is None else adapter(module)
        if isinstance(slots, list):
            tensors = (trainable_tensor(module, slot.attr) for slot in slots)
            yield from (tensor for tensor in tensors if tensor is not None)
        else:
            yield from (p for p in module._parameters.values() if matrix_like(p))


def format_summary(sparse: SparseModel) -> str:
    """A table of the sparse weights, the modules left dense, and both densities.

    Args:
        sparse: what sparsify (or fix_masks) returned.

    Returns:
        The table, one line per weight.

    Examples:
        >>> model = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.Linear(16, 4))
        >>> sparse = eoi_ext.sparsify(model, 0.5, distribution="uniform", exact_density=True)
        >>> print(sparse.summary())
        ... # doctest: +NORMALIZE_WHITESPACE
        weight    shape    blocks  target  achieved  tied
        0.weight  16x8     1       0.500   0.500
        1.weight  4x16     1       0.500   0.500
        method eoi; sparse weights 0.500 dense; whole model 0.500 (2 sparse weights)
    """
    rows = [("weight", "shape", "blocks", "target", "achieved", "tied")]
    for layer in sparse.layers:
        mask = sparse.masks[layer.name]
        achieved = mask_entries(mask) / max(1, mask.numel())
        target = sparse.densities.get(layer.name)
        rows.append((
            layer.name, "x".join(str(d) for d in layer.shape), str(layer.groups),
            "-" if target is None else f"{target:.3f}", f"{achieved:.3f}",
            ", ".join(holder.name for holder in layer.ties),
        ))  # fmt: skip
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    masked = {id(layer.parameter) for layer in sparse.layers}
    _, dense = find_layer_weights(sparse.model)  # embeddings sparsified on request are not
    lines += [f"left dense: {entry}" for entry in dense if entry.tensor not in masked]
    lines.append(
        f"method {sparse.method}; sparse weights {sparse.density:.3f} dense; whole model "
        f"{model_density(sparse):.3f} ({len(sparse.layers)} sparse weights)"
    )
    return "\n".join(lines)
