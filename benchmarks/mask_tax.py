"""The mask tax (docs/masking.md): what fixing masks costs a training step and sparsify.

One process, every variant interleaved step by step (so machine noise hits all alike),
medians over the rounds, ratios to the dense model in the same run:

- training step (zero_grad, forward, backward, optimizer step) of a 200-layer, 256-wide
  tanh MLP (batch 128) and a 20-layer, 64-channel tanh CNN (batch 32, 16 x 16), with
  Adam and with SGD + momentum, flush-denormal on. "dense" is the same model with the
  same (sparse) values and no mask, "hooks" the default masking, "parametrize" the
  parametrization;
- Adam's step alone on 200 tensors of 256 x 256 whose gradients are dense or 90% exact
  zeros (no masking at all): torch's CPU sqrt of an exact zero is slow here, so any
  correctly masked model pays it in Adam (docs/masking.md, "The mask tax, measured");
- sparsify of the 1000-layer, 128-wide MLP (dense ends, 0.125) under each masking,
  against sparse_orthogonal_batch of its inner layers (building the weights alone).

Run: ``python benchmarks/mask_tax.py [--quick] [--json PATH]``.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import time
from collections.abc import Callable

import torch
from torch import nn

import eoi_ext
from eoi_ext.models import deep_mlp

VARIANTS = ("dense", "hooks", "parametrize")


def mlp(depth: int) -> nn.Sequential:
    return nn.Sequential(*[m for _ in range(depth) for m in (nn.Linear(256, 256), nn.Tanh())])


def cnn(depth: int) -> nn.Sequential:
    layers = [(nn.Conv2d(64, 64, 3, padding=1), nn.Tanh()) for _ in range(depth)]
    return nn.Sequential(*[m for pair in layers for m in pair])


def prepared(make: Callable[[], nn.Module], variant: str) -> nn.Module:
    torch.manual_seed(0)
    model = make()
    masking = "hooks" if variant == "dense" else variant
    sparse = eoi_ext.sparsify(model, 0.1, masking=masking)
    if variant == "dense":
        sparse.remove()  # the same values, no mask
    return model


def step_medians(
    make: Callable[[], nn.Module], x: torch.Tensor, optimizer: str, rounds: int
) -> dict:
    runs = {}
    for variant in VARIANTS:
        model = prepared(make, variant)
        if optimizer == "adam":
            opt = torch.optim.Adam(model.parameters(), lr=1e-4)
        else:
            opt = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
        runs[variant] = (model, opt)
    times: dict[str, list[float]] = {variant: [] for variant in VARIANTS}
    for index in range(rounds + 1):
        for variant, (model, opt) in runs.items():
            start = time.perf_counter()
            opt.zero_grad()
            model(x).square().mean().backward()
            opt.step()
            if index:  # the first round warms up
                times[variant].append(time.perf_counter() - start)
    return {variant: statistics.median(seconds) for variant, seconds in times.items()}


def adam_medians(rounds: int, count: int = 200) -> dict:
    """Adam steps on the same parameters, gradients dense or zero outside a 10% mask."""
    g = torch.Generator().manual_seed(0)
    runs = {}
    for case, fraction in (("dense grads", 1.0), ("90% zero grads", 0.1)):
        params = [nn.Parameter(torch.randn(256, 256, generator=g) / 16) for _ in range(count)]
        masks = [torch.rand(256, 256, generator=g) < fraction for _ in range(count)]
        runs[case] = (params, masks, torch.optim.Adam(params, lr=1e-4))
    times: dict[str, list[float]] = {case: [] for case in runs}
    for index in range(rounds + 1):
        for case, (params, masks, opt) in runs.items():
            for parameter, mask in zip(params, masks, strict=True):
                parameter.grad = torch.randn(256, 256, generator=g).mul_(mask) / 1000
            start = time.perf_counter()
            opt.step()
            if index:
                times[case].append(time.perf_counter() - start)
    return {case: statistics.median(seconds) for case, seconds in times.items()}


def sparsify_medians(layers: int, rounds: int) -> dict:
    times: dict[str, list[float]] = {"hooks": [], "parametrize": [], "weights": []}
    for _ in range(rounds):
        for masking in ("hooks", "parametrize"):
            model = deep_mlp(layers, 128, "tanh", in_features=64, out_features=10)
            gc.collect()
            start = time.perf_counter()
            eoi_ext.sparsify(model, 0.125, distribution="uniform_dense_ends", masking=masking)
            times[masking].append(time.perf_counter() - start)
        gc.collect()
        start = time.perf_counter()
        eoi_ext.sparse_orthogonal_batch(layers - 2, 128, 128, 0.125)
        times["weights"].append(time.perf_counter() - start)
    return {key: statistics.median(seconds) for key, seconds in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small models, few rounds")
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--json", help="write the medians and ratios here")
    args = parser.parse_args()
    torch.set_flush_denormal(True)
    rounds = args.rounds or (3 if args.quick else 21)
    depth_mlp, depth_cnn, layers = (10, 2, 50) if args.quick else (200, 20, 1000)
    report: dict = {"torch": torch.__version__, "threads": torch.get_num_threads(), "steps": {}}
    cases = [
        ("mlp", lambda: mlp(depth_mlp), torch.randn(128, 256)),
        ("cnn", lambda: cnn(depth_cnn), torch.randn(32, 64, 16, 16)),
    ]
    print(f"training step, median of {rounds} interleaved rounds (ratio to dense)")
    for name, make, x in cases:
        for optimizer in ("adam", "sgd"):
            medians = step_medians(make, x, optimizer, rounds)
            ratios = {v: medians[v] / medians["dense"] for v in VARIANTS}
            report["steps"][f"{name}-{optimizer}"] = {"seconds": medians, "ratio": ratios}
            cells = "  ".join(
                f"{v} {medians[v] * 1e3:7.2f} ms ({ratios[v]:.3f}x)" for v in VARIANTS
            )
            print(f"  {name:4} {optimizer:5} {cells}")
    medians = adam_medians(rounds)
    report["adam_step"] = medians
    base = medians["dense grads"]
    print("Adam step alone (200 tensors of 256 x 256, ratio to dense gradients)")
    for case, seconds in medians.items():
        print(f"  {case:15} {seconds * 1e3:8.2f} ms ({seconds / base:.2f}x)")
    medians = sparsify_medians(layers, max(3, rounds // 4))
    report["sparsify"] = {"layers": layers, "seconds": medians}
    print(f"sparsify of the {layers}-layer MLP (ratio to building its weights)")
    for key, seconds in medians.items():
        print(f"  {key:12} {seconds * 1e3:8.1f} ms ({seconds / medians['weights']:.2f}x)")
    if args.json:
        with open(args.json, "w") as file:
            json.dump(report, file, indent=2)


if __name__ == "__main__":
    main()
