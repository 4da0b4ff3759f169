"""Fake (meta) kernels of the compiled ops, so they run on meta tensors, under
FakeTensorMode and under torch.compile. Imported by eoi_ext.ops once the extension is
loaded (the ops must be defined before kernels can be registered for them)."""

from __future__ import annotations

import torch
from torch import Tensor


@torch.library.register_fake("eoi_ext::sample_plans")
def _sample_plans_fake(
    seeds: Tensor, n: int, m: int, density: float, at_most: bool
) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    torch._check(seeds.dim() == 1, lambda: "seeds must be 1-D")
    count = seeds.shape[0]
    # The number of rotations depends on the sampled values: a data-dependent size.
    rotations = torch.library.get_ctx().new_dynamic_size()
    offsets = seeds.new_empty(count + 1)
    pairs = seeds.new_empty(rotations, 2, dtype=torch.int32)
    cos_sin = seeds.new_empty(rotations, 2, dtype=torch.float64)
    support = seeds.new_empty(count, m, (n + 63) // 64)
    return offsets, pairs, cos_sin, support


@torch.library.register_fake("eoi_ext::rotation_levels")
def _rotation_levels_fake(offsets: Tensor, pairs: Tensor, m: int) -> Tensor:
    return pairs.new_empty(pairs.shape[0])


@torch.library.register_fake("eoi_ext::apply_plans")
def _apply_plans_fake(
    offsets: Tensor,
    pairs: Tensor,
    cos_sin: Tensor,
    m: int,
    row_begin: int,
    row_end: int,
    transposed: bool,
    gain: float,
    out: Tensor,
    coord_begin: int = 0,
    coord_end: int = -1,
) -> None:
    return None


@torch.library.register_fake("eoi_ext::support_masks")
def _support_masks_fake(
    support: Tensor,
    n: int,
    m: int,
    row_begin: int,
    row_end: int,
    transposed: bool,
    mask: Tensor,
    coord_begin: int = 0,
    coord_end: int = -1,
) -> None:
    return None


@torch.library.register_fake("eoi_ext::top_up_masks")
def _top_up_masks_fake(seeds: Tensor, target_count: int, mask: Tensor) -> None:
    return None
