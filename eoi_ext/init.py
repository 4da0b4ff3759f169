"""In-place initializers in the style of torch.nn.init."""

from __future__ import annotations

import math
import warnings

import torch
from torch import Tensor

from . import givens
from .api import (
    build_from_seeds,
    check_density,
    check_flag,
    check_gain,
    check_generator,
    check_size,
    warn_if_unreachable,
)
from .fallback.support_mask import add_free_positions
from .sharding import check_same_draws, is_dtensor, like_dtensor, local_block

CONV_MODES = ("delta", "delta_more", "structured")


def conv_centre(kernel_size: tuple[int, ...]) -> tuple[int, ...]:
    """Index of a kernel's spatial centre, (k - 1) // 2 per dimension (as in the paper)."""
    return tuple((k - 1) // 2 for k in kernel_size)


def centre_density(density: float, kernel_size: tuple[int, ...], conv_mode: str) -> float:
    """Density of the centre matrix H of a conv kernel built in `conv_mode` (DESIGN 1.5):
    d for "delta" and "structured", min(d * K, 1, sqrt(d)) for "delta_more"."""
    if conv_mode == "delta_more":
        return min(density * math.prod(kernel_size), 1.0, math.sqrt(density))
    return density


def sparse_orthogonal_(
    tensor: Tensor,
    density: float,
    *,
    gain: float = 1.0,
    conv_mode: str = "delta",
    groups: int = 1,
    exact_density: bool = False,
    generator: torch.Generator | None = None,
    check_ranks: bool = False,
) -> Tensor:
    """Fills a weight in place with an exactly orthogonal sparse matrix (EOI); returns
    its bool mask.

    Like torch.nn.init.orthogonal_, but with only a `density` fraction of nonzeros.
    Everything is validated before the tensor is touched.

    - 2-D weights (rows, cols), e.g. nn.Linear's (out, in): gain * W with W W^T = I
      (rows <= cols) or W^T W = I (rows > cols), zero outside the mask.
    - Convolution weights (c_out, c_in / groups, k_1, ..., k_s): delta-orthogonal
      (DESIGN.md 1.5): an EOI matrix H (c_out, c_in / groups) at the kernel's centre
      tap, zeros elsewhere, so the convolution is an orthogonal map. The mask follows
      `conv_mode`: "delta" (H at density d, then random zero-valued positions anywhere
      in the kernel join the mask until it holds round(d * numel) entries),
      "delta_more" (H at density min(d * K, 1, sqrt(d)), same top-up) or "structured"
      (H at density d; every spatial position keeps H's support).
    - groups: the weight's rows (conv: output channels) are `groups` equal blocks, each
      its own EOI matrix: conv groups, the gates of nn.RNN / nn.LSTM / nn.GRU weights
      (groups=1 / 4 / 3), the q, k, v blocks of nn.MultiheadAttention.in_proj_weight.

    Args:
        tensor: floating-point weight, 2-D or a conv weight (3-D to 5-D).
        density: target fraction of mask entries, in (0, 1].
        gain: scale of the weight.
        conv_mode: "delta" (default), "delta_more" or "structured"; used for conv weights.
        groups: number of row blocks (a divisor of tensor.shape[0]); default 1.
        exact_density: every EOI matrix stops below its density and is topped up to
            exactly round(density * numel) mask entries.
        generator: source of randomness (torch's default generator when None).
        check_ranks: for a DTensor, first compare a fingerprint of the generator state
            and the arguments across the mesh's ranks (one small all_gather, the only
            collective) and raise ValueError on every rank if they differ.

    A DTensor (Shard(0), Shard(1) or Replicate() on a 1-D mesh) gets only this rank's
    shard computed and written, with no collective; seed every rank alike. The mask is
    then a DTensor placed like the weight.

    Returns:
        The bool mask of the weight's shape, on the weight's device.
    """
    check_weight(tensor)
    density = check_density(density)
    gain = check_gain(gain)
    check_generator(generator)
    check_conv_mode(conv_mode)
    groups = check_groups(groups, tensor)
    check_flag(check_ranks, "check_ranks")
    if is_dtensor(tensor):
        # Only this rank's shard is computed, written in place into the local tensor when
        # it is contiguous (no copy); no collective is issued.
        rows, cols = local_block(tensor)
        if check_ranks:
            arguments = (tuple(tensor.shape), density, gain, conv_mode, groups, exact_density)
            check_same_draws([tensor], generator, arguments)
        local = tensor.to_local()
        in_place = local.is_contiguous()
        with torch.no_grad():
            weight, mask = sparse_orthogonal_block(
                tuple(tensor.shape), density, gain=gain, conv_mode=conv_mode, groups=groups,
                exact_density=exact_density, dtype=local.dtype, device=local.device,
                generator=generator, rows=rows, cols=cols, out=local if in_place else None,
            )  # fmt: skip
            if not in_place:
                local.copy_(weight)
        return like_dtensor(mask, tensor)
    if tensor.numel() == 0:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=2)
        return torch.zeros_like(tensor, dtype=torch.bool)
    weights, masks = sparse_orthogonal_weight(
        tuple(tensor.shape),
        density,
        gain=gain,
        conv_mode=conv_mode,
        groups=groups,
        exact_density=exact_density,
        dtype=tensor.dtype,
        device=tensor.device,
        generator=generator,
    )
    with torch.no_grad():
        tensor.copy_(weights[0])
    return masks[0]


