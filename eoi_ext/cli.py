"""The `eoi` command line (also `python -m eoi_ext`).

    eoi info [--layers 1000] [--width 128] [--density 0.125] [--seed 0] [--device cpu]

prints the backend and how the extension was built, then initializes a deep stack of
square EOI layers in one call (a first, cold call and a few warm ones) and reports the
times, the achieved density and the worst orthogonality error.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Sequence

import torch

from . import __version__, api
from ._extension import backend, build_info
from .metrics import orthogonality_error

WARM_REPEATS = 5


def parse_device(value: str) -> torch.device:
    try:
        device = torch.device(value)
    except RuntimeError as error:
        raise ValueError(
            f"--device must be a torch device such as cpu or cuda, got {value!r}"
        ) from error
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("--device cuda needs a CUDA build of torch and a GPU; none is available")
    if device.type not in ("cpu", "cuda"):
        raise ValueError(f"--device must be cpu or cuda, got {value!r}")
    return device


def run_info(layers: int, width: int, density: float, seed: int, device_name: str) -> None:
    api.check_size(layers, "--layers")
    api.check_size(width, "--width")
    api.check_density(density)
    device = parse_device(device_name)
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
        weights, masks = api.sparse_orthogonal_batch(
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="eoi", description="Exact Orthogonal Initialization of sparse networks."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    info = commands.add_parser(
        "info", help="show the backend and initialize a deep stack of EOI layers"
    )
    info.add_argument("--layers", type=int, default=1000, help="number of layers (1000)")
    info.add_argument("--width", type=int, default=128, help="layer width (128)")
    info.add_argument("--density", type=float, default=0.125, help="target density (0.125)")
    info.add_argument("--seed", type=int, default=0, help="random seed (0)")
    info.add_argument("--device", default="cpu", help="where to build the stack (cpu)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "info":
            run_info(args.layers, args.width, args.density, args.seed, args.device)
    except (TypeError, ValueError) as error:
        parser.error(str(error))
    return 0
