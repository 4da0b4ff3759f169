"""Layer densities read from given masks (sparsify's `distribution` as a mapping, e.g.
from eoi_ext.mask_sources): each layer's realized density, checked against the model."""

from __future__ import annotations

from collections.abc import Mapping

from torch import Tensor

from .layer_weight import LayerWeight

__all__ = ["densities_from_masks"]


def densities_from_masks(
    layers: list[LayerWeight], masks: Mapping[str, Tensor]
) -> dict[str, float]:
    """{parameter name: the density of its mask}; weights without a mask are dense.

    Raises:
        ValueError: a mask for a weight the model lacks, of another shape, or empty.
    """
    by_name = {layer.name: layer for layer in layers}
    unknown = sorted(set(masks) - set(by_name))
    if unknown:
        raise ValueError(
            f"masks name weights the model has no supported layer for: {', '.join(unknown)}"
        )
    densities = {}
    for name, layer in by_name.items():
        mask = masks.get(name)
        if mask is None:
            densities[name] = 1.0
            continue
        stored = tuple(layer.parameter.shape)  # masks are stored like their weights
        if tuple(mask.shape) != stored:
            raise ValueError(f"mask for {name} has shape {tuple(mask.shape)}, the weight {stored}")
        kept = float(mask.count_nonzero()) / mask.numel()
        if kept == 0.0:
            raise ValueError(f"mask for {name} is empty: a layer needs a density in (0, 1]")
        densities[name] = kept
    return densities
