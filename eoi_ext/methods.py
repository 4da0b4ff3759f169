"""sparsify's initialization methods: EOI and the baselines, one registry entry each.

Every method builds the weights and masks of same-shape weights in one call, each
weight whole or only a block of it (a rank's shard): EOI builds just the block
(eoi_ext.build); a baseline draws every weight whole, exactly as in one process, and
keeps the block. Given masks (sparsify's mapping of masks, e.g. from SNIP) set EOI's
densities and are kept, positions and all, by the baselines that take a mask. Adding a
method is one function and one entry in :data:`METHODS`.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from . import baselines
from .build import build
from .spec import Block, WeightSpec

__all__ = ["KEEPS_MASKS", "MASKS_MODEL_VALUES", "METHODS", "Built", "Method"]


@dataclass
class Built:
    """What a method returns for `count` weights: per weight its (block of) weights and
    its own bool mask, and for approximate-isometry methods the error each reached."""

    weights: list[Tensor]
    masks: list[Tensor]
    errors: list[float] | None = None


Method = Callable[..., Built]


def _eoi(
    spec: WeightSpec, blocks: Sequence[Block], *, generator: torch.Generator | None,
    dtype: torch.dtype, device: torch.device, iterations: int | None,
    masks: Tensor | None, start: Tensor | None,
) -> Built:  # fmt: skip
    """Consecutive weights with the same block are built in one call: consecutive seed
    draws equal one batched draw, so the result does not depend on the grouping. Given
    masks only set the density (sparsify takes it from them): EOI samples its own."""
    weights, built_masks = [], []
    for (rows, cols), run in itertools.groupby(blocks):
        count = len(list(run))
        w, m = build(
            spec, count=count, generator=generator, row_range=rows, col_range=cols,
            dtype=dtype, device=device,
        )  # fmt: skip
        weights += list(w)
        built_masks += [mask.clone() for mask in m]  # each its own buffer, not a batch view
    return Built(weights, built_masks)


Draw = Callable[..., tuple[Tensor, ...]]


def _whole_then_block(draw: Draw) -> Method:
    def method(
        spec: WeightSpec, blocks: Sequence[Block], *, generator: torch.Generator | None,
        dtype: torch.dtype, device: torch.device, iterations: int | None,
        masks: Tensor | None, start: Tensor | None,
    ) -> Built:  # fmt: skip
        w, m, *errors = draw(spec, len(blocks), generator, iterations, dtype, device, masks, start)
        cut = [_cut(b, block) for b, block in enumerate(blocks)]
        return Built(
            [w[index] for index in cut],
            [m[index].clone() for index in cut],
            errors[0].tolist() if errors else None,
        )

    return method


def _cut(index: int, block: Block) -> tuple[int | slice, ...]:
    """Index of weight `index`'s block in a (count, *shape) stack."""
    rows, cols = block
    return (index, slice(*(rows or (None, None))), slice(*(cols or (None, None))))


# The baselines' draws: (weights, masks[, errors]) of `count` whole weights, keeping
# `masks` ((count, *shape), a mask source's) where given; "base" and "ai" get the
# model's weights as `start` then, and mask those values.
def _random(
    spec: WeightSpec, count: int, generator, iterations, dtype, device, masks, start
) -> tuple:
    return baselines.random_sparse(
        spec.shape, spec.density, gain=spec.gain, count=count, masks=masks,
        generator=generator, dtype=dtype, device=device,
    )  # fmt: skip


def _base(
    spec: WeightSpec, count: int, generator, iterations, dtype, device, masks, start
) -> tuple:
    if start is not None:  # a mask source scored these values: mask them, as published
        return (start * masks).to(device=device, dtype=dtype), masks.to(device)
    return baselines.orthogonal_base(
        spec.shape, spec.density, gain=spec.gain, groups=spec.groups, count=count,
        masks=masks, generator=generator, dtype=dtype, device=device,
    )  # fmt: skip


def _ai(spec: WeightSpec, count: int, generator, iterations, dtype, device, masks, start) -> tuple:
    """The published AI: from the paper's base, in float64 until the end."""
    w, m = _base(spec, count, generator, None, torch.float64, "cpu", masks, start)
    steps = baselines.PUBLISHED_AI_ITERATIONS if iterations is None else iterations
    w, errors = baselines.published_isometry(
        w, m, gain=spec.gain, groups=spec.groups, iterations=steps
    )
    return w.to(device=device, dtype=dtype), m.to(device), errors


def _ai_kaiming(
    spec: WeightSpec, count: int, generator, iterations, dtype, device, masks, start
) -> tuple:
    w, m = _random(spec, count, generator, None, dtype, device, masks, None)
    steps = baselines.AI_STEPS if iterations is None else iterations
    w, errors = baselines.approximate_isometry(
        w, m, gain=spec.gain, groups=spec.groups, steps=steps
    )
    return w, m, errors


def _svd_ai(
    spec: WeightSpec, count: int, generator, iterations, dtype, device, masks, start
) -> tuple:
    w, m = _random(spec, count, generator, None, dtype, device, masks, None)
    rounds = baselines.SVD_ITERATIONS if iterations is None else iterations
    w, errors = baselines.svd_isometry(w, m, gain=spec.gain, groups=spec.groups, iterations=rounds)
    return w, m, errors


def _sao(relu: bool) -> Draw:
    def draw(
        spec: WeightSpec, count: int, generator, iterations, dtype, device, masks, start
    ) -> tuple:
        """SAO's own masks at each layer's density (a given mask's realized density, as
        for EOI), which must be a reachable degree: the error names the layers."""
        try:
            return baselines.sao(
                spec.shape, spec.density, gain=spec.gain, groups=spec.groups, count=count,
                relu=relu, generator=generator, dtype=dtype, device=device,
            )  # fmt: skip
        except ValueError as error:
            raise ValueError(f"{spec.label}: {error}") from None

    return draw


METHODS: dict[str, Method] = {
    "eoi": _eoi,
    "base": _whole_then_block(_base),
    "ai": _whole_then_block(_ai),
    "random": _whole_then_block(_random),
    "ai_kaiming": _whole_then_block(_ai_kaiming),
    "svd_ai": _whole_then_block(_svd_ai),
    "sao": _whole_then_block(_sao(relu=False)),
    "sao_relu": _whole_then_block(_sao(relu=True)),
}

KEEPS_MASKS = frozenset({"base", "ai", "random", "ai_kaiming", "svd_ai"})
"""Methods that keep given masks' positions; the others (EOI) take only their densities."""

MASKS_MODEL_VALUES = frozenset({"base", "ai"})
"""Methods that, given masks, start from the model's own weights: the mask source scored
the dense init, and the published base is that init masked (docs/algorithm.md)."""
