"""The construction pipeline: (weights, masks) of EOI weights, whole or any block.

Every front end is a thin layer over :func:`build`: sparse_orthogonal and
sparse_orthogonal_batch (2-D specs), init.sparse_orthogonal_ (one weight, or a DTensor's
local block), sparsify (same-shape layers in one call) and sharded init (a block per
rank). The steps, for `count` weights of one spec:

1. seeds: spec.seeds_per_weight per weight from the generator, in weight order (one per
   group, then the kernel's top-up seed), so a batch equals consecutive single calls;
2. the plan of every EOI matrix (count x groups), sampled and tracked on the CPU;
3. each matrix's block of weights and mask, group by group (eoi_ext.givens), with the
   matrix's exact-density top-up;
4. for kernels, H at the centre tap and the kernel mask of the conv mode (eoi_ext.conv).

A block of a weight is its rows [row_range] and columns [col_range] of the first two
dims (W's own coordinates); every other dim is whole. Only the block is computed,
except a kernel's top-up, which needs the whole (small, c_out x c_in) mask of H.
"""

from __future__ import annotations

import torch
from torch import Tensor

from . import conv
from .checks import check_out
from .forked import single_threaded_if_forked
from .givens import RotationPlan, apply_plan, draw_seeds, plan_from_seeds, support_mask
from .group_writes import by_group
from .pipelining import build_chunks
from .spec import Span, WeightSpec
from .top_up import top_up_
from .user_warnings import warn_if_unreachable

__all__ = ["build"]


def build(
    spec: WeightSpec,
    *,
    count: int = 1,
    generator: torch.Generator | None = None,
    row_range: Span | None = None,
    col_range: Span | None = None,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
    out: Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    """Weights and masks of `count` EOI weights of `spec` (no validation: see the front
    ends), or their block [row_range, col_range].

    Returns:
        (weights, masks), each (count, r1 - r0, c1 - c0, *spec.kernel); weights of
        `dtype` on `device`, or `out` (a contiguous tensor of that shape) written in place.
        On the meta device, shapes only: nothing is drawn from the generator.
    """
    with single_threaded_if_forked():
        return _build(spec, count, generator, row_range, col_range, dtype, device, out)


def _build(
    spec: WeightSpec,
    count: int,
    generator: torch.Generator | None,
    row_range: Span | None,
    col_range: Span | None,
    dtype: torch.dtype,
    device: torch.device | str | None,
    out: Tensor | None,
) -> tuple[Tensor, Tensor]:
    if out is not None:
        dtype, device = out.dtype, out.device
    device = torch.device(device or "cpu")
    rows = row_range or (0, spec.shape[0])
    cols = col_range or (0, spec.shape[1])
    shape = (count, rows[1] - rows[0], cols[1] - cols[0], *spec.kernel)
    if out is not None:
        check_out(out, shape)
    warn_if_unreachable(spec.matrix_density, *spec.matrix_shape, spec.label)
    weights = out if out is not None else torch.empty(shape, dtype=dtype, device=device)
    if device.type == "meta":  # like torch.nn.init on meta tensors: no values to sample
        return weights, torch.empty(shape, dtype=torch.bool, device=device)
    # Drawn even for an empty block, so every rank's generator advances alike.
    seeds = draw_seeds(count * spec.seeds_per_weight, generator).view(count, spec.seeds_per_weight)
    if weights.numel() == 0:
        return weights, torch.empty(shape, dtype=torch.bool, device=device)
    # Chunk by chunk on a GPU, so that planning a chunk overlaps the kernels of the last
    # (eoi_ext/pipelining.py); the masks then go into one tensor, the weights straight in.
    chunks = build_chunks(count, weights[0].numel(), device, into_out=out is not None)
    if len(chunks) == 1:
        return weights, _build_chunk(spec, seeds, rows, cols, weights, None)
    masks = torch.empty(shape, dtype=torch.bool, device=device)
    for begin, end in chunks:
        _build_chunk(spec, seeds[begin:end], rows, cols, weights[begin:end], masks[begin:end])
    return weights, masks


def _build_chunk(
    spec: WeightSpec,
    seeds: Tensor,
    rows: Span,
    cols: Span,
    weights: Tensor,
    masks: Tensor | None,
) -> Tensor:
    """Writes the block [rows, cols] of the weights of `seeds` (count, seeds_per_weight)
    into `weights`, and returns their masks: `masks` written in place, or a new tensor."""
    count, device = seeds.shape[0], weights.device
    plan = plan_from_seeds(
        seeds[:, : spec.groups].contiguous().view(-1), *spec.matrix_shape, spec.matrix_density,
        exact_density=spec.exact_density, pin_memory=device.type == "cuda",
    )  # fmt: skip

    def write_weights(sub: RotationPlan, r: Span | None, c: Span | None, o: Tensor) -> None:
        apply_plan(sub, row_range=r, col_range=c, gain=spec.gain, out=o)

    # The masks first and the weights last: with out=, a failure leaves out unwritten
    # (docs/reliability.md, "Nothing half-changed").
    if not spec.kernel:
        built = _matrix_masks(spec, plan, count, rows, cols, device, masks)
        by_group(spec, plan, count, rows, cols, weights, write_weights)
        return built
    kernel_seeds = seeds[:, -1].contiguous()  # the kernel's top-up seeds (if it has one)
    if spec.kernel_top_up and (rows, cols) != ((0, spec.shape[0]), (0, spec.shape[1])):
        # A block of a kernel's top-up depends on the whole mask of H (small).
        whole_h = _matrix_masks(spec, plan, count, (0, spec.shape[0]), (0, spec.shape[1]), "cpu")
        h_mask = whole_h[:, rows[0] : rows[1], cols[0] : cols[1]].to(device)
        built = conv.kernel_masks(spec, h_mask, kernel_seeds, whole_h, rows, cols)
    else:
        h_mask = _matrix_masks(spec, plan, count, rows, cols, device)
        built = conv.kernel_masks(spec, h_mask, kernel_seeds)
    h = torch.empty(weights.shape[:3], dtype=weights.dtype, device=device)
    by_group(spec, plan, count, rows, cols, h, write_weights)
    conv.kernel_weights_(weights, h)
    return built if masks is None else masks.copy_(built)


def _matrix_masks(
    spec: WeightSpec,
    plan: RotationPlan,
    count: int,
    rows: Span,
    cols: Span,
    device: torch.device | str,
    out: Tensor | None = None,
) -> Tensor:
    """The block [rows, cols] of the matrices' masks, (count, r1 - r0, c1 - c0), each
    matrix topped up to spec.matrix_target entries with exact_density; into `out` if
    given (contiguous, that shape)."""
    shape = (count, rows[1] - rows[0], cols[1] - cols[0])
    masks = out if out is not None else torch.empty(shape, dtype=torch.bool, device=device)

    def write(sub: RotationPlan, r: Span | None, c: Span | None, o: Tensor) -> None:
        support_mask(sub, row_range=r, col_range=c, out=o)
        if spec.exact_density:
            top_up_(o, sub.seeds, spec.matrix_target, held=sub, row_range=r, col_range=c)

    by_group(spec, plan, count, rows, cols, masks, write)
    return masks
