"""Delta-orthogonal conv kernels from EOI matrices (docs/algorithm.md, "Convolutions").

A kernel (c_out, c_in / groups, *kernel) holds its EOI matrices H (c_out, c_in / groups)
at the spatial centre tap and zeros elsewhere, so the convolution is an orthogonal map
on periodic signals (Xiao et al. 2018). Its mask follows the conv mode: "structured"
keeps H's support at every tap; "delta" and "delta_more" keep H's support at the centre
and add zero-valued, trainable positions anywhere in the kernel until the kernel holds
round(density * numel) entries, with the kernel's own top-up seed.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from .spec import WeightSpec
from .top_up import top_up_

__all__ = ["CentreTap", "centre", "kernel_masks", "kernel_weights_"]


def centre(kernel: tuple[int, ...]) -> tuple[int, ...]:
    """Index of a kernel's spatial centre, (k - 1) // 2 per dimension (as in the paper)."""
    return tuple((k - 1) // 2 for k in kernel)


def _at_centre(kernel: tuple[int, ...]) -> tuple[slice | int, ...]:
    """Index of the centre tap of a (count, c_out, c_in, *kernel) stack."""
    return (slice(None), slice(None), slice(None), *centre(kernel))


def kernel_weights_(out: Tensor, h: Tensor) -> Tensor:
    """Writes kernels holding `h` (count, r, c) at the centre tap into out
    (count, r, c, *kernel), zeros elsewhere. Returns out."""
    out.zero_()
    out[_at_centre(tuple(out.shape[3:]))] = h
    return out


class CentreTap:
    """The entries of whole kernel masks before their top-up: H's support at the centre
    tap. Masks are viewed as (c_out, c_in * taps) matrices, so a block of channels is a
    block of that view (eoi_ext.top_up.HeldEntries)."""

    def __init__(self, h_masks: Tensor, kernel: tuple[int, ...]) -> None:
        self.h_masks = h_masks.cpu()  # (count, c_out, c_in): whole, small
        self.taps = math.prod(kernel)
        self.centre_tap = int(torch.arange(self.taps).view(kernel)[centre(kernel)])

    @property
    def shape(self) -> tuple[int, int]:
        return self.h_masks.shape[1], self.h_masks.shape[2] * self.taps

    def held_counts(self) -> Tensor:
        return self.h_masks.flatten(1).sum(1)

    def holds(self, index: int, positions: Tensor) -> Tensor:
        channels, tap = positions // self.taps, positions % self.taps
        return (tap == self.centre_tap) & self.h_masks[index].view(-1)[channels]


def kernel_masks(
    spec: WeightSpec,
    h_mask: Tensor,
    seeds: Tensor,
    whole_h_mask: Tensor | None = None,
    rows: tuple[int, int] | None = None,
    cols: tuple[int, int] | None = None,
) -> Tensor:
    """Masks of kernels whose centre matrices have masks `h_mask` (count, r, c): the
    block [rows, cols] of the kernels' first two dims (None: whole kernels).

    seeds: (count,) kernel top-up seeds (unused in "structured" mode). A block's top-up
    depends on the whole of H's mask: `whole_h_mask` (count, c_out, c_in) is then needed.
    """
    count, r, c = h_mask.shape
    kernel = spec.kernel
    if spec.conv_mode == "structured":
        shape = (count, r, c, *kernel)
        return h_mask.view(count, r, c, *([1] * len(kernel))).expand(shape).contiguous()
    mask = torch.zeros(count, r, c, *kernel, dtype=torch.bool, device=h_mask.device)
    mask[_at_centre(kernel)] = h_mask
    flat = mask.view(count, r, -1)
    if whole_h_mask is None:
        top_up_(flat, seeds, spec.kernel_target)
        return mask
    taps = math.prod(kernel)
    c0, c1 = cols or (0, spec.shape[1])
    top_up_(
        flat, seeds, spec.kernel_target, held=CentreTap(whole_h_mask, kernel),
        row_range=rows or (0, spec.shape[0]), col_range=(c0 * taps, c1 * taps),
    )  # fmt: skip
    return mask
