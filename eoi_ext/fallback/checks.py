"""Argument checks of the five ops: mirror of csrc/checks.h, with its messages, so a bad
argument fails alike on every backend, as RuntimeError (what TORCH_CHECK raises), before
any output is touched (docs/backends.md, "Checks come first"; tests/test_op_validation.py).
The fake kernels (eoi_ext/ops.py) run them with data=False: meta and fake tensors have no
values and no real device, so only dtypes, shapes, layouts and int arguments are checked.
"""

from __future__ import annotations

import math
import numbers
from typing import NoReturn

import torch
from torch import Tensor

__all__ = [
    "check_apply_plans",
    "check_pairs",
    "check_sample_plans",
    "check_support_masks",
    "check_top_up_masks",
]

OUTPUT_DTYPES = (torch.float16, torch.bfloat16, torch.float32, torch.float64)


def fail(message: str) -> NoReturn:
    raise RuntimeError(f"eoi_ext: {message}")


def _integer(value: object, name: str) -> int:
    """An int argument; the schema's int accepts bools too, and fakes may get a SymInt."""
    if not isinstance(value, numbers.Integral | torch.SymInt):
        fail(f"{name} must be an integer, got {value!r}")
    return value  # type: ignore[return-value]


def _tensor(t: Tensor, name: str, dtype: torch.dtype, data: bool) -> None:
    """csrc/checks.h check_cpu_contiguous (the device only where there is data)."""
    if data and t.device.type != "cpu":
        fail(f"{name} must be a CPU tensor (plans, seeds and supports are built on the CPU), "
             f"got {t.device}")  # fmt: skip
    if t.dtype != dtype:
        fail(f"{name} must have dtype {dtype}, got {t.dtype}")
    if not t.is_contiguous():
        fail(f"{name} must be contiguous")


def _output(
    t: Tensor, name: str, shape: tuple[int, ...], dtypes: tuple[torch.dtype, ...], rule: str
) -> None:
    """An out-parameter, on any device (the fallback writes it with torch ops); `rule`
    says which dtypes it takes, in the compiled op's words."""
    if tuple(t.shape) != shape:
        fail(f"{name} must have shape {list(shape)}, got {list(t.shape)}")
    if not t.is_contiguous():
        fail(f"{name} must be contiguous")
    if t.dtype not in dtypes:
        fail(f"{name} must {rule}, got {t.dtype}")


def _check_sides(m: int, n: int | None = None) -> None:
    """1 <= n <= m <= 2^31 - 1 (n: when the op takes it)."""
    if not 1 <= _integer(m, "m") <= 2**31 - 1:
        fail(f"m must be in [1, 2^31 - 1] (pairs are int32), got {m}")
    if n is not None and not 1 <= _integer(n, "n") <= m:
        fail(f"n must be in [1, m = {m}], got {n}")


def check_pairs(offsets: Tensor, pairs: Tensor, m: int, *, data: bool = True) -> int:
    """Checks a plan's (offsets, pairs); returns the coordinates the rotations touch."""
    _check_sides(m)
    _tensor(offsets, "offsets", torch.int64, data)
    _tensor(pairs, "pairs", torch.int32, data)
    if offsets.dim() != 1 or offsets.numel() < 1:
        fail("offsets must be 1-D (count + 1,)")
    if pairs.dim() != 2 or pairs.shape[1] != 2:
        fail("pairs must have shape (R, 2)")
    if not data:
        return m
    if offsets[0] != 0 or offsets[-1] != pairs.shape[0]:
        fail("offsets must start at 0 and end at the number of rotations")
    if bool((offsets.diff() < 0).any()):
        fail("offsets must be non-decreasing")
    if pairs.numel() == 0:
        return 0
    largest = int(pairs.max())
    if int(pairs.min()) < 0 or largest >= m:
        fail(f"pairs must lie in [0, m) with m = {m}")
    degenerate = (pairs[:, 0] == pairs[:, 1]).nonzero()
    if degenerate.numel():
        fail("pairs must join two distinct coordinates (i != j), got i == j at rotation "
             f"{int(degenerate[0, 0])}")  # fmt: skip
    return largest + 1


def _check_cos_sin(cos_sin: Tensor, rotations: int, data: bool) -> None:
    if (data and cos_sin.device.type != "cpu") or not cos_sin.is_floating_point():
        fail("cos_sin must be a floating-point CPU tensor")
    if cos_sin.dim() != 2 or cos_sin.shape[1] != 2 or cos_sin.shape[0] != rotations:
        fail("cos_sin must have shape (R, 2) like pairs")
    if not data or cos_sin.numel() == 0:
        return
    error = (cos_sin.double().square().sum(1) - 1.0).abs()
    worst = int(error.argmax())  # a NaN first, and a NaN fails the comparison
    if not error[worst] <= 16 * torch.finfo(cos_sin.dtype).eps:
        fail(f"cos_sin must hold unit vectors (cos^2 + sin^2 = 1 to the rounding of "
             f"{cos_sin.dtype}), got |cos^2 + sin^2 - 1| = {float(error[worst])} at rotation "
             f"{worst}")  # fmt: skip


