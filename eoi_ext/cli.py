"""The `eoi` command line (also `python -m eoi_ext`).

eoi demo [--quick] [--plot eoi_demo.png] [--steps 200] [--seed 0]
    the main job: EOI vs the random and AI sparse initializations on a 1000-layer
    tanh MLP trained on scikit-learn's digits (eoi_ext.demo)
eoi train [--model mlp|cnn] [--depth] [--width] [--density] [--distribution]
          [--method] [--epochs] [--data digits|mnist|cifar10] [--root] [--json PATH]
    one custom experiment, metrics to JSON (eoi_ext.experiment)
eoi info [--layers 1000] [--width 128] [--density 0.125] [--seed 0] [--device cpu]
    the backend and build, then a deep stack of EOI layers in one call: times,
    achieved density, worst orthogonality error
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Sequence
from dataclasses import replace

import torch

from . import __version__, api
from ._extension import backend, build_info
from .bench import BenchConfig, format_table, run_bench
from .bench import save_plot as save_bench_plot
from .bench import write_json as write_bench_json
from .data import DATASETS
from .demo import DemoConfig, run_demo
from .densities import DISTRIBUTIONS
from .experiment import MODELS, ExperimentConfig, run_experiment, write_json
from .metrics import orthogonality_error
from .sparsify import METHODS

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

    demo = commands.add_parser(
        "demo", help="EOI vs random and AI on a 1000-layer tanh MLP (digits)"
    )
    demo.add_argument("--quick", action="store_true", help="100 layers of width 32 (seconds)")
    demo.add_argument("--plot", default="eoi_demo.png", help="PNG path ('' for none)")
    demo.add_argument("--steps", type=int, default=None, help="training steps (200)")
    demo.add_argument("--seed", type=int, default=0, help="random seed (0)")
    demo.add_argument("--no-progress", action="store_true", help="no progress bars")

    bench = commands.add_parser("bench", help="EOI against every alternative, in one run")
    bench.add_argument("--quick", action="store_true", help="about 2 minutes on 2 CPU cores")
    bench.add_argument("--json", default="eoi_bench.json", help="results file ('' for none)")
    bench.add_argument("--plot", default="eoi_bench.png", help="PNG path ('' for none)")
    bench.add_argument("--device", default="cpu", help="cpu or cuda")
    bench.add_argument("--no-progress", action="store_true", help="no progress bar")

    defaults = ExperimentConfig()
    run = commands.add_parser("train", help="one custom experiment, metrics to JSON")
    run.add_argument("--model", choices=MODELS, default=defaults.model)
    run.add_argument("--depth", type=int, default=defaults.depth)
    run.add_argument("--width", type=int, default=defaults.width, help="width or channels")
    run.add_argument("--activation", default=defaults.activation)
    run.add_argument("--density", type=float, default=defaults.density)
    run.add_argument("--distribution", choices=DISTRIBUTIONS, default=defaults.distribution)
    run.add_argument("--method", choices=METHODS, default=defaults.method)
    run.add_argument("--gain", type=float, default=defaults.gain)
    run.add_argument("--bias-std", type=float, default=defaults.bias_std)
    run.add_argument("--epochs", type=float, default=defaults.epochs)
    run.add_argument("--batch-size", type=int, default=defaults.batch_size)
    run.add_argument("--lr", type=float, default=defaults.learning_rate)
    run.add_argument("--data", choices=DATASETS, default=defaults.data)
    run.add_argument("--root", default=None, help="local torchvision root (mnist, cifar10)")
    run.add_argument("--seed", type=int, default=defaults.seed)
    run.add_argument("--json", default="eoi_train.json", help="metrics file")
    run.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser


def run_demo_command(args: argparse.Namespace) -> None:
    config = DemoConfig.quick() if args.quick else DemoConfig()
    if args.steps is not None:
        config = replace(config, steps=api.check_size(args.steps, "--steps"))
    config = replace(config, seed=args.seed)
    run_demo(config, plot=args.plot or None, progress=not args.no_progress)


def run_bench_command(args: argparse.Namespace) -> None:
    device = parse_device(args.device)
    config = BenchConfig.quick(str(device)) if args.quick else BenchConfig.full(str(device))
    result = run_bench(config, progress=not args.no_progress)
    print(format_table(result))
    if args.json:
        write_bench_json(result, args.json)
        print(f"saved {args.json}")
    if args.plot:
        save_bench_plot(result, args.plot)
        print(f"saved {args.plot}")


def run_train_command(args: argparse.Namespace) -> None:
    config = ExperimentConfig(
        model=args.model,
        depth=args.depth,
        width=args.width,
        activation=args.activation,
        density=args.density,
        distribution=args.distribution,
        method=args.method,
        gain=args.gain,
        bias_std=args.bias_std,
        epochs=args.epochs,
        batch_size=api.check_size(args.batch_size, "--batch-size"),
        learning_rate=args.lr,
        data=args.data,
        root=args.root,
        seed=args.seed,
    )
    metrics = run_experiment(config, progress=not args.no_progress)
    write_json(metrics, args.json)
    print(
        f"{config.method} {config.model} depth {config.depth}: "
        f"init {metrics['init_seconds']:.3f} s, density {metrics['density']:.4f}, "
        f"max orthogonality error {metrics['orthogonality_error']['max']:.2e}, test accuracy "
        f"{metrics['test_accuracy']:.1%}; metrics in {args.json}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "info":
            run_info(args.layers, args.width, args.density, args.seed, args.device)
        elif args.command == "demo":
            run_demo_command(args)
        elif args.command == "train":
            run_train_command(args)
        elif args.command == "bench":
            run_bench_command(args)
    except (TypeError, ValueError) as error:
        parser.error(str(error))
    return 0
