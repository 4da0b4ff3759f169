"""The compiled ops torch.ops.eoi_ext.* (schemas in csrc/ops.cpp), each wrapper beside its
fake kernel.

The fake (meta) kernels give the ops' output shapes on meta tensors, under
FakeTensorMode and under torch.compile, after the checks of the compiled op that need no
data (eoi_ext/fallback/checks.py, data=False); they are registered when this module is
imported, which eoi_ext.backends does right after loading eoi_ext._C (without the
extension the ops do not exist and nothing is registered). eoi_ext.fallback has the same
five functions with the same signatures in pure PyTorch (docs/backends.md).

Shapes, for `count` matrices whose smaller side is n and larger side m, R rotations in
all: seeds (count,) int64; offsets (count + 1,) int64; pairs (R, 2) int32; cos_sin (R, 2)
float64; support (count, m, ceil(n / 64)) int64. The ops speak A's coordinates: rows
[row_begin, row_end) of A = [I_n | 0] G_1 ... G_R and coordinates [coord_begin,
coord_end) (-1: m); eoi_ext.givens turns blocks of W into these.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

from .fallback import checks

__all__ = ["apply_plans", "rotation_levels", "sample_plans", "support_masks", "top_up_masks"]


def _fake(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Registers the decorated function as the fake kernel of eoi_ext::name, when the
    extension has defined that op."""

    def register(kernel: Callable[..., Any]) -> Callable[..., Any]:
        if hasattr(torch.ops.eoi_ext, name):
            torch.library.register_fake(f"eoi_ext::{name}")(kernel)
        return kernel

    return register


def _check_written(output: Tensor, **inputs: Tensor) -> None:
    """A fake kernel also runs as the Meta kernel of a call mixing meta inputs with a real
    output, which it would leave unwritten: that call fails as the CPU op does for a
    non-CPU input. (Under FakeTensorMode no tensor is on meta.)"""
    if output.device.type != "meta":
        for name, tensor in inputs.items():
            if tensor.is_meta:
                checks.fail(f"{name} must be a CPU tensor (plans, seeds and supports are built "
                            "on the CPU), got meta")  # fmt: skip


def sample_plans(
    seeds: Tensor, n: int, m: int, density: float, at_most: bool, pin_memory: bool = False
) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Samples and tracks the rotations of one matrix per seed; returns
    (offsets, pairs, cos_sin, support), the support in pinned memory if `pin_memory`."""
    return torch.ops.eoi_ext.sample_plans(seeds, n, m, density, at_most, pin_memory)


@_fake("sample_plans")
def _sample_plans_fake(
    seeds: Tensor, n: int, m: int, density: float, at_most: bool, pin_memory: bool = False
) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    checks.check_sample_plans(seeds, n, m, density, pin_memory, data=False)
    count = seeds.shape[0]
    # The number of rotations depends on the sampled values: a data-dependent size.
    rotations = torch.library.get_ctx().new_dynamic_size()
    offsets = seeds.new_empty(count + 1)
    pairs = seeds.new_empty(rotations, 2, dtype=torch.int32)
    cos_sin = seeds.new_empty(rotations, 2, dtype=torch.float64)
    support = seeds.new_empty(count, m, (n + 63) // 64)
    return offsets, pairs, cos_sin, support


def rotation_levels(offsets: Tensor, pairs: Tensor, m: int) -> Tensor:
    """ASAP level of every rotation, per matrix: (R,) int32."""
    return torch.ops.eoi_ext.rotation_levels(offsets, pairs, m)


@_fake("rotation_levels")
def _rotation_levels_fake(offsets: Tensor, pairs: Tensor, m: int) -> Tensor:
    checks.check_pairs(offsets, pairs, m, data=False)
    return pairs.new_empty(pairs.shape[0])


def apply_plans(
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
    """Writes gain * rows [row_begin, row_end), coordinates [coord_begin, coord_end) of
    every A into out: (count, k, w), or (count, w, k) when transposed, k = row_end -
    row_begin, w = coord_end - coord_begin. The plan tensors are CPU tensors; out may be
    a CPU or (CUDA builds) a CUDA tensor."""
    torch.ops.eoi_ext.apply_plans(
        offsets, pairs, cos_sin, m, row_begin, row_end, transposed, gain, out, coord_begin,
        coord_end,
    )  # fmt: skip


@_fake("apply_plans")
def _apply_plans_fake(
    offsets: Tensor, pairs: Tensor, cos_sin: Tensor, m: int, row_begin: int, row_end: int,
    transposed: bool, gain: float, out: Tensor, coord_begin: int = 0, coord_end: int = -1,
) -> None:  # fmt: skip
    _check_written(out, offsets=offsets, pairs=pairs, cos_sin=cos_sin)
    checks.check_apply_plans(
        offsets, pairs, cos_sin, m, row_begin, row_end, transposed, gain, out, coord_begin,
        coord_end, data=False,
    )  # fmt: skip


def support_masks(
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
    """Writes the support of rows [row_begin, row_end), coordinates [coord_begin,
    coord_end) of every A into the bool mask, laid out like apply_plans' out. On CUDA,
    support may stay on the CPU (it is copied through pinned memory without blocking)."""
    torch.ops.eoi_ext.support_masks(
        support, n, m, row_begin, row_end, transposed, mask, coord_begin, coord_end
    )


@_fake("support_masks")
def _support_masks_fake(
    support: Tensor, n: int, m: int, row_begin: int, row_end: int, transposed: bool,
    mask: Tensor, coord_begin: int = 0, coord_end: int = -1,
) -> None:  # fmt: skip
    _check_written(mask, support=support)
    checks.check_support_masks(
        support, n, m, row_begin, row_end, transposed, mask, coord_begin, coord_end, data=False
    )


def top_up_masks(seeds: Tensor, target_count: int, mask: Tensor) -> None:
    """Adds random free positions to every (rows, cols) mask of mask (count, rows, cols)
    until it holds target_count entries (docs/random-stream.md, "Top-up")."""
    torch.ops.eoi_ext.top_up_masks(seeds, target_count, mask)


@_fake("top_up_masks")
def _top_up_masks_fake(seeds: Tensor, target_count: int, mask: Tensor) -> None:
    _check_written(mask, seeds=seeds)
    checks.check_top_up_masks(seeds, target_count, mask, data=False)
