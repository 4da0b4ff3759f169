"""sparse_orthogonal and sparse_orthogonal_batch: exactly orthogonal sparse matrices."""

from __future__ import annotations

import math
import numbers
import sys
import warnings

import torch
from torch import Tensor

from . import givens

OUTPUT_DTYPES = (torch.float16, torch.bfloat16, torch.float32, torch.float64)


def check_density(density: object) -> float:
    """Returns density as a float, or raises naming the argument and its allowed range."""
    if isinstance(density, bool) or not isinstance(density, numbers.Real):
        raise TypeError(f"density must be a real number in (0, 1], got {density!r}")
    value = float(density)
    if math.isnan(value) or not 0.0 < value <= 1.0:
        raise ValueError(f"density must be in (0, 1], got {density!r}")
    return value


def check_gain(gain: object) -> float:
    if isinstance(gain, bool) or not isinstance(gain, numbers.Real) or not math.isfinite(gain):
        raise ValueError(f"gain must be a finite real number, got {gain!r}")
    return float(gain)


def check_size(value: object, name: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer >= {minimum}, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def check_dtype(dtype: object) -> torch.dtype:
    if dtype not in OUTPUT_DTYPES:
        names = ", ".join(str(d) for d in OUTPUT_DTYPES)
        raise TypeError(f"dtype must be one of {names}, got {dtype!r}")
    return dtype  # type: ignore[return-value]


def check_flag(value: object, name: str) -> None:
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False, got {value!r}")


def check_generator(generator: object) -> None:
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator or None, got {generator!r}")


def check_range(value: object, size: int, name: str) -> tuple[int, int] | None:
    """None, or (begin, end) integers with 0 <= begin <= end <= size."""
    if value is None:
        return None
    if (
        not isinstance(value, tuple | list)
        or len(value) != 2
        or not all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in value)
    ):
        raise TypeError(f"{name} must be None or a pair of integers (begin, end), got {value!r}")
    begin, end = int(value[0]), int(value[1])
    if not 0 <= begin <= end <= size:
        raise ValueError(f"{name} must satisfy 0 <= begin <= end <= {size}, got {value!r}")
    return begin, end


def caller_stacklevel() -> int:
    """The warnings.warn stacklevel of the first frame outside eoi_ext, as seen from the
    function calling this one, so a warning points at the user's line whichever public
    entry point was used."""
    frame = sys._getframe(2)  # the caller of the warning function: stacklevel 2
    level = 2
    while frame is not None and _in_package(frame.f_globals.get("__name__", "")):
        frame = frame.f_back
        level += 1
    return level


def _in_package(module: str) -> bool:
    return module == "eoi_ext" or module.startswith("eoi_ext.")


def warn_if_unreachable(density: float, rows: int, cols: int) -> None:
    """Densities below 1/max(rows, cols) (a scaled partial permutation, no rotation) cannot
    be reached by an orthogonal matrix: the minimum-density matrix is returned."""
    minimum = 1.0 / max(rows, cols)
    if density < minimum:
        warnings.warn(
            f"density {density:g} is below the minimum {minimum:g} reachable by an exactly "
            f"orthogonal {rows}x{cols} matrix; returning the minimum-density matrix "
            f"(achieved density {minimum:g})",
            UserWarning,
            stacklevel=caller_stacklevel(),
        )


def _build(
    count: int,
    rows: int,
    cols: int,
    density: float,
    gain: float,
    exact_density: bool,
    dtype: torch.dtype,
    device: torch.device,
    generator: torch.Generator | None,
    row_range: tuple[int, int] | None = None,
    col_range: tuple[int, int] | None = None,
) -> tuple[Tensor, Tensor]:
    warn_if_unreachable(density, rows, cols)
    if device.type == "meta":
        # Shapes only: no values exist to sample (like torch.nn.init on meta tensors).
        r0, r1 = row_range or (0, rows)
        c0, c1 = col_range or (0, cols)
        return (
            torch.empty(count, r1 - r0, c1 - c0, dtype=dtype, device=device),
            torch.empty(count, r1 - r0, c1 - c0, dtype=torch.bool, device=device),
        )
    seeds = givens.draw_seeds(count, generator)
    if row_range is None and col_range is None:
        return build_from_seeds(seeds, rows, cols, density, gain, exact_density, dtype, device)
    # A block of W alone: the whole plan (cheap, on the CPU), only the block's values.
    plan = givens.plan_from_seeds(seeds, rows, cols, density, exact_density=exact_density)
    block = {"rows": row_range, "cols": col_range}
    weights = givens.weight_block(plan, gain=gain, dtype=dtype, device=device, **block)
    mask = givens.mask_block(plan, device=device, **block)
    if exact_density:
        givens.top_up_block_(plan, mask, round(density * rows * cols), **block)
    return weights, mask


