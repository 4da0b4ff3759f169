"""SplitMix64 counter stream in PyTorch: a vectorized mirror of csrc/core/random_stream.h.

Values are uint64 bit patterns held in int64 tensors; int64 arithmetic wraps modulo
2^64 like uint64, and right shifts are made logical by masking off the sign fill.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor


def _signed(value: int) -> int:
    """The int64 holding the bits of a uint64 value."""
    return value - (1 << 64) if value >= 1 << 63 else value


GOLDEN = _signed(0x9E3779B97F4A7C15)
TOP_UP_SALT = _signed(0xA0761D6478BD642F)
_MIX1 = _signed(0xBF58476D1CE4E5B9)
_MIX2 = _signed(0x94D049BB133111EB)
TWO_PI = 2.0 * math.pi


def shift_right(z: Tensor, bits: int) -> Tensor:
    """Logical (unsigned) right shift of uint64 patterns stored in int64."""
    return (z >> bits) & ((1 << (64 - bits)) - 1)


def mix64(z: Tensor) -> Tensor:
    z = (z ^ shift_right(z, 30)) * _MIX1
    z = (z ^ shift_right(z, 27)) * _MIX2
    return z ^ shift_right(z, 31)


def stream_draw(seed: int | Tensor, counters: Tensor) -> Tensor:
    """draw(seed, c) = mix64(seed + (c + 1) * GOLDEN) for int64 counters c."""
    return mix64(seed + (counters + 1) * GOLDEN)


def stream_uniform(seed: int | Tensor, counters: Tensor) -> Tensor:
    """(draw >> 11) * 2^-53: float64 uniform in [0, 1)."""
    return shift_right(stream_draw(seed, counters), 11).to(torch.float64) * 2.0**-53


def topup_seed(seed: int) -> int:
    return int(mix64(torch.tensor([seed ^ TOP_UP_SALT], dtype=torch.int64)))


def draw_rotations(seed: int, first: int, count: int, m: int) -> tuple[Tensor, Tensor, Tensor]:
    """Rotations first .. first + count - 1 of a matrix whose larger side is m >= 2:
    (i, j) int64 tensors of shape (count,) with i != j, and angles theta (count,) float64."""
    c = 3 * torch.arange(first, first + count, dtype=torch.int64)
    i = (stream_uniform(seed, c) * m).to(torch.int64)
    j = (stream_uniform(seed, c + 1) * (m - 1)).to(torch.int64)
    j = j + (j >= i).to(torch.int64)
    theta = stream_uniform(seed, c + 2) * TWO_PI
    return i, j, theta
