"""sparsify: make a whole model sparse, with masks that stay fixed during training.

The weights are built by the method's registry entry (eoi_ext.methods), same-shape
layers in one call, and the masks are fixed by eoi_ext.model_changes: a mask buffer and
gradient hooks by default, or parametrizations (docs/masking.md). SparseModel.remove()
unfixes them, leaving the masked weights as plain parameters.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import Tensor, nn

from .checks import (
    check_bias_std,
    check_choice,
    check_density,
    check_flag,
    check_gain,
    check_gain_fits,
    check_generator,
    check_model,
    check_size,
)
from .conv_modes import default_conv_mode
from .densities import DISTRIBUTIONS, densities_of
from .forked import single_threaded_if_forked
from .layer_checks import check_layer
from .layer_values import bias_values, check_whole, layer_values
from .layers import SUPPORTED, require_layer_weights
from .methods import METHODS
from .model_changes import change_model
from .sharding import check_same_draws, fsdp_parameters
from .sparse_model import MASKINGS, SparseModel
from .user_warnings import warn_left_dense

__all__ = ["sparsify"]


def sparsify(
    model: nn.Module,
    density: float | None,
    *,
    distribution: str | Mapping[str, Tensor] = "erk",
    method: str = "eoi",
    gain: float = 1.0,
    bias_std: float = 0.0,
    conv_mode: str | None = None,
    exact_density: bool = False,
    iterations: int | None = None,
    blocks: Mapping[str, int] | None = None,
    embeddings: bool = False,
    masking: str = "hooks",
    generator: torch.Generator | None = None,
    check_ranks: bool = False,
) -> SparseModel:
    """Initializes every supported weight of `model` sparsely and fixes its mask.

    EOI (Nowak et al., "Sparser, Better, Deeper, Stronger", ICML 2024) or a baseline, for
    a whole model: supported weights are those of eoi_ext.layers (Linear, Conv /
    ConvTranspose, RNN / LSTM / GRU per gate, MultiheadAttention per q/k/v); other
    modules with weights are named in a warning. A tensor several modules hold (tied
    weights, e.g. an embedding and lm_head) is one weight: initialized once, with one
    mask fixed on every holder, counted once. Everything is validated and computed
    before the model is changed, and a failure while changing it (even a
    KeyboardInterrupt) is rolled back: an error leaves the model exactly as it was
    (docs/reliability.md). Same-shape layers are initialized in one batched call (equal
    to per-layer calls).

    Masks stay fixed through training (docs/masking.md): by default ("hooks") every weight
    stays its plain parameter, zero outside the mask, its gradient masked after
    backward, and optimizers not known to keep zeros re-mask after their step; the
    masks are buffers "<attr>_eoi_mask" in the state dict. Embeddings, and layers tied to
    them (a language model's head), stay dense unless `embeddings`.

    Sharded models: weights and biases may be DTensors (Shard(0), Shard(1) or
    Replicate() on a 1-D mesh, e.g. after tensor parallelism or FSDP2 fully_shard; a
    model built on the meta device must be materialized with to_empty first). Each rank
    computes only its shards, with no collective, and the masks are DTensors placed like
    their weights; seed every rank alike (docs/blocks-and-sharding.md).

    Args:
        model: the network, changed in place.
        density: overall density in (0, 1] (None with a mapping of masks).
        distribution: "uniform", "er", "erk", "uniform_dense_ends", "uni_skip",
            "uni_skip_eis", "erk_eis" (eoi_ext.layer_densities), or
            {parameter name: mask}, e.g. from eoi_ext.mask_sources (SNIP, GraSP,
            SynFlow): EOI takes each layer's density from its mask, the baselines that
            take a mask keep its positions, and "base" and "ai" the model's values
            there, the init the masks were scored on (eoi_ext.methods).
        method: "eoi", or a baseline (eoi_ext.baselines; docs/algorithm.md): "base"
            (the paper's: dense orthogonal / conv_orthogonal, masked, not rescaled),
            "ai" (the published approximate isometry, from base), "random" (scaled
            Kaiming), "ai_kaiming" (approximate isometry from random), "svd_ai",
            "sao" / "sao_relu" (Ramanujan masks; as published with "uni_skip" and
            density degree / width).
        gain: scale of every weight (for example 1.0247 for deep tanh networks).
        bias_std: biases become normal(0, bias_std); zeros with 0.
        conv_mode: "delta", "delta_more" or "structured" (eoi_ext.init.sparse_orthogonal_);
            None: "structured" for the EIS distributions, else the model's own (the
            ResNets, VGGs and EfficientNet of eoi_ext.models: "delta_more", as the
            published runs), else "delta" (eoi_ext.conv_modes).
        exact_density: EOI masks hold exactly round(density_l * numel) entries.
        iterations: steps of "ai" (default 1000) and "ai_kaiming" (100), projections
            of "svd_ai" (10).
        blocks: {module name pattern: row blocks}, e.g. {"*.qkv": 3} for a fused q/k/v
            Linear the adapters do not already split (eoi_ext.layers.find_layer_weights).
        embeddings: also sparsify nn.Embedding weights and the layers tied to them.
        masking: "hooks" (no cost in the forward pass; needed under FSDP2) or
            "parametrize" (torch.nn.utils.parametrize, weight = original * mask).
        generator: source of all randomness (torch's default generator when None).
        check_ranks: for sharded models, first compare a fingerprint of the generator
            state and the arguments across ranks (one small all_gather, the only
            collective) and raise ValueError on every rank if they differ.

    Returns:
        A SparseModel: .masks {parameter name: bool mask}, .densities, .density, .info,
        .remove().

    Examples:
        >>> nn = torch.nn
        >>> model = nn.Sequential(nn.Conv2d(16, 32, 3), nn.Flatten(), nn.Linear(32 * 6 * 6, 10))
        >>> sparse = eoi_ext.sparsify(model, 0.5)  # ERK densities by default
        >>> list(sparse.masks)
        ['0.weight', '2.weight']
        >>> model[0].weight_eoi_mask.dtype  # the mask, a buffer beside the weight
        torch.bool
    """
    check_model(model)
    check_choice(method, tuple(METHODS), "method")
    if not isinstance(distribution, Mapping):
        check_choice(distribution, DISTRIBUTIONS, "distribution", also="a mapping of masks")
        check_density(density)
    gain = check_gain(gain)
    bias_std = check_bias_std(bias_std)
    conv_mode = default_conv_mode(conv_mode, distribution, model)
    check_flag(exact_density, "exact_density")
    check_generator(generator)
    if iterations is not None:
        iterations = check_size(iterations, "iterations", minimum=0)
    check_flag(check_ranks, "check_ranks")
    check_flag(embeddings, "embeddings")
    check_choice(masking, MASKINGS, "masking")
    layers, unsupported = require_layer_weights(model, blocks, embeddings)
    fsdp = fsdp_parameters(model)
    for layer in layers:
        check_layer(layer, fsdp, masking)
        check_gain_fits(gain, layer.parameter.dtype)
    densities = densities_of(layers, density, distribution)
    given = distribution if isinstance(distribution, Mapping) else None
    check_whole(given, method, layers)
    if check_ranks:
        arguments = (
            method, gain, bias_std, conv_mode, exact_density, iterations, masking,
            [(layer.name, layer.shape, layer.groups, densities[layer.name]) for layer in layers],
        )  # fmt: skip
        tensors = [t for layer in layers for t in (layer.parameter, layer.bias_parameter)]
        check_same_draws([t for t in tensors if t is not None], generator, arguments)
    # Before any change: a warning turned into an error changes nothing.
    warn_left_dense([entry for entry in unsupported if not entry.by_choice], SUPPORTED)

    # Compute everything, then change the model: all of it or, on any error, none.
    with single_threaded_if_forked():
        built = layer_values(
            layers, densities, method, gain, conv_mode, exact_density, iterations, generator,
            given,
        )  # fmt: skip
        biases = bias_values(layers, bias_std, generator)
        masks, hooks = change_model(layers, built, biases, masking)
    errors = {name: error for name, (_, _, error) in built.items() if error is not None}
    info = {"isometry_error": errors} if errors else {}
    return SparseModel(model, masks, densities, method, info, layers, hooks, masking)
