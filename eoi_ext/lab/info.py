"""`eoi info`: the backend and build, then a deep stack of EOI layers in one call (times,
achieved density, worst orthogonality error). Needs the library only."""

from __future__ import annotations

import statistics
import time

import torch

from .. import __version__
from ..backends import backend, build_info
from ..matrices import sparse_orthogonal_batch
from ..metrics import orthogonality_error

__all__ = ["run_info"]

WARM_REPEATS = 5


def run_info(layers: int, width: int, density: float, seed: int, device: torch.device) -> None:
    print(f"eoi_ext {__version__}, torch {torch.__version__}")
    print(f"backend (cpu): {backend('cpu')}")
    if torch.cuda.is_available():
        print(f"backend (cuda): {backend('cuda')} on {torch.cuda.get_device_name()}")
    for key, value in build_info().items():
        print(f"  {key}: {value}")
    generator = torch.Generator().manual_seed(seed)
    times = []
    for _ in range(1 + WARM_REPEATS):
        start = time.perf_counter()
        weights, masks = sparse_orthogonal_batch(
            layers, width, width, density, generator=generator, device=device
        )
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        times.append(time.perf_counter() - start)
    print(
        f"initialized {layers} layers of {width}x{width} at target density {density:g} "
        f"on {device} ({backend(device)}): "
        f"first call {times[0] * 1e3:.1f} ms, median of the next {WARM_REPEATS} "
        f"{statistics.median(times[1:]) * 1e3:.1f} ms"
    )
    print(f"  achieved density: {masks.float().mean().item():.4f}")
    print(f"  max orthogonality error |W W^T - I|: {orthogonality_error(weights):.2e}")
    outside = int((weights[~masks] != 0).sum())
    print(f"  nonzeros outside the masks: {outside}")
