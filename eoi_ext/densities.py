"""Layer-wise densities for a whole model (docs/algorithm.md, "Layer-wise densities")."""

from __future__ import annotations

import math
from collections.abc import Mapping

from torch import Tensor, nn

from .checks import check_choice, check_density
from .layers import LayerWeight, require_layer_weights
from .mask_densities import densities_from_masks

__all__ = ["DISTRIBUTIONS", "densities_of", "layer_densities"]

DISTRIBUTIONS = (
    "uniform",
    "er",
    "erk",
    "uniform_dense_ends",
    "uni_skip",
    "uni_skip_eis",
    "erk_eis",
)


def layer_densities(
    model: nn.Module,
    density: float | None,
    distribution: str | Mapping[str, Tensor] = "erk",
    blocks: Mapping[str, int] | None = None,
) -> dict[str, float]:
    """Density of every supported weight of `model` ({parameter name: density}).

    Args:
        model: the network; its supported weights are those of eoi_ext.layers.
        density: overall density D in (0, 1]: the densities are chosen so that
            sum(density_l * numel_l) = D * sum(numel_l). Ignored (may be None) when
            `distribution` is a mapping of masks.
        distribution:
            "uniform": every layer gets D.
            "er" / "erk": Erdos-Renyi(-Kernel): density_l proportional to
                (sum of dims) / (product of dims) of the weight, only the two channel
                dims for "er"; layers that would exceed 1 are dense and the rest rescaled.
                Conv weights are scored on their shape (c_out, c_in / groups, *kernel)
                as published; RNN gates and q/k/v per block. (The published code's "er"
                is this "erk".)
            "uniform_dense_ends": the first and last weight dense, the others at the
                density that makes the total D.
            "uni_skip": the published uniform_skip_first_last: every non-square 2-D
                weight and every conv with 3 input channels dense, the others *at* D
                (the total is then above D).
            "uni_skip_eis" / "erk_eis": the published structured EIS ("uni_skip_EIS",
                "erk_EIS"): "uni_skip" / "erk", then every 2-D weight (Linear) and
                every conv with 3 input channels dense, as its weight preprocessor
                makes them (total above D); sparsify pairs them with conv_mode
                "structured".
            a mapping {parameter name: bool mask}: each layer's density is its mask's
                (for example masks from SNIP, GraSP or SynFlow); layers without a mask
                are dense.
        blocks: row blocks by module name pattern, as for sparsify (they change the
            ERK scores of fused layers).

    Returns:
        {parameter name: density in (0, 1]} for every supported weight.

    Raises:
        ValueError: no supported weights, an unknown distribution, or a density the
            distribution cannot reach (for example below what dense ends already hold).

    Examples:
        >>> model = torch.nn.Sequential(*[torch.nn.Linear(64, 64) for _ in range(4)])
        >>> densities = eoi_ext.layer_densities(model, 0.75, "uniform_dense_ends")
        >>> list(densities.values())
        [1.0, 0.5, 0.5, 1.0]
    """
    return densities_of(require_layer_weights(model, blocks)[0], density, distribution)


def densities_of(
    layers: list[LayerWeight],
    density: float | None,
    distribution: str | Mapping[str, Tensor] = "erk",
) -> dict[str, float]:
    """:func:`layer_densities` of weights already found (sparsify has them).

    Args:
        layers: the supported weights (eoi_ext.layers.find_layer_weights).
        density: as for layer_densities.
        distribution: as for layer_densities.

    Returns:
        {parameter name: density in (0, 1]}.

    Examples:
        >>> weights, _ = eoi_ext.layers.find_layer_weights(torch.nn.Linear(8, 8))
        >>> eoi_ext.densities.densities_of(weights, 0.5, "uniform")
        {'weight': 0.5}
    """
    if isinstance(distribution, Mapping):
        return densities_from_masks(layers, distribution)
    check_choice(distribution, DISTRIBUTIONS, "distribution", also="a mapping of masks")
    density = check_density(density)
    sizes = {layer.name: math.prod(layer.shape) for layer in layers}
    if distribution == "uniform":
        return dict.fromkeys(sizes, density)
    if distribution == "uniform_dense_ends":
        return _dense_ends(layers, sizes, density)
    if distribution in ("uni_skip", "uni_skip_eis"):
        densities = {layer.name: 1.0 if _skipped(layer.shape) else density for layer in layers}
    else:
        scores = {layer.name: _score(layer, distribution == "er") for layer in layers}
        densities = _scaled(sizes, scores, density)
    if distribution.endswith("_eis"):
        densities.update({layer.name: 1.0 for layer in layers if _eis_dense(layer.shape)})
    return densities


def _skipped(shape: tuple[int, ...]) -> bool:
    """The published uni_skip's dense layers: a non-square matrix (the first and last
    Linear of its networks) or a 2-D conv on 3 input channels (the first conv)."""
    return (len(shape) == 2 and shape[0] != shape[1]) or (len(shape) == 4 and shape[1] == 3)


def _eis_dense(shape: tuple[int, ...]) -> bool:
    """The published structured EIS's dense layers (sparselearning/weight_preprocesser.py,
    StrcuturedSparseOrthogonalPreprocesser): every 2-D weight, and a conv on 3 input
    channels (its mask all ones)."""
    return len(shape) == 2 or (len(shape) == 4 and shape[1] == 3)


def _score(layer: LayerWeight, channels_only: bool) -> float:
    rows, cols, *kernel = layer.shape
    if layer.kind != "conv":  # gates and q/k/v: each block its own matrix
        rows //= layer.groups
    dims = [rows, cols] if channels_only else [rows, cols, *kernel]
    return sum(dims) / math.prod(dims)


def _scaled(sizes: dict[str, int], scores: dict[str, float], density: float) -> dict[str, float]:
    """density_l = min(1, eps * score_l) with eps chosen so the kept total is D * N."""
    target = density * sum(sizes.values())
    dense: set[str] = set()
    while True:
        free = [name for name in sizes if name not in dense]
        if not free:  # density 1 (or near it): every layer dense
            break
        budget = target - sum(sizes[name] for name in dense)
        weighted = sum(scores[name] * sizes[name] for name in free)
        eps = budget / weighted if weighted > 0 else math.inf
        top = max((scores[name] for name in free), default=0.0)
        if eps * top <= 1.0:
            break
        # The highest-scoring layers become dense and eps is solved again, a round at a
        # time, as the published ERK does (tests/test_published_densities.py).
        dense.update(name for name in free if scores[name] == top)
    return {name: 1.0 if name in dense else eps * scores[name] for name in sizes}


def _dense_ends(
    layers: list[LayerWeight], sizes: dict[str, int], density: float
) -> dict[str, float]:
    if len(layers) < 3:
        raise ValueError(
            f"uniform_dense_ends needs at least 3 supported weights, the model has {len(layers)}"
        )
    ends = {layers[0].name, layers[-1].name}
    total = sum(sizes.values())
    inner = total - sum(sizes[name] for name in ends)
    inner_density = (density * total - sum(sizes[name] for name in ends)) / inner
    if not 0.0 < inner_density <= 1.0:
        minimum = sum(sizes[name] for name in ends) / total
        raise ValueError(
            f"density {density:g} cannot be reached with dense first and last layers: it must "
            f"be above {minimum:.4g} (their share of the weights)"
        )
    return {name: 1.0 if name in ends else inner_density for name in sizes}
