"""Real models (issue 13): the time of sparsify on torchvision resnet50 and vit_b_16, the
same weights' dense torch.nn.init.orthogonal_ for scale, and orthogonality_errors.

    python benchmarks/zoo.py [--repeats 5] [--quick] [--json PATH]

Run it in the zoo venv, from the tree scripts/zoo_venv.sh builds (torchvision is not in
the main .venv):

    bash scripts/zoo_venv.sh --setup
    (cd build/zoo-src && ../../.venv-zoo/bin/python benchmarks/zoo.py)

Why: the kernels' benchmarks (test_speed.py) time single matrices; a user times
sparsify(model, 0.1) on the model they have. Each repeat builds a fresh model (not
timed), then times one call; the table gives the median. "dense orthogonal_" runs
torch.nn.init.orthogonal_ on every weight sparsify initializes (a dense QR per tensor),
in the same run, so the ratio says what EOI costs against the usual dense init.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import torch
import torchvision
from torch import nn

import eoi_ext
from eoi_ext.layers import find_layer_weights

DENSITY = 0.1
MODELS: dict[str, Callable[[], nn.Module]] = {
    "resnet50": lambda: torchvision.models.resnet50(weights=None),
    "vit_b_16": lambda: torchvision.models.vit_b_16(weights=None),
}


def median_seconds(
    build: Callable[[], nn.Module], run: Callable[[nn.Module], object], repeats: int
) -> float:
    """The median time of run(model) over `repeats` fresh models (building not timed)."""
    times = []
    for _ in range(repeats):
        model = build()
        start = time.perf_counter()
        run(model)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def sparsify(model: nn.Module) -> eoi_ext.SparseModel:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # modules left dense: not what is timed here
        return eoi_ext.sparsify(model, DENSITY)


@torch.no_grad()
def dense_orthogonal(model: nn.Module) -> None:
    """torch.nn.init.orthogonal_ on every weight sparsify would initialize."""
    for layer in find_layer_weights(model)[0]:
        torch.nn.init.orthogonal_(layer.parameter)


def sparsified(build: Callable[[], nn.Module]) -> Callable[[], nn.Module]:
    def make() -> nn.Module:
        model = build()
        sparsify(model)
        return model

    return make


def measure(repeats: int) -> dict[str, object]:
    torch.manual_seed(0)
    sparsify(nn.Sequential(nn.Linear(64, 64), nn.Conv2d(8, 8, 3)))  # warm up
    rows: list[dict[str, object]] = []
    for name, build in MODELS.items():
        eoi = median_seconds(build, sparsify, repeats)
        dense = median_seconds(build, dense_orthogonal, repeats)
        weights = find_layer_weights(build())[0]
        rows.append({
            "model": name,
            "weights": len(weights),
            "parameters": sum(layer.parameter.numel() for layer in weights),
            "sparsify_s": eoi,
            "dense_orthogonal_s": dense,
            "dense_over_sparsify": dense / eoi,
        })  # fmt: skip
    errors = median_seconds(
        sparsified(MODELS["resnet50"]), eoi_ext.metrics.orthogonality_errors, repeats
    )
    return {
        "density": DENSITY,
        "repeats": repeats,
        "backend": eoi_ext.backend(),
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "threads": torch.get_num_threads(),
        "models": rows,
        "resnet50_orthogonality_errors_s": errors,
    }


def format_table(result: dict[str, object]) -> list[str]:
    lines = [
        f"sparsify(model, {result['density']}) against dense orthogonal_ on the same weights; "
        f"median of {result['repeats']}, backend {result['backend']}, torch {result['torch']}, "
        f"{result['threads']} threads",
        f"{'model':<10} {'weights':>7} {'params':>10} {'sparsify':>10} {'orthogonal_':>12} "
        f"{'orthogonal_/sparsify':>21}",
    ]
    for row in result["models"]:
        lines.append(
            f"{row['model']:<10} {row['weights']:>7} {row['parameters']:>10,} "
            f"{row['sparsify_s']:>9.3f}s {row['dense_orthogonal_s']:>11.3f}s "
            f"{row['dense_over_sparsify']:>20.2f}x"
        )
    lines.append(
        "orthogonality_errors(sparsified resnet50): "
        f"{result['resnet50_orthogonality_errors_s']:.3f} s (target < 2 s on 2 cores)"
    )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="timed calls per case")
    parser.add_argument("--quick", action="store_true", help="one repeat: a smoke run")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    result = measure(1 if args.quick else args.repeats)
    print("\n".join(format_table(result)))
    if args.json is not None:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
