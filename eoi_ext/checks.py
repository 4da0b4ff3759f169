"""Argument checks of the library's entry points, in one place.

Every check raises with the argument's name and what it accepts, so a user sees which
argument was wrong; nothing is touched before the checks pass. The library's warnings
are in eoi_ext.user_warnings; what stops sparsify changing a layer, in
eoi_ext.layer_checks.
"""

from __future__ import annotations

import math
import numbers

import torch
from torch import Tensor

__all__ = [
    "CONV_MODES",
    "OUTPUT_DTYPES",
    "check_bias_std",
    "check_choice",
    "check_conv_mode",
    "check_density",
    "check_dtype",
    "check_flag",
    "check_gain",
    "check_gain_fits",
    "check_generator",
    "check_groups",
    "check_model",
    "check_out",
    "check_range",
    "check_shape",
    "check_size",
    "check_weight",
]

OUTPUT_DTYPES = (torch.float16, torch.bfloat16, torch.float32, torch.float64)
CONV_MODES = ("delta", "delta_more", "structured")


def check_density(density: object, name: str = "density") -> float:
    """`density` as a float in (0, 1]."""
    if isinstance(density, bool) or not isinstance(density, numbers.Real):
        raise TypeError(f"{name} must be a real number in (0, 1], got {density!r}")
    value = float(density)
    if math.isnan(value) or not 0.0 < value <= 1.0:
        raise ValueError(f"{name} must be in (0, 1], got {density!r}")
    return value


def check_gain(gain: object) -> float:
    if isinstance(gain, bool) or not isinstance(gain, numbers.Real) or not math.isfinite(gain):
        raise ValueError(f"gain must be a finite real number, got {gain!r}")
    return float(gain)


def check_gain_fits(gain: float, dtype: torch.dtype) -> float:
    """`gain` if W^T W = gain^2 I is finite in `dtype`: beyond that, the weights' Gram
    matrix (the isometry every method aims at) overflows, and in the ops inf * 0 would
    turn the zeros outside the mask into NaN."""
    limit = math.sqrt(torch.finfo(dtype).max)
    if abs(gain) > limit:
        raise ValueError(
            f"gain must be at most {limit:.4g} in magnitude for {dtype} (gain^2 must be "
            f"finite in it), got {gain!r}"
        )
    return gain


def check_bias_std(bias_std: object) -> float:
    if (
        isinstance(bias_std, bool)
        or not isinstance(bias_std, numbers.Real)
        or not math.isfinite(bias_std)
        or bias_std < 0
    ):
        raise ValueError(f"bias_std must be a finite real number >= 0, got {bias_std!r}")
    return float(bias_std)


def check_size(value: object, name: str, minimum: int = 1) -> int:
    """`value` as an int >= minimum (bools and integral floats are refused)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer >= {minimum}, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def check_shape(shape: object) -> tuple[int, ...]:
    """A weight's shape: (rows, cols), or a conv kernel's (out, in / groups, *kernel)."""
    if (
        not isinstance(shape, tuple | list | torch.Size)
        or not 2 <= len(shape) <= 5
        or not all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in shape)
        or min(shape) < 1
    ):
        raise ValueError(
            "shape must be 2 to 5 positive integers, (rows, cols) or a conv weight's "
            f"(out_channels, in_channels / groups, *kernel_size), got {shape!r}"
        )
    return tuple(int(v) for v in shape)


def check_dtype(dtype: object) -> torch.dtype:
    if dtype not in OUTPUT_DTYPES:
        names = ", ".join(str(d) for d in OUTPUT_DTYPES)
        raise TypeError(f"dtype must be one of {names}, got {dtype!r}")
    return dtype  # type: ignore[return-value]


def check_flag(value: object, name: str) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return value


def check_model(model: object) -> torch.nn.Module:
    """`model` if it is an nn.Module (the model-level entry points)."""
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    return model


def check_generator(generator: object) -> None:
    """None, or a torch.Generator that can draw the seeds (a meta generator cannot)."""
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator or None, got {generator!r}")
    if generator is not None and generator.device.type == "meta":
        raise ValueError(
            "generator must be a CPU or accelerator torch.Generator (the seeds are drawn "
            "from it), got one on the meta device"
        )


def check_choice(value: object, choices: tuple[str, ...], name: str, also: str = "") -> str:
    """`value` if it is one of `choices`; `also` names what else the caller accepts."""
    if value not in choices:
        alternative = f" or {also}" if also else ""
        raise ValueError(f"{name} must be one of {', '.join(choices)}{alternative}, got {value!r}")
    return value  # type: ignore[return-value]


def check_conv_mode(conv_mode: object) -> str:
    return check_choice(conv_mode, CONV_MODES, "conv_mode")


def check_range(value: object, size: int, name: str) -> tuple[int, int] | None:
    """None, or (begin, end) integers with 0 <= begin <= end <= size: a block's span."""
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


def check_out(out: Tensor, shape: tuple[int, ...]) -> Tensor:
    """`out`, a tensor written in place: contiguous (the ops write raw memory) and of the
    result's shape."""
    if tuple(out.shape) != tuple(shape) or not out.is_contiguous():
        raise ValueError(
            f"out must be a contiguous tensor of shape {tuple(shape)}, got {tuple(out.shape)}"
            + ("" if out.is_contiguous() else " (not contiguous)")
        )
    return out


def check_weight(tensor: object, name: str = "tensor") -> Tensor:
    """A floating-point weight: 2-D (Linear, RNN, attention) or a conv weight (3-D to 5-D)."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(tensor).__name__}")
    if not 2 <= tensor.dim() <= 5:
        raise ValueError(
            f"{name} must be a weight with 2 dimensions (Linear) or 3 to 5 (Conv1d/2d/3d: "
            f"out_channels, in_channels / groups, *kernel_size), got shape {tuple(tensor.shape)}"
        )
    if not tensor.is_floating_point():
        raise TypeError(f"{name} must have a floating-point dtype, got {tensor.dtype}")
    return tensor


def check_groups(groups: object, rows: int) -> int:
    """`groups` as an int dividing a weight's first dimension `rows`."""
    groups = check_size(groups, "groups")
    if rows % groups:
        raise ValueError(f"groups must divide the weight's first dimension ({rows}), got {groups}")
    return groups
