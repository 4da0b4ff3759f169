"""sparsify's initialization methods: EOI and the baselines, one registry entry each.

Every method builds the weights and masks of same-shape weights in one call, each
weight whole or only a block of it (a rank's shard): EOI builds just the block
(eoi_ext.build); a baseline draws every weight whole, exactly as in one process, and
keeps the block. Adding a method is one function and one entry in :data:`METHODS`.
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

__all__ = ["METHODS", "Built", "Method"]


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
) -> Built:  # fmt: skip
    """Consecutive weights with the same block are built in one call: consecutive seed
    draws equal one batched draw, so the result does not depend on the grouping."""
    weights, masks = [], []
    for (rows, cols), run in itertools.groupby(blocks):
        count = len(list(run))
        w, m = build(
            spec, count=count, generator=generator, row_range=rows, col_range=cols,
            dtype=dtype, device=device,
        )  # fmt: skip
        weights += list(w)
        masks += [mask.clone() for mask in m]  # each its own buffer, not a view of the batch
    return Built(weights, masks)


Draw = Callable[..., tuple[Tensor, ...]]


def _whole_then_block(draw: Draw) -> Method:
    def method(
        spec: WeightSpec, blocks: Sequence[Block], *, generator: torch.Generator | None,
        dtype: torch.dtype, device: torch.device, iterations: int | None,
    ) -> Built:  # fmt: skip
        w, m, *errors = draw(spec, len(blocks), generator, iterations, dtype, device)
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


# The baselines' draws: (weights, masks[, errors]) of `count` whole weights.
def _random(spec: WeightSpec, count: int, generator, iterations, dtype, device) -> tuple:
    return baselines.random_sparse(
        spec.shape, spec.density, gain=spec.gain, count=count, generator=generator,
        dtype=dtype, device=device,
    )  # fmt: skip


def _orthogonal_masked(spec: WeightSpec, count: int, generator, iterations, dtype, device) -> tuple:
    return baselines.orthogonal_masked(
        spec.shape, spec.density, gain=spec.gain, groups=spec.groups, count=count,
        generator=generator, dtype=dtype, device=device,
    )  # fmt: skip


def _ai(spec: WeightSpec, count: int, generator, iterations, dtype, device) -> tuple:
    w, m = _random(spec, count, generator, None, dtype, device)
    steps = baselines.AI_STEPS if iterations is None else iterations
    w, errors = baselines.approximate_isometry(
        w, m, gain=spec.gain, groups=spec.groups, steps=steps
    )
    return w, m, errors


def _ai_published(spec: WeightSpec, count: int, generator, iterations, dtype, device) -> tuple:
    """The published AI: from the masked orthogonal weights, in float64 until the end."""
    w, m = _orthogonal_masked(spec, count, generator, None, torch.float64, "cpu")
    steps = baselines.PUBLISHED_AI_ITERATIONS if iterations is None else iterations
    w, errors = baselines.published_isometry(
        w, m, gain=spec.gain, groups=spec.groups, iterations=steps
    )
    return w.to(device=device, dtype=dtype), m.to(device), errors


def _svd_ai(spec: WeightSpec, count: int, generator, iterations, dtype, device) -> tuple:
    w, m = _random(spec, count, generator, None, dtype, device)
    rounds = baselines.SVD_ITERATIONS if iterations is None else iterations
    w, errors = baselines.svd_isometry(w, m, gain=spec.gain, groups=spec.groups, iterations=rounds)
    return w, m, errors


METHODS: dict[str, Method] = {
    "eoi": _eoi,
    "random": _whole_then_block(_random),
    "orthogonal_masked": _whole_then_block(_orthogonal_masked),
    "ai": _whole_then_block(_ai),
    "ai_published": _whole_then_block(_ai_published),
    "svd_ai": _whole_then_block(_svd_ai),
}