def build_from_seeds(
    seeds: Tensor,
    rows: int,
    cols: int,
    density: float,
    gain: float,
    exact_density: bool,
    dtype: torch.dtype,
    device: torch.device,
) -> tuple[Tensor, Tensor]:
    """(weights, masks) of shape (len(seeds), rows, cols): one EOI matrix per seed (the
    pipeline of sparse_orthogonal_batch after the seeds are drawn; no validation)."""
    plan = givens.plan_from_seeds(seeds, rows, cols, density, exact_density=exact_density)
    weights = givens.apply_plan(plan, gain=gain, dtype=dtype, device=device)
    mask = givens.support_mask(plan, device=device)
    if exact_density:
        givens.top_up_mask_(plan, mask, round(density * rows * cols))
    return weights, mask


def sparse_orthogonal_batch(
    count: int,
    rows: int,
    cols: int,
    density: float,
    *,
    gain: float = 1.0,
    exact_density: bool = False,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
    generator: torch.Generator | None = None,
    row_range: tuple[int, int] | None = None,
    col_range: tuple[int, int] | None = None,
) -> tuple[Tensor, Tensor]:
    """`count` independent EOI matrices of one shape, sampled in one call.

    Returns (weights, masks) of shape (count, rows, cols): weights of `dtype`, masks
    bool. Entry b equals what the b-th of `count` consecutive calls of
    :func:`sparse_orthogonal` with the same generator would return. See
    :func:`sparse_orthogonal` for the arguments (row_range / col_range select a block of
    every matrix).
    """
    count = check_size(count, "count", minimum=0)
    rows = check_size(rows, "rows")
    cols = check_size(cols, "cols")
    density = check_density(density)
    gain = check_gain(gain)
    dtype = check_dtype(dtype)
    check_generator(generator)
    row_range = check_range(row_range, rows, "row_range")
    col_range = check_range(col_range, cols, "col_range")
    resolved = torch.device("cpu") if device is None else torch.device(device)
    return _build(
        count, rows, cols, density, gain, bool(exact_density), dtype, resolved, generator,
        row_range, col_range,
    )  # fmt: skip


def sparse_orthogonal(
    rows: int,
    cols: int,
    density: float,
    *,
    gain: float = 1.0,
    exact_density: bool = False,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
    generator: torch.Generator | None = None,
    row_range: tuple[int, int] | None = None,
    col_range: tuple[int, int] | None = None,
) -> tuple[Tensor, Tensor]:
    """An exactly orthogonal sparse matrix and its mask (Exact Orthogonal Initialization).

    W is gain times a product of random Givens rotations restricted to min(rows, cols)
    rows: W W^T = gain^2 I when rows <= cols, W^T W = gain^2 I otherwise, to float
    rounding. The mask is the symbolic support of W (entries outside it are exactly 0).

    Args:
        rows, cols: shape of W (positive integers).
        density: target fraction of mask entries, in (0, 1]. Rotations are added until
            the density first reaches it (or stays one rotation short when that is
            strictly closer). Below 1/max(rows, cols) the minimum-density matrix is
            returned with a warning.
        gain: scale of W.
        exact_density: stop at the last rotation below the target, then add uniformly
            random zero-valued (trainable) positions to the mask until it holds exactly
            round(density * rows * cols) entries. W stays exactly orthogonal.
        dtype: float16, bfloat16, float32 or float64 (computed in float64 for float64,
            in float32 otherwise).
        device: where W and the mask are made (default CPU).
        generator: source of all randomness (torch's default CPU generator when None).
        row_range, col_range: (begin, end) to build only the block W[begin:end] /
            W[:, begin:end] (both: their intersection) and its mask, equal to that slice
            of the whole matrix (to float rounding): a shard of a layer, built with
            memory for the block only and no communication (DESIGN.md 1.3).

    Returns:
        (W, M): W of shape (rows, cols) and `dtype`, M a bool mask of the same shape
        (the block's shape with row_range / col_range).
    """
    weights, mask = sparse_orthogonal_batch(
        1,
        rows,
        cols,
        density,
        gain=gain,
        exact_density=exact_density,
        dtype=dtype,
        device=device,
        generator=generator,
        row_range=row_range,
        col_range=col_range,
    )
    return weights[0], mask[0]