def sparse_orthogonal_block(
    shape: tuple[int, ...],
    density: float,
    *,
    gain: float = 1.0,
    conv_mode: str = "delta",
    groups: int = 1,
    exact_density: bool = False,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
    generator: torch.Generator | None = None,
    rows: tuple[int, int] | None = None,
    cols: tuple[int, int] | None = None,
    out: Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    """The block [rows, cols] (first two dimensions) of the weight and mask that
    sparse_orthogonal_weight would build for `shape` (the same draws from the generator),
    computed alone: the shard of one rank (no validation). The weights go into `out` when
    given (a contiguous tensor of the block's shape, e.g. the rank's local shard)."""
    device = torch.device("cpu") if device is None else torch.device(device)
    block_rows, full_cols, kernel = shape[0] // groups, shape[1], shape[2:]
    r0, r1 = rows or (0, shape[0])
    c0, c1 = cols or (0, full_cols)
    matrix_density = centre_density(density, kernel, conv_mode) if kernel else density
    warn_if_unreachable(matrix_density, block_rows, full_cols)
    top_up_seed = kernel and conv_mode != "structured"
    seeds = givens.draw_seeds(groups + (1 if top_up_seed else 0), generator)
    plan = givens.plan_from_seeds(
        seeds[:groups].contiguous(), block_rows, full_cols, matrix_density,
        exact_density=exact_density,
    )  # fmt: skip
    h = (
        out
        if out is not None and not kernel
        else torch.empty(r1 - r0, c1 - c0, dtype=dtype, device=device)
    )
    h_mask = torch.empty(r1 - r0, c1 - c0, dtype=torch.bool, device=device)
    for g in range(groups):
        lo, hi = max(r0, g * block_rows), min(r1, (g + 1) * block_rows)
        if lo >= hi:
            continue
        one = givens.select(plan, g)
        span = {"rows": (lo - g * block_rows, hi - g * block_rows), "cols": (c0, c1)}
        givens.weight_block(one, gain=gain, out=h[lo - r0 : hi - r0].unsqueeze(0), **span)
        if not kernel:
            part = givens.mask_block(one, out=h_mask[lo - r0 : hi - r0].unsqueeze(0), **span)
            if exact_density:
                givens.top_up_block_(
                    one, part, round(matrix_density * block_rows * full_cols), **span
                )
    if not kernel:
        return h, h_mask

    weight = (
        out
        if out is not None
        else torch.empty(r1 - r0, c1 - c0, *kernel, dtype=dtype, device=device)
    )
    weight.zero_()
    centre = (slice(None), slice(None), *conv_centre(kernel))
    weight[centre] = h
    # A kernel's mask depends on the whole of H (its top-up rejects H's entries): H's
    # mask is small (c_out x c_in), so it is built whole and this block cut from it.
    full_h = torch.cat(
        [_matrix_mask(plan, g, exact_density, matrix_density) for g in range(groups)]
    )
    h_mask = full_h[r0:r1, c0:c1].to(device)
    if conv_mode == "structured":
        mask = h_mask.view(r1 - r0, c1 - c0, *([1] * len(kernel))).expand(r1 - r0, c1 - c0, *kernel)
        return weight, mask.contiguous()
    mask = torch.zeros(r1 - r0, c1 - c0, *kernel, dtype=torch.bool, device=device)
    mask[centre] = h_mask
    # The kernel's top-up, replayed over the whole kernel: flat positions of the
    # (c_out, c_in, taps) kernel, held where H's support sits at the centre tap.
    taps = math.prod(kernel)
    centre_tap = int(torch.arange(taps).view(kernel)[conv_centre(kernel)])

    def unravel(positions: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        rest = positions % (full_cols * taps)
        return positions // (full_cols * taps), rest // taps, rest % taps

    def held(positions: Tensor) -> Tensor:
        o, i, tap = unravel(positions)
        return (tap == centre_tap) & full_h[o, i]

    numel = math.prod(shape)
    need = round(density * numel) - int(full_h.sum())
    o, i, tap = unravel(add_free_positions(int(seeds[groups]), numel, need, held))
    inside = (o >= r0) & (o < r1) & (i >= c0) & (i < c1)
    flat = mask.view(r1 - r0, c1 - c0, taps)
    flat[(o[inside] - r0).to(device), (i[inside] - c0).to(device), tap[inside].to(device)] = True
    return weight, mask


def _matrix_mask(plan: givens.RotationPlan, index: int, exact: bool, density: float) -> Tensor:
    """The whole (rows, cols) mask of matrix `index` of the plan on the CPU, topped up to
    round(density * rows * cols) entries when `exact`."""
    one = givens.select(plan, index)
    mask = givens.mask_block(one)
    if exact:
        givens.top_up_block_(one, mask, round(density * plan.rows * plan.cols))
    return mask[0]


def check_weight(tensor: object) -> None:
    """A floating-point weight: 2-D (Linear, RNN, attention) or a conv weight (3-D to 5-D)."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"tensor must be a torch.Tensor, got {type(tensor).__name__}")
    if not 2 <= tensor.dim() <= 5:
        raise ValueError(
            "tensor must be a weight with 2 dimensions (Linear) or 3 to 5 (Conv1d/2d/3d: "
            f"out_channels, in_channels / groups, *kernel_size), got shape {tuple(tensor.shape)}"
        )
    if not tensor.is_floating_point():
        raise TypeError(f"tensor must have a floating-point dtype, got {tensor.dtype}")


def check_conv_mode(conv_mode: object) -> None:
    if conv_mode not in CONV_MODES:
        raise ValueError(f"conv_mode must be one of {', '.join(CONV_MODES)}, got {conv_mode!r}")


def check_groups(groups: object, tensor: Tensor) -> int:
    groups = check_size(groups, "groups")
    if tensor.shape[0] % groups:
        raise ValueError(
            f"groups must divide the weight's first dimension ({tensor.shape[0]}), got {groups}"
        )
    return groups


def sparse_orthogonal_weight(
    shape: tuple[int, ...],
    density: float,
    *,
    gain: float = 1.0,
    conv_mode: str = "delta",
    groups: int = 1,
    exact_density: bool = False,
    count: int = 1,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
    generator: torch.Generator | None = None,
) -> tuple[Tensor, Tensor]:
    """New EOI weights and masks for `count` weights of `shape` (see sparse_orthogonal_;
    no validation): (count, *shape) stacks. The same-shape layers of a model are built in
    one call; weight b uses the generator's draws exactly as the b-th of `count`
    consecutive calls with count=1 would (per weight: one seed per group, then one seed
    for a conv kernel's top-up)."""
    device = torch.device("cpu") if device is None else torch.device(device)
    rows, cols, kernel = shape[0] // groups, shape[1], shape[2:]
    matrix_density = centre_density(density, kernel, conv_mode) if kernel else density
    warn_if_unreachable(matrix_density, rows, cols)
    if device.type == "meta":
        return (
            torch.empty((count, *shape), dtype=dtype, device=device),
            torch.empty((count, *shape), dtype=torch.bool, device=device),
        )
    seeds_per_weight = groups + (1 if kernel and conv_mode != "structured" else 0)
    seeds = givens.draw_seeds(count * seeds_per_weight, generator).view(count, seeds_per_weight)
    matrix_seeds = seeds[:, :groups].contiguous().view(-1)
    h, h_mask = build_from_seeds(
        matrix_seeds, rows, cols, matrix_density, gain, exact_density, dtype, device
    )
    h = h.view(count, shape[0], cols)
    h_mask = h_mask.view(count, shape[0], cols)
    if not kernel:
        return h, h_mask

    weight = torch.zeros((count, *shape), dtype=dtype, device=device)
    centre = (slice(None), slice(None), slice(None), *conv_centre(kernel))
    weight[centre] = h
    if conv_mode == "structured":
        mask = h_mask.view(count, shape[0], cols, *([1] * len(kernel))).expand(count, *shape)
        return weight, mask.contiguous()
    mask = torch.zeros((count, *shape), dtype=torch.bool, device=device)
    mask[centre] = h_mask
    # Zero-valued positions anywhere in the kernel join the mask (DESIGN.md 1.5).
    givens.top_up_(
        mask.view(count, shape[0], -1),
        round(density * math.prod(shape)),
        seeds[:, groups].contiguous(),
    )
    return weight, mask