def _block(
    count: int, rows: int, rows_name: str, row_begin: int, row_end: int, m: int,
    coord_begin: int, coord_end: int, transposed: bool,
) -> tuple[tuple[int, ...], int]:  # fmt: skip
    """(the block's shape, coord_end resolved): csrc/checks.h coord_window_end, block_shape."""
    if _integer(coord_end, "coord_end") < -1:
        fail(f"coord_end must be -1 (meaning m) or in [coord_begin, m], got {coord_end}")
    end = m if coord_end == -1 else coord_end
    if not 0 <= _integer(coord_begin, "coord_begin") <= end <= m:
        fail(f"need 0 <= coord_begin <= coord_end <= m = {m} (coord_end = -1: m), got "
             f"coord_begin={coord_begin}, coord_end={coord_end}")  # fmt: skip
    if not 0 <= _integer(row_begin, "row_begin") <= _integer(row_end, "row_end") <= rows:
        fail(f"need 0 <= row_begin <= row_end <= {rows_name} = {rows}, got "
             f"row_begin={row_begin}, row_end={row_end}")  # fmt: skip
    k, w = row_end - row_begin, end - coord_begin
    return ((count, w, k) if transposed else (count, k, w)), end


def check_sample_plans(
    seeds: Tensor, n: int, m: int, density: float, pin_memory: bool = False, *, data: bool = True
) -> None:
    _tensor(seeds, "seeds", torch.int64, data)
    if seeds.dim() != 1:
        fail("seeds must be 1-D (count,)")
    _check_sides(m, n)
    if not isinstance(density, numbers.Real) or not 0.0 < density <= 1.0:
        fail(f"density must be in (0, 1], got {density}")
    if seeds.shape[0] > 2**48 // 8 // (m * ((n + 63) // 64)):  # csrc/checks.h kMaxHostBytes
        fail(f"the supports of len(seeds) = {seeds.shape[0]} matrices with n = {n}, m = {m} "
             "would take more than 2^48 bytes")  # fmt: skip
    if pin_memory and not torch.cuda.is_available():
        fail("pin_memory=True needs a CUDA device to copy the support to, but none is available")


def check_apply_plans(
    offsets: Tensor, pairs: Tensor, cos_sin: Tensor, m: int, row_begin: int, row_end: int,
    transposed: bool, gain: float, out: Tensor, coord_begin: int, coord_end: int,
    *, data: bool = True,
) -> int:  # fmt: skip
    """Checks apply_plans' arguments; returns coord_end resolved."""
    check_pairs(offsets, pairs, m, data=data)
    _check_cos_sin(cos_sin, pairs.shape[0], data)
    if not isinstance(gain, numbers.Real) or not math.isfinite(gain):
        fail(f"gain must be finite, got {gain}")
    limit = math.sqrt(torch.finfo(out.dtype).max) if out.dtype in OUTPUT_DTYPES else math.inf
    if abs(gain) > limit:
        fail(f"gain must be at most {limit:g} in magnitude for out's dtype {out.dtype} "
             f"(gain^2 must be finite in it), got {gain}")  # fmt: skip
    count = offsets.shape[0] - 1
    shape, end = _block(count, m, "m", row_begin, row_end, m, coord_begin, coord_end, transposed)
    _output(out, "out", shape, OUTPUT_DTYPES, "be float16, bfloat16, float32 or float64")
    return end


def check_support_masks(
    support: Tensor, n: int, m: int, row_begin: int, row_end: int, transposed: bool,
    mask: Tensor, coord_begin: int, coord_end: int, *, data: bool = True,
) -> int:  # fmt: skip
    """Checks support_masks' arguments; returns coord_end resolved. support may be on the
    CPU or on mask's device, as for the CUDA op."""
    if data and support.device.type != "cpu" and support.device != mask.device:
        fail(f"support must be on the CPU or on mask's device ({mask.device}), got "
             f"{support.device}")  # fmt: skip
    _check_sides(m, n)
    if support.dtype != torch.int64 or not support.is_contiguous():
        fail("support must be a contiguous int64 tensor")
    words = (n + 63) // 64
    if support.dim() != 3 or support.shape[1] != m or support.shape[2] != words:
        fail(f"support must have shape (count, m = {m}, ceil(n / 64) = {words}), got "
             f"{list(support.shape)}")  # fmt: skip
    shape, end = _block(
        support.shape[0], n, "n", row_begin, row_end, m, coord_begin, coord_end, transposed
    )
    _output(mask, "mask", shape, (torch.bool,), "have dtype bool")
    return end


def check_top_up_masks(
    seeds: Tensor, target_count: int, mask: Tensor, *, data: bool = True
) -> None:
    _tensor(seeds, "seeds", torch.int64, data)
    if seeds.dim() != 1:
        fail("seeds must be 1-D (count,)")
    if _integer(target_count, "target_count") < 0:
        fail(f"target_count must be >= 0, got {target_count}")
    if mask.dim() != 3 or mask.shape[0] != seeds.shape[0]:
        fail("mask must have shape (count, rows, cols) with count = len(seeds)")
    _output(mask, "mask", tuple(mask.shape), (torch.bool,), "have dtype bool")
