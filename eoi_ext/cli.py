"""The `eoi` command line (also `python -m eoi_ext`).

    eoi info [--layers 1000] [--width 128] [--density 0.125] [--seed 0]

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


def run_info(layers: int, width: int, density: float, seed: int) -> None:
    api.check_size(layers, "--layers")
    api.check_size(width, "--width")
    api.check_density(density)
    print(f"eoi_ext {__version__}, torch {torch.__version__}")
    print(f"backend (cpu): {backend('cpu')}")
    for key, value in build_info().items():
        print(f"  {key}: {value}")
    generator = torch.Generator().manual_seed(seed)
    times = []
    for _ in range(1 + WARM_REPEATS):
        start = time.perf_counter()
        weights, masks = api.sparse_orthogonal_batch(
            layers, width, width, density, generator=generator
        )
        times.append(time.perf_counter() - start)
    print(
        f"initialized {layers} layers of {width}x{width} at target density {density:g}: "
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
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "info":
            run_info(args.layers, args.width, args.density, args.seed)
    except (TypeError, ValueError) as error:
        parser.error(str(error))
    return 0
