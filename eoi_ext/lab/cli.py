"""The `eoi` command line (also `python -m eoi_ext.lab`).

eoi demo [--quick] [--plot eoi_demo.png] [--steps 200] [--ai-iterations 1000] [--seed 0]
    the main job: EOI vs the paper's base, AI and SAO on a 1000-layer tanh MLP
    trained on scikit-learn's digits (eoi_ext.lab.demo)
eoi train [--model mlp|cnn|cifar_conv|cifar_resnet|vgg16] [--depth] [--width] [--density]
          [--distribution] [--method] [--conv-mode] [--epochs] [--data digits|mnist|cifar10]
          [--root] [--json PATH]
    one custom experiment, metrics to JSON (eoi_ext.lab.experiment)
eoi run SPEC [--scale paper|smoke|cpu] [--seeds N] [--only k/N] [--root] [--device] [--out DIR]
    a paper experiment from its spec (eoi_ext/lab/specs), one JSON record per run
eoi report DIR [DIR ...] [--out FILE] [--plots DIR] [--no-plots] [--json FILE]
    the paper's tables (markdown) and figures (PNG) from eoi run's records
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

from . import INSTALL_EXTRA, missing_extra
from .arguments import (
    density_value,
    device_value,
    positive_int,
)
from .info import run_info
from .report_command import add_report_parser, run_report_command
from .run_command import add_run_parser, run_run_command
from .train_command import add_train_parser, run_train_command

__all__ = ["build_parser", "main"]

NEEDS_EXTRA = ("demo", "train", "bench", "run", "report")


def build_parser() -> argparse.ArgumentParser:
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
        "demo", help="EOI vs the paper's base, AI and SAO on a 1000-layer tanh MLP (digits)"
    )
    demo.add_argument("--quick", action="store_true", help="100 layers of width 32 (seconds)")
    demo.add_argument("--plot", default="eoi_demo.png", help="PNG path ('' for none)")
    demo.add_argument("--steps", type=positive_int, default=None, help="training steps (200)")
    demo.add_argument(
        "--ai-iterations", type=positive_int, default=None, help="SGD steps of AI (1000)"
    )
    demo.add_argument("--seed", type=int, default=0, help="random seed (0)")
    demo.add_argument("--no-progress", action="store_true", help="no progress bars")

    bench = commands.add_parser("bench", help="EOI against every alternative, in one run")
    bench.add_argument("--quick", action="store_true", help="about a minute on 2 CPU cores")
    bench.add_argument("--json", default="eoi_bench.json", help="results file ('' for none)")
    bench.add_argument("--plot", default="eoi_bench.png", help="PNG path ('' for none)")
    bench.add_argument("--device", type=device_value, default="cpu", help="cpu or cuda")
    bench.add_argument("--no-progress", action="store_true", help="no progress bar")

    add_train_parser(commands)
    add_run_parser(commands)
    add_report_parser(commands)
    return parser


def run_demo_command(args: argparse.Namespace) -> None:
    from .demo import DemoConfig, run_demo

    config = DemoConfig.quick() if args.quick else DemoConfig()
    if args.steps is not None:
        config = replace(config, steps=args.steps)
    if args.ai_iterations is not None:
        config = replace(config, ai_iterations=args.ai_iterations)
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
    elif args.command == "run":
        run_run_command(args, parser)
    elif args.command == "report":
        run_report_command(args, parser)
    elif args.command == "bench":
        run_bench_command(args)
    return 0
