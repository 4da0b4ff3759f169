"""sparsify: make a whole model sparse, with masks that stay fixed during training.

Masks are kept by torch.nn.utils.parametrize: each sparse weight becomes
``original * mask`` (a FixedMask parametrization holding the mask as a buffer). Chosen
over torch.nn.utils.prune because the parametrization is a module: its mask is in
state_dict, torch.compile traces it as ordinary code (no forward pre-hooks), it composes
with other parametrizations, and nn.RNN modules pick up the masked weights on every
forward. Gradients reach `original` only inside the mask, so any optimizer (momentum,
weight decay, Adam) leaves the effective weight zero outside it. Build the optimizer
after sparsify (the model's parameters are then the `original` tensors), and call
SparseModel.remove() to bake the masked weights back into plain parameters.

FSDP2 (fully_shard) swaps the parameters it manages between a sharded DTensor and an
unsharded plain tensor around every forward and backward, so a parametrization cannot
hold them. Their masks live with the shards instead: the mask is a DTensor buffer
``<weight>_mask`` sharded like the weight (in state_dict, a sharded state dict with
DCP), the weights are zero outside it, and a post-accumulate-grad hook on the sharded
parameter zeroes its gradient outside the mask after each reduce-scatter. The gradient
is then the one the parametrized model gets, and every optimizer that leaves a zero
weight with zero gradient and zero state at zero (SGD with momentum and weight decay,
Adam, AdamW, RMSprop, ...) keeps the weights inside the mask.
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor, nn
from torch.nn.utils import parametrize
from torch.utils.hooks import RemovableHandle

from . import baselines
from .api import (
    caller_stacklevel,
    check_density,
    check_flag,
    check_gain,
    check_generator,
    check_size,
)
from .densities import DISTRIBUTIONS, layer_densities
from .init import check_conv_mode, sparse_orthogonal_block, sparse_orthogonal_weight
from .layers import SUPPORTED, LayerWeight, find_layer_weights
from .sharding import (
    check_same_draws,
    fsdp_parameters,
    is_dtensor,
    like_dtensor,
    local,
    local_block,
)

METHODS = ("eoi", "random", "orthogonal_masked", "ai", "svd_ai")


class FixedMask(nn.Module):
    """Parametrization weight -> weight * mask, with a fixed bool mask buffer."""

    def __init__(self, mask: Tensor) -> None:
        super().__init__()
        self.register_buffer("mask", mask)

    def forward(self, weight: Tensor) -> Tensor:
        return weight * self.mask


def mask_buffer_name(attr: str) -> str:
    """The buffer that holds the mask of an FSDP-managed weight `attr` (as
    torch.nn.utils.prune names it)."""
    return f"{attr}_mask"


class ShardGradientMask:
    """Post-accumulate-grad hook of an FSDP-managed (sharded) weight: zeroes the local
    gradient shard outside the local mask shard. Reads the mask buffer from the module on
    every call, so a mask loaded with load_state_dict is the one applied."""

    def __init__(self, module: nn.Module, attr: str) -> None:
        self.module = module
        self.buffer = mask_buffer_name(attr)

    def __call__(self, parameter: Tensor) -> None:
        grad = parameter.grad
        if grad is None:
            return
        mask = getattr(self.module, self.buffer)
        with torch.no_grad():
            local(grad).mul_(local(mask))


@dataclass
class SparseModel:
    """The handle sparsify returns.

    Attributes:
        model: the sparsified model (changed in place).
        masks: {parameter name: bool mask}, the masks in use (the FixedMask buffers).
        densities: {parameter name: target density} from the distribution.
        method: the initialization method.
        info: per-method details: for "ai" and "svd_ai", {"isometry_error":
            {name: error reached}}.
        hooks: {parameter name: gradient-mask hook} of FSDP-managed weights (their masks
            are buffers "<weight>_mask", not parametrizations).
    """

    model: nn.Module
    masks: dict[str, Tensor]
    densities: dict[str, float]
    method: str
    info: dict[str, Any] = field(default_factory=dict)
    layers: list[LayerWeight] = field(default_factory=list, repr=False)
    hooks: dict[str, RemovableHandle] = field(default_factory=dict, repr=False)

    @property
    def density(self) -> float:
        """Fraction of mask entries over all sparse weights. With sharded (DTensor) masks
        this sums the shards' counts across ranks (one all_reduce per mask): call it
        on every rank."""
        kept = 0
        for mask in self.masks.values():
            count = mask.count_nonzero()
            kept += int(count.full_tensor() if is_dtensor(count) else count)
        return kept / sum(mask.numel() for mask in self.masks.values())

    def remove(self) -> nn.Module:
        """Removes the parametrizations, leaving the masked weights as plain parameters
        (for export or dense fine-tuning); for FSDP-managed weights, removes the gradient
        hooks and mask buffers. Returns the model."""
        for layer in self.layers:
            if parametrize.is_parametrized(layer.module, layer.attr):
                parametrize.remove_parametrizations(
                    layer.module, layer.attr, leave_parametrized=True
                )
            handle = self.hooks.pop(layer.name, None)
            if handle is not None:
                handle.remove()
                delattr(layer.module, mask_buffer_name(layer.attr))
        return self.model


def sparsify(
    model: nn.Module,
    density: float | None,
    *,
    distribution: str | Mapping[str, Tensor] = "erk",
    method: str = "eoi",
    gain: float = 1.0,
    bias_std: float = 0.0,
    conv_mode: str = "delta",
    exact_density: bool = False,
    iterations: int | None = None,
    generator: torch.Generator | None = None,
    check_ranks: bool = False,
) -> SparseModel:
    """Initializes every supported weight of `model` sparsely and fixes its mask.

    Supported weights: eoi_ext.layers (Linear, Conv / ConvTranspose, RNN / LSTM / GRU
    per gate, MultiheadAttention per q/k/v). Other modules with weights are listed in a
    warning. Everything is validated and computed before the model is changed: an error
    leaves it as it was. Same-shape layers are initialized in one batched call.

    Sharded models: weights and biases may be DTensors (Shard(0), Shard(1) or
    Replicate() on a 1-D mesh, e.g. after tensor parallelism or FSDP2 fully_shard; a
    model built on the meta device must be materialized with to_empty first). Each rank
    computes only its shards, with no collective, and the masks are DTensors placed like
    their weights; seed every rank alike. FSDP-managed weights keep their masks as
    buffers and gradient hooks (see the module docstring).

    Args:
        model: the network, changed in place.
        density: overall density in (0, 1] (None with a mapping of masks).
        distribution: "uniform", "er", "erk", "uniform_dense_ends", or
            {parameter name: mask} to reuse existing masks' densities (eoi_ext.layer_densities).
        method: "eoi", or a baseline: "random", "orthogonal_masked", "ai", "svd_ai"
            (eoi_ext.baselines).
        gain: scale of every weight (for example 1.0247 for deep tanh networks).
        bias_std: biases become normal(0, bias_std); zeros with 0.
        conv_mode: "delta", "delta_more" or "structured" (eoi_ext.init.sparse_orthogonal_).
        exact_density: EOI masks hold exactly round(density_l * numel) entries.
        iterations: gradient steps of "ai" (default 100) / projections of "svd_ai" (10).
        generator: source of all randomness (torch's default generator when None).
        check_ranks: for sharded models, first compare a fingerprint of the generator
            state and the arguments across ranks (one small all_gather, the only
            collective) and raise ValueError on every rank if they differ.

    Returns:
        A SparseModel: .masks {parameter name: bool mask}, .densities, .info, .remove().
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    if not isinstance(distribution, Mapping):
        if distribution not in DISTRIBUTIONS:
            raise ValueError(
                f"distribution must be one of {', '.join(DISTRIBUTIONS)} or a mapping of "
                f"masks, got {distribution!r}"
            )
        check_density(density)
    gain = check_gain(gain)
    bias_std = _check_bias_std(bias_std)
    check_conv_mode(conv_mode)
    check_generator(generator)
    if iterations is not None:
        iterations = check_size(iterations, "iterations", minimum=0)
    check_flag(check_ranks, "check_ranks")
    layers, unsupported = find_layer_weights(model)
    if not layers:
        raise ValueError(f"model has no supported layers ({SUPPORTED})")
    fsdp = fsdp_parameters(model)
    for layer in layers:
        if parametrize.is_parametrized(layer.module, layer.attr) or (
            mask_buffer_name(layer.attr) in layer.module._buffers
        ):
            raise ValueError(
                f"{layer.name} already has a mask (was the model sparsified already? call "
                ".remove() on its SparseModel first)"
            )
        if not layer.parameter.is_floating_point():
            raise TypeError(f"{layer.name} must be floating point, got {layer.parameter.dtype}")
        _check_materialized(layer)
        _check_sharding(layer, id(layer.parameter) in fsdp)
    densities = layer_densities(model, density, distribution)
    if check_ranks:
        arguments = (
            method, gain, bias_std, conv_mode, exact_density, iterations,
            [(layer.name, layer.shape, layer.groups, densities[layer.name]) for layer in layers],
        )  # fmt: skip
        tensors = [t for layer in layers for t in (layer.parameter, layer.bias_parameter)]
        check_same_draws([t for t in tensors if t is not None], generator, arguments)

    # Compute everything, then change the model.
    weights, masks, info = _initialize(
        layers, densities, method, gain, conv_mode, exact_density, iterations, generator
    )
    biases = _biases(layers, bias_std, generator)
    with torch.no_grad():
        for layer in layers:
            _write(layer.parameter, weights[layer.name])
            if layer.bias is not None:
                _write(layer.bias_parameter, biases[layer.bias_name])
    hooks = {}
    for layer in layers:
        if id(layer.parameter) in fsdp:
            hooks[layer.name] = _keep_mask_on_shards(layer, masks[layer.name])
        else:
            parametrize.register_parametrization(
                layer.module, layer.attr, FixedMask(masks[layer.name])
            )
    if unsupported:
        warnings.warn(
            f"sparsify left these modules dense (unsupported types; supported: {SUPPORTED}): "
            + ", ".join(unsupported),
            UserWarning,
            stacklevel=caller_stacklevel(),
        )
    return SparseModel(model, masks, densities, method, info, layers, hooks)


def _keep_mask_on_shards(layer: LayerWeight, mask: Tensor) -> RemovableHandle:
    """An FSDP-managed weight keeps `mask` (a DTensor placed like it) as the buffer
    <attr>_mask, and its gradient shard is masked after every reduce-scatter."""
    layer.module.register_buffer(mask_buffer_name(layer.attr), mask)
    return layer.parameter.register_post_accumulate_grad_hook(
        ShardGradientMask(layer.module, layer.attr)
    )


def _check_bias_std(bias_std: object) -> float:
    if (
        isinstance(bias_std, bool)
        or not isinstance(bias_std, numbers.Real)
        or not math.isfinite(bias_std)
        or bias_std < 0
    ):
        raise ValueError(f"bias_std must be a finite real number >= 0, got {bias_std!r}")
    return float(bias_std)


def _check_materialized(layer: LayerWeight) -> None:
    """Masks are data: a meta weight would get a meta mask, left uninitialized by a later
    to_empty. So a model built on the meta device is materialized first."""
    weight = layer.parameter
    if local(weight).device.type == "meta":
        raise ValueError(
            f"{layer.name} is on the meta device: materialize the model first "
            "(model.to_empty(device=...)), then sparsify it"
        )


def _check_sharding(layer: LayerWeight, fsdp_managed: bool) -> None:
    """DTensor weights and biases: Shard(0), Shard(1) or Replicate() on a 1-D mesh; an
    FSDP-managed weight must be sharded (raises before anything is computed)."""
    if fsdp_managed and not is_dtensor(layer.parameter):
        raise ValueError(
            f"{layer.name} is managed by FSDP but unsharded (after a forward with "
            "reshard_after_forward=False?): call model.reshard() first, then sparsify"
        )
    for tensor in (layer.parameter, layer.bias_parameter):
        if tensor is not None and is_dtensor(tensor):
            local_block(tensor)


def _local(values: Tensor, like: Tensor) -> Tensor:
    """This rank's block of the full `values` when `like` is a DTensor, else values."""
    if not is_dtensor(like):
        return values
    rows, cols = local_block(like)
    r0, r1 = rows or (0, values.shape[0])
    block = values[r0:r1]
    if cols is not None:
        block = block[:, cols[0] : cols[1]]
    return block


def _write(parameter: Tensor, values: Tensor) -> None:
    """Copies values into the parameter: for a DTensor, values is this rank's block and
    goes into the local shard (no communication)."""
    local(parameter).copy_(values)


def _initialize(
    layers: list[LayerWeight],
    densities: dict[str, float],
    method: str,
    gain: float,
    conv_mode: str,
    exact_density: bool,
    iterations: int | None,
    generator: torch.Generator | None,
) -> tuple[dict[str, Tensor], dict[str, Tensor], dict[str, Any]]:
    """New weights and masks by parameter name; same-shape layers in one call, groups
    in order of first appearance."""
    batches: dict[tuple, list[LayerWeight]] = {}
    for layer in layers:
        p = layer.parameter
        key = (layer.shape, layer.groups, densities[layer.name], p.dtype, p.device)
        batches.setdefault(key, []).append(layer)
    weights: dict[str, Tensor] = {}
    masks: dict[str, Tensor] = {}
    errors: dict[str, float] = {}
    for (shape, groups, density, dtype, device), batch in batches.items():
        count = len(batch)
        common = {"count": count, "dtype": dtype, "device": device, "generator": generator}
        if method == "eoi" and any(is_dtensor(layer.parameter) for layer in batch):
            # Sharded weights: each layer's own block, drawing from the generator exactly
            # as the batched call would (consecutive draws equal one batched draw).
            for layer in batch:
                weights[layer.name], masks[layer.name] = _eoi_layer(
                    layer, shape, density, gain, conv_mode, groups, exact_density, generator
                )
            continue
        if method == "eoi":
            w, m = sparse_orthogonal_weight(
                shape, density, gain=gain, conv_mode=conv_mode, groups=groups,
                exact_density=exact_density, **common,
            )  # fmt: skip
        elif method == "orthogonal_masked":
            w, m = baselines.orthogonal_masked(shape, density, gain=gain, groups=groups, **common)
        else:
            w, m = baselines.random_sparse(shape, density, gain=gain, **common)
            if method == "ai":
                steps = baselines.AI_STEPS if iterations is None else iterations
                w, e = baselines.approximate_isometry(w, m, gain=gain, groups=groups, steps=steps)
                errors.update(zip((layer.name for layer in batch), e.tolist(), strict=True))
            elif method == "svd_ai":
                rounds = baselines.SVD_ITERATIONS if iterations is None else iterations
                w, e = baselines.svd_isometry(w, m, gain=gain, groups=groups, iterations=rounds)
                errors.update(zip((layer.name for layer in batch), e.tolist(), strict=True))
        for b, layer in enumerate(batch):
            weights[layer.name] = w[b]
            masks[layer.name] = m[b].clone()  # its own buffer, not a view of the batch
    info = {"isometry_error": errors} if errors else {}
    for layer in layers:  # baselines on sharded weights: the full draw, then this rank's part
        parameter = layer.parameter
        if is_dtensor(parameter) and not is_dtensor(masks[layer.name]):
            weights[layer.name] = _local(weights[layer.name], parameter)
            masks[layer.name] = like_dtensor(_local(masks[layer.name], parameter), parameter)
    return weights, masks, info


def _eoi_layer(
    layer: LayerWeight,
    shape: tuple[int, ...],
    density: float,
    gain: float,
    conv_mode: str,
    groups: int,
    exact_density: bool,
    generator: torch.Generator | None,
) -> tuple[Tensor, Tensor]:
    """One layer's EOI weight and mask: this rank's block (mask as a DTensor) for a
    DTensor weight, else the whole tensors."""
    parameter = layer.parameter
    if is_dtensor(parameter):
        rows, cols = local_block(parameter)
        shard = local(parameter)
        weight, mask = sparse_orthogonal_block(
            shape, density, gain=gain, conv_mode=conv_mode, groups=groups,
            exact_density=exact_density, dtype=shard.dtype, device=shard.device,
            generator=generator, rows=rows, cols=cols,
        )  # fmt: skip
        return weight, like_dtensor(mask, parameter)
    weight, mask = sparse_orthogonal_weight(
        shape, density, gain=gain, conv_mode=conv_mode, groups=groups,
        exact_density=exact_density, dtype=parameter.dtype, device=parameter.device,
        generator=generator,
    )  # fmt: skip
    return weight[0], mask[0]


def _biases(
    layers: list[LayerWeight], bias_std: float, generator: torch.Generator | None
) -> dict[str, Tensor]:
    """New biases by parameter name: zeros, or normal(0, bias_std) drawn in full (the same
    draws on every rank); for a DTensor bias, this rank's block."""
    biases = {}
    for layer in layers:
        bias = layer.bias_parameter
        if bias is None:
            continue
        if bias_std == 0.0:
            values = torch.zeros(bias.shape, dtype=torch.float64)
        else:
            values = torch.randn(bias.shape, generator=generator, dtype=torch.float64) * bias_std
        biases[layer.bias_name] = _local(values, bias).to(device=bias.device, dtype=bias.dtype)
    return biases
