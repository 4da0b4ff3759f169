"""The `eoi` command line (also `python -m eoi_ext.lab`).

eoi demo [--quick] [--plot eoi_demo.png] [--steps 200] [--seed 0]
    the main job: EOI vs the random and AI sparse initializations on a 1000-layer
    tanh MLP trained on scikit-learn's digits (eoi_ext.lab.demo)
eoi train [--model mlp|cnn] [--depth] [--width] [--density] [--distribution]
          [--method] [--epochs] [--data digits|mnist|cifar10] [--root] [--json PATH]
    one custom experiment, metrics to JSON (eoi_ext.lab.experiment)
eoi info [--layers 1000] [--width 128] [--density 0.125] [--seed 0] [--device cpu]
    the backend and build, then a deep stack of EOI layers in one call
eoi bench [--quick] [--json] [--plot] [--device cpu]
    EOI against every alternative, in one run (eoi_ext.lab.bench)

Every flag is checked here, before anything runs, and errors speak of flags; what the
library raises after that is a bug or a real failure and keeps its traceback. demo,
train and bench need the lab extra, and say so when it is missing.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from . import INSTALL_EXTRA, missing_extra
from .arguments import (
    density_value,
    device_value,
    finite_value,
    nonnegative_value,
    positive_int,
    positive_value,
)
from .info import run_info

__all__ = ["build_parser", "main"]

NEEDS_EXTRA = ("demo", "train", "bench")


def build_parser() -> argparse.ArgumentParser:
    from ..densities import DISTRIBUTIONS
    from ..methods import METHODS
    from ..models import ACTIVATIONS
    from .data import DATASETS
    from .experiment import MODELS, ExperimentConfig

    parser = argparse.ArgumentParser(
        prog="eoi", description="Exact Orthogonal Initialization of sparse networks."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    info = commands.add_parser(
        "info", help="show the backend and initialize a deep stack of EOI layers"
    )
    info.add_argument("--layers", type=positive_int, default=1000, help="number of layers")
    info.add_argument("--width", type=positive_int, default=128, help="layer width (128)")
    info.add_argument("--density", type=density_value, default=0.125, help="target density")
    info.add_argument("--seed", type=int, default=0, help="random seed (0)")
    info.add_argument("--device", type=device_value, default="cpu", help="cpu or cuda")

    demo = commands.add_parser(
        "demo", help="EOI vs random and AI on a 1000-layer tanh MLP (digits)"
    )
    demo.add_argument("--quick", action="store_true", help="100 layers of width 32 (seconds)")
    demo.add_argument("--plot", default="eoi_demo.png", help="PNG path ('' for none)")
    demo.add_argument("--steps", type=positive_int, default=None, help="training steps (200)")
    demo.add_argument("--seed", type=int, default=0, help="random seed (0)")
    demo.add_argument("--no-progress", action="store_true", help="no progress bars")

    bench = commands.add_parser("bench", help="EOI against every alternative, in one run")
    bench.add_argument("--quick", action="store_true", help="about a minute on 2 CPU cores")
    bench.add_argument("--json", default="eoi_bench.json", help="results file ('' for none)")
    bench.add_argument("--plot", default="eoi_bench.png", help="PNG path ('' for none)")
    bench.add_argument("--device", type=device_value, default="cpu", help="cpu or cuda")
    bench.add_argument("--no-progress", action="store_true", help="no progress bar")

    defaults = ExperimentConfig()
    run = commands.add_parser("train", help="one custom experiment, metrics to JSON")
    run.add_argument("--model", choices=MODELS, default=defaults.model)
    run.add_argument("--depth", type=positive_int, default=defaults.depth)
    run.add_argument("--width", type=positive_int, default=defaults.width, help="or channels")
    run.add_argument("--activation", choices=tuple(ACTIVATIONS), default=defaults.activation)
    run.add_argument("--density", type=density_value, default=defaults.density)
    run.add_argument("--distribution", choices=DISTRIBUTIONS, default=defaults.distribution)
    run.add_argument("--method", choices=tuple(METHODS), default=defaults.method)
    run.add_argument("--gain", type=finite_value, default=defaults.gain)
    run.add_argument("--bias-std", type=nonnegative_value, default=defaults.bias_std)
    run.add_argument("--epochs", type=positive_value, default=defaults.epochs)
    run.add_argument("--batch-size", type=positive_int, default=defaults.batch_size)
    run.add_argument("--lr", type=positive_value, default=defaults.learning_rate)
    run.add_argument("--data", choices=DATASETS, default=defaults.data)
    run.add_argument("--root", default=None, help="local torchvision root (mnist, cifar10)")
    run.add_argument("--seed", type=int, default=defaults.seed)
    run.add_argument("--json", default="eoi_train.json", help="metrics file")
    run.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser


def run_demo_command(args: argparse.Namespace) -> None:
    from .demo import DemoConfig, run_demo

    config = DemoConfig.quick() if args.quick else DemoConfig()
    if args.steps is not None:
        config = replace(config, steps=args.steps)
    run_demo(replace(config, seed=args.seed), plot=args.plot or None, progress=not args.no_progress)


def run_bench_command(args: argparse.Namespace) -> None:
    from .bench import BenchConfig, format_table, run_bench, save_plot
    from .output import write_json

    device = str(args.device)
    config = BenchConfig.quick(device) if args.quick else BenchConfig.full(device)
    result = run_bench(config, progress=not args.no_progress)
    print(format_table(result))
    if args.json:
        write_json(result.to_json(), args.json)
        print(f"saved {args.json}")
    if args.plot:
        save_plot(result, args.plot)
        print(f"saved {args.plot}")


def run_train_command(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    from .data import IMAGE_DATASETS, load_dataset
    from .experiment import ExperimentConfig, run_experiment
    from .output import write_json

    if args.model == "cnn" and args.data not in IMAGE_DATASETS:
        parser.error(f"--model cnn needs image data (--data {' or '.join(IMAGE_DATASETS)})")
    if args.data in IMAGE_DATASETS:
        if args.root is None:
            parser.error(
                f"--data {args.data} needs --root, a local torchvision root (no downloads)"
            )
        if not Path(args.root).is_dir():
            parser.error(f"--root {args.root!r} is not a directory")
    try:
        data = load_dataset(args.data, args.root, seed=args.seed)
    except FileNotFoundError as error:
        parser.error(f"--root: {error}")
    except ImportError as error:  # no torchvision, or one built for another torch
        parser.error(f"--data {args.data}: {error}")
    config = ExperimentConfig(
        model=args.model, depth=args.depth, width=args.width, activation=args.activation,
        density=args.density, distribution=args.distribution, method=args.method,
        gain=args.gain, bias_std=args.bias_std, epochs=args.epochs,
        batch_size=args.batch_size, learning_rate=args.lr, data=args.data, root=args.root,
        seed=args.seed,
    )  # fmt: skip
    metrics = run_experiment(config, data=data, progress=not args.no_progress)
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
    missing = missing_extra() if args.command in NEEDS_EXTRA else []
    if missing:
        parser.exit(
            2,
            f"eoi {args.command} needs the lab extra ({', '.join(missing)} not installed): "
            f"{INSTALL_EXTRA}\n",
        )
    if args.command == "info":
        run_info(args.layers, args.width, args.density, args.seed, args.device)
    elif args.command == "demo":
        run_demo_command(args)
    elif args.command == "train":
        run_train_command(args, parser)
    elif args.command == "bench":
        run_bench_command(args)
    return 0
