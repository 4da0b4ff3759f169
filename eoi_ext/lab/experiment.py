"""`eoi train`: one custom experiment, its metrics written as JSON."""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, replace
from typing import Any

import torch

from ..conv_modes import default_conv_mode
from ..metrics import jacobian_singular_values, orthogonality_errors
from ..sparsify import sparsify
from .data import Dataset, load_dataset
from .networks import NETWORKS, build_network
from .training import train

__all__ = ["MODELS", "ExperimentConfig", "run_experiment", "spectrum_summary"]

MODELS = tuple(NETWORKS)


@dataclass(frozen=True)
class ExperimentConfig:
    model: str = "mlp"
    depth: int | None = None  # None: the model's default (eoi_ext/lab/networks.py)
    width: int | None = None
    activation: str = "tanh"
    density: float = 0.125
    distribution: str = "uniform_dense_ends"
    method: str = "eoi"
    conv_mode: str | None = None  # None: the model's (eoi_ext/conv_modes.py)
    gain: float = 1.0247
    bias_std: float = 0.00448
    epochs: float = 1.0
    batch_size: int = 128
    learning_rate: float = 1e-4
    data: str = "digits"
    root: str | None = None
    seed: int = 0


def spectrum_summary(values: torch.Tensor) -> dict[str, float]:
    """Mean, std, min and max of singular values: what a JSON record keeps of a spectrum
    (eoi train here, eoi run in run_cell.py)."""
    return {stat: float(getattr(values, stat)()) for stat in ("mean", "std", "min", "max")}


def run_experiment(
    config: ExperimentConfig, *, data: Dataset | None = None, progress: bool = True
) -> dict[str, Any]:
    """Builds, sparsifies, measures and trains one model; returns the metrics. `data`:
    the dataset config.data names, when the caller has loaded it already."""
    if not (config.epochs > 0 and math.isfinite(config.epochs)):
        raise ValueError(f"config.epochs must be a positive number, got {config.epochs!r}")
    if data is None:
        data = load_dataset(config.data, config.root, seed=config.seed)
    generator = torch.Generator().manual_seed(config.seed)
    model, depth, width = build_network(
        config.model, config.depth, config.width, config.activation, data.input_shape,
        data.num_classes,
    )  # fmt: skip
    config = replace(config, depth=depth, width=width)
    conv_mode = default_conv_mode(config.conv_mode, config.distribution, model)
    start = time.perf_counter()
    sparse = sparsify(
        model,
        config.density,
        distribution=config.distribution,
        method=config.method,
        gain=config.gain,
        bias_std=config.bias_std,
        conv_mode=config.conv_mode,
        generator=generator,
    )
    init_seconds = time.perf_counter() - start
    errors = orthogonality_errors(model, gain=config.gain)
    singular_values = jacobian_singular_values(model, data.x_test[:4]).flatten()
    steps = max(1, math.ceil(config.epochs * len(data.x_train) / config.batch_size))
    result = train(
        model,
        data,
        steps=steps,
        batch_size=config.batch_size,
        learning_rate=config.learning_rate,
        generator=generator,
        progress=f"train {config.method}" if progress else None,
    )
    return {
        "config": asdict(config),
        "init_seconds": init_seconds,
        "density": sparse.density,
        "conv_mode": conv_mode,
        "layer_densities": sparse.densities,
        "orthogonality_error": {"max": max(errors.values()), "per_layer": errors},
        "isometry_error": sparse.info.get("isometry_error", {}),
        "jacobian_singular_values": spectrum_summary(singular_values),
        "steps": steps,
        "train_seconds": result.seconds,
        "losses": result.losses,
        "test_accuracy": result.test_accuracy,
        "test_loss": result.test_loss,
    }
