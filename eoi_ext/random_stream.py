"""The random-stream contract every backend and the tests share (docs/random-stream.md).

One 64-bit seed per matrix (drawn from a torch.Generator) determines everything random
about the matrix through a SplitMix64 counter stream: the rotations' pairs and angles,
and the positions the exact-density top-up adds. This module is the contract in
PyTorch, vectorized over counters, mirroring csrc/core/random_stream.h and the top-up
loop of csrc/core/support_mask.h. It sits outside eoi_ext.fallback because more than
the fallback relies on it: the top-up of a block replays it (eoi_ext.top_up), and the
tests re-derive plans from it.

Values are uint64 bit patterns held in int64 tensors; int64 arithmetic wraps modulo
2^64 like uint64, and right shifts are made logical by masking off the sign fill.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor

__all__ = [
    "add_free_positions",
    "draw_rotations",
    "mix64",
    "stream_draw",
    "stream_uniform",
    "topup_seed",
]


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


def add_free_positions(
    seed: int, total: int, need: int, held: Callable[[Tensor], Tensor]
) -> Tensor:
    """The positions the top-up adds to a flat mask of `total` entries (int64, in the
    order they join), mirror of eoi::add_free_positions: draw t of the stream
    topup_seed(seed) names position floor(u_t * total), and a position joins when it is
    neither held before the top-up (held(positions) -> bool) nor already added, until
    `need` joined (none when need <= 0). Draws come in vectorized chunks; the rule is
    sequential."""
    added: dict[int, None] = {}
    stream = topup_seed(seed)
    first = 0
    while len(added) < need:
        chunk = 2 * need + 16
        counters = torch.arange(first, first + chunk, dtype=torch.int64)
        positions = (stream_uniform(stream, counters) * total).to(torch.int64)
        for p in positions[~held(positions)].tolist():
            if p not in added:
                added[p] = None
                if len(added) == need:
                    break
        first += chunk
    return torch.tensor(list(added), dtype=torch.int64)
