"""`eoi train`: its flags and its run (eoi_ext/lab/cli.py dispatches here). Every flag,
and the pairing of model and data, is checked before anything runs."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from .arguments import (
    density_value,
    finite_value,
    nonnegative_value,
    positive_int,
    positive_value,
)

__all__ = ["add_train_parser", "run_train_command"]


def add_train_parser(commands: Any) -> None:
    """Adds the `train` subcommand to an argparse subparsers object."""
    from ..checks import CONV_MODES
    from ..densities import DISTRIBUTIONS
    from ..methods import METHODS
    from ..models import ACTIVATIONS
    from .data import DATASETS
    from .experiment import MODELS, ExperimentConfig

    defaults = ExperimentConfig()
    run = commands.add_parser("train", help="one custom experiment, metrics to JSON")
    run.add_argument("--model", choices=MODELS, default=defaults.model)
    run.add_argument("--depth", type=positive_int, default=None, help="the model's default")
    run.add_argument("--width", type=positive_int, default=None, help="or channels")
    run.add_argument("--activation", choices=tuple(ACTIVATIONS), default=defaults.activation)
    run.add_argument("--density", type=density_value, default=defaults.density)
    run.add_argument("--distribution", choices=DISTRIBUTIONS, default=defaults.distribution)
    run.add_argument("--method", choices=tuple(METHODS), default=defaults.method)
    run.add_argument("--conv-mode", choices=CONV_MODES, default=None, help="the model's")
    run.add_argument("--gain", type=finite_value, default=defaults.gain)
    run.add_argument("--bias-std", type=nonnegative_value, default=defaults.bias_std)
    run.add_argument("--epochs", type=positive_value, default=defaults.epochs)
    run.add_argument("--batch-size", type=positive_int, default=defaults.batch_size)
    run.add_argument("--lr", type=positive_value, default=defaults.learning_rate)
    run.add_argument("--data", choices=DATASETS, default=defaults.data)
    run.add_argument("--root", default=None, help="local dataset root (no downloads)")
    run.add_argument("--seed", type=int, default=defaults.seed)
    run.add_argument("--json", default="eoi_train.json", help="metrics file")
    run.add_argument("--no-progress", action="store_true", help="no progress bar")


def _check_model_flags(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    """The model's needs (eoi_ext/lab/networks.py), as usage errors naming the flags."""
    from .data import IMAGE_DATASETS
    from .networks import NEEDS, NETWORKS

    network = NETWORKS[args.model]
    for flag in ("depth", "width"):
        if getattr(args, flag) is not None and getattr(network, flag) is None:
            parser.error(f"--{flag}: fixed by the {args.model} architecture; leave it unset")
    accepted = {  # the datasets of each need (eoi_ext/lab/data.py; synthetic is 3 x 32 x 32)
        "image": (*IMAGE_DATASETS, "synthetic"),
        "rgb": ("cifar10", "cifar100", "tiny_imagenet", "synthetic"),
        "cifar": ("cifar10", "cifar100", "synthetic"),
    }.get(network.needs)
    if accepted is not None and args.data not in accepted:
        parser.error(f"--model {args.model} needs {NEEDS[network.needs]} "
                     f"(--data {' or '.join(accepted)})")  # fmt: skip


def run_train_command(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    """Checks the flags, loads the data, runs the experiment and writes its JSON."""
    from .data import IMAGE_DATASETS, load_dataset
    from .experiment import ExperimentConfig, run_experiment
    from .output import write_json

    _check_model_flags(args, parser)
    if args.data in IMAGE_DATASETS:
        if args.root is None:
            parser.error(f"--data {args.data} needs --root, a local dataset root (no downloads)")
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
        conv_mode=args.conv_mode, gain=args.gain, bias_std=args.bias_std,
        epochs=args.epochs, batch_size=args.batch_size, learning_rate=args.lr,
        data=args.data, root=args.root, seed=args.seed,
    )  # fmt: skip
    metrics = run_experiment(config, data=data, progress=not args.no_progress)
    write_json(metrics, args.json)
    print(
        f"{config.method} {config.model} depth {metrics['config']['depth']}: "
        f"init {metrics['init_seconds']:.3f} s, density {metrics['density']:.4f}, "
        f"max orthogonality error {metrics['orthogonality_error']['max']:.2e}, test accuracy "
        f"{metrics['test_accuracy']:.1%}; metrics in {args.json}"
    )
