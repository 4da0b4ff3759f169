"""The new values of a model's supported layers, computed before anything is written.

sparsify computes every weight, mask and bias first and changes the model only when all
of them exist, so an error leaves the model as it was. Same-shape layers are built by one
call of the method's registry entry (eoi_ext.methods); for a DTensor weight or bias only
this rank's block is computed (eoi_ext.sharding.local_block).
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import Tensor

from .layers import LayerWeight
from .methods import KEEPS_MASKS, MASKS_MODEL_VALUES, METHODS, Built
from .sharding import is_dtensor, local, local_block
from .spec import WeightSpec

__all__ = ["bias_values", "check_whole", "layer_values"]


def layer_values(
    layers: list[LayerWeight],
    densities: dict[str, float],
    method: str,
    gain: float,
    conv_mode: str,
    exact_density: bool,
    iterations: int | None,
    generator: torch.Generator | None,
    given: Mapping[str, Tensor] | None = None,
) -> dict[str, tuple[Tensor, Tensor, float | None]]:
    """{parameter name: (weight block, mask block, isometry error or None)}; same-shape
    layers in one call, in order of first appearance. `given` masks (by parameter name,
    stored like their weights; a layer without one is dense) are kept by the methods
    that take a mask (eoi_ext.methods.KEEPS_MASKS), with the model's weights as the
    start of those in MASKS_MODEL_VALUES."""
    batches: dict[tuple, list[LayerWeight]] = {}
    for layer in layers:
        shard = local(layer.parameter)
        key = (layer.shape, layer.groups, densities[layer.name], shard.dtype, shard.device)
        batches.setdefault(key, []).append(layer)
    built: dict[str, tuple[Tensor, Tensor, float | None]] = {}
    for (shape, groups, density, dtype, device), batch in batches.items():
        names = [layer.name for layer in batch]
        label = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
        spec = WeightSpec(
            shape, density, gain=gain, conv_mode=conv_mode, groups=groups,
            exact_density=exact_density, label=label,
        )  # fmt: skip
        masks = start = None
        if given is not None and method in KEEPS_MASKS:
            masks = torch.stack([_given_mask(layer, given) for layer in batch])
        if given is not None and method in MASKS_MODEL_VALUES:
            start = torch.stack([_whole_weight(layer) for layer in batch])
        result: Built = METHODS[method](
            spec, [_matrix_block(layer) for layer in batch], generator=generator,
            dtype=dtype, device=device, iterations=iterations, masks=masks, start=start,
        )  # fmt: skip
        errors = result.errors or [None] * len(batch)
        for layer, w, m, e in zip(batch, result.weights, result.masks, errors, strict=True):
            # Back to the storage layout (transformers' Conv1D keeps (in, out)).
            built[layer.name] = (layer.matrix(w), layer.matrix(m).contiguous(), e)
    return built


def _given_mask(layer: LayerWeight, given: Mapping[str, Tensor]) -> Tensor:
    """The whole mask in the map's coordinates, on the CPU (the baselines draw whole
    weights there); a layer without a given mask is dense."""
    mask = given.get(layer.name)
    if mask is None:
        return torch.ones(layer.shape, dtype=torch.bool)
    return layer.matrix(mask.detach()).to("cpu", torch.bool)


def _whole_weight(layer: LayerWeight) -> Tensor:
    """The model's weight in the map's coordinates, float64 on the CPU (sparsify has
    checked it is not sharded)."""
    return layer.matrix(layer.parameter.detach()).to("cpu", torch.float64)


def _matrix_block(layer: LayerWeight) -> tuple:
    """This rank's block of the weight in the map's coordinates (rows, cols swapped for
    a weight stored transposed)."""
    rows, cols = local_block(layer.parameter)
    return (cols, rows) if layer.transposed else (rows, cols)


def bias_values(
    layers: list[LayerWeight], bias_std: float, generator: torch.Generator | None
) -> dict[str, Tensor]:
    """New biases by parameter name: zeros, or normal(0, bias_std) drawn in full (the same
    draws on every rank); for a DTensor bias, this rank's block. The biases of a tied
    weight's holders each get their own values (a bias tied itself: once)."""
    biases = {}
    for holder in (holder for layer in layers for holder in layer.holders):
        bias = None if holder.bias is None else getattr(holder.module, holder.bias)
        if bias is None or holder.bias_name in biases:
            continue
        if bias_std == 0.0:  # no draws: this rank's block directly
            shard = local(bias)
            biases[holder.bias_name] = torch.zeros_like(
                shard, memory_format=torch.contiguous_format
            )
            continue
        values = torch.randn(bias.shape, generator=generator, dtype=torch.float64) * bias_std
        rows, _ = local_block(bias)
        values = values if rows is None else values[rows[0] : rows[1]]
        biases[holder.bias_name] = values.to(device=local(bias).device, dtype=bias.dtype)
    return biases


def check_whole(masks: Mapping[str, Tensor] | None, method: str, layers: list[LayerWeight]) -> None:
    """The baselines draw whole weights and keep the given positions (base and ai the
    model's values too), so they need whole tensors: a DTensor's other shards live on
    other ranks."""
    if masks is None or method not in KEEPS_MASKS:
        return
    tensors = [*masks.items()]
    if method in MASKS_MODEL_VALUES:
        tensors += [(layer.name, layer.parameter) for layer in layers]
    sharded = [name for name, tensor in tensors if is_dtensor(tensor)]
    if sharded:
        raise ValueError(
            f"distribution: method {method!r} keeps the given masks and needs them (and "
            f"for base and ai the weights) whole, but {sharded[0]} is a DTensor; pass "
            "full tensors or use method 'eoi', which takes only the masks' densities"
        )
