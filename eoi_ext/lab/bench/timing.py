"""The one timing core of `eoi bench` and the pytest-benchmark suite (benchmarks/).

Both time the same thing: a call with no arguments wrapped by :func:`synchronized`, so
that on a GPU a sample is the wall time of the whole call (host sampling, copies and
kernels), not the time to queue it. `eoi bench` repeats it with :func:`repeat`;
benchmarks/ hands the same wrapped call to pytest-benchmark, which does its own rounds.
Both format seconds with :func:`format_seconds`.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import torch

__all__ = ["Timing", "format_seconds", "repeat", "synchronize", "synchronized"]

T = TypeVar("T")


def synchronize(device: torch.device | str | None) -> None:
    """Waits for the work queued on `device` (a no-op on the CPU)."""
    if device is not None and torch.device(device).type == "cuda":
        torch.cuda.synchronize(device)


def synchronized(fn: Callable[[], T], device: torch.device | str | None) -> Callable[[], T]:
    """`fn` with a device synchronization before and after each call.

    The one before keeps earlier queued work out of the sample; the one after makes the
    sample end when the device is done. On the CPU `fn` itself is returned, so CPU
    samples carry no wrapper overhead.
    """
    if device is None or torch.device(device).type != "cuda":
        return fn

    def call() -> T:
        synchronize(device)
        result = fn()
        synchronize(device)
        return result

    return call


@dataclass(frozen=True)
class Timing:
    """Seconds per call of repeated calls."""

    times: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    @property
    def min(self) -> float:
        return min(self.times)

    @property
    def max(self) -> float:
        return max(self.times)

    @property
    def repeats(self) -> int:
        return len(self.times)


def repeat(fn: Callable[[], T], *, min_seconds: float, max_repeats: int) -> tuple[Timing, T]:
    """Calls `fn` (already :func:`synchronized`) until the samples add up to
    `min_seconds` or there are `max_repeats` of them.

    The first call is a warm-up (caches, allocator, lazy initialization) when it is cheap
    (under 1 s); a slow first call is kept as a sample, since a second one would cost as
    much and warms up little. Returns the timing and the last call's result.
    """

    def once() -> tuple[float, Any]:
        start = time.perf_counter()
        result = fn()
        return time.perf_counter() - start, result

    first, result = once()
    times = [] if first < 1.0 else [first]
    while len(times) < max_repeats and (not times or sum(times) < min_seconds):
        seconds, result = once()
        times.append(seconds)
    return Timing(tuple(times)), result


def format_seconds(seconds: float | None) -> str:
    """Three significant figures or so, in s, ms or us; "-" for None (not measured)."""
    if seconds is None:
        return "-"
    if seconds >= 1.0:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds * 1e6:.0f} us"
