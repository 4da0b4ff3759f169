"""What each contender runs on a network workload: one of the paper's networks, whole
(network_kinds.py).

Every builder takes (workload, device, config) and returns a Cell (workloads.py). The
model is built here, outside the timing, unless the workload asks for fresh models (the
construction is then part of what is measured). EOI and the isometry baselines go
through sparsify, as a user would (the paper's baselines too: baseline_cells.py); the
other anchors touch the same layer weights.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

from ...densities import layer_densities
from ...layers import find_layer_weights
from ...reference import published_sparse_orthogonal
from ...sparse_model import SparseModel
from ...sparsify import sparsify
from .config import BenchConfig
from .network_kinds import NETWORK_KINDS
from .workloads import (
    NETWORK_ERROR_LAYERS,
    Cell,
    NetworkWorkload,
    build_network,
    network_error,
    on_fallback,
    seeded,
    skip,
)

__all__ = [
    "eoi_network",
    "floor_network",
    "isometry_network",
    "matrices_only",
    "orthogonal_network",
    "reference_network",
    "sparse_figures",
    "sparsified",
]

SAMPLED = f"error: max over {NETWORK_ERROR_LAYERS} sampled layers"


def sparsified(
    w: NetworkWorkload, device: torch.device, config: BenchConfig, method: str, **kwargs: Any
) -> Callable[[], SparseModel]:
    """A call of sparsify on the whole model: on a fresh model each call, or on one model
    whose previous sparsification is removed first, so every call starts from a plain
    model (no masks, no parametrizations)."""
    options = dict(distribution=w.distribution, method=method, generator=seeded(config.seed))
    options.update(kwargs)
    if w.fresh_model:
        return lambda: sparsify(build_network(w).to(device), w.density, **options)
    model = build_network(w).to(device)
    previous: list[SparseModel] = []

    def call() -> SparseModel:
        if previous:
            previous.pop().remove()
        previous.append(sparsify(model, w.density, **options))
        return previous[-1]

    return call


def sparse_figures(result: SparseModel) -> dict[str, Any]:
    """Density reached and sampled error of the model sparsify returned."""
    error = network_error(result.model)
    return {"achieved_density": result.density, "orthogonality_error": error, "note": SAMPLED}


def eoi_network(
    w: NetworkWorkload, device: torch.device, config: BenchConfig, *, python: bool = False
) -> Cell:
    return Cell(on_fallback(sparsified(w, device, config, "eoi"), python), sparse_figures)


def isometry_network(
    w: NetworkWorkload, device: torch.device, config: BenchConfig, *, method: str
) -> Cell:
    if w.kind not in config.isometry_networks:
        return skip(f"not run for the {w.kind} in this mode (minutes of iterations)")
    iterations = config.ai_steps if method == "ai_kaiming" else config.svd_iterations
    call = sparsified(w, device, config, method, iterations=iterations)
    return Cell(call, lambda result: {**sparse_figures(result), "iterations": iterations})


def reference_network(w: NetworkWorkload, device: torch.device, config: BenchConfig) -> Cell:
    """One published call per layer at the layer's density (it has no model-level API);
    reports the density kept."""
    if NETWORK_KINDS[w.kind].convs:
        # eoi_ext/reference.py mirrors the published matrix algorithm; the published
        # code's conv construction (sparselearning/weight_preprocesser.py) is not in it.
        return skip(
            "matrices only: `eoi_ext.reference` mirrors the published matrix algorithm alone "
            "(the published code also builds convs: `sparse_delta_orthogonal`, with "
            "`unfreeze_zeros`; not timed here)"
        )
    if w.depth > config.reference_max_layers:
        return skip(f"above {config.reference_max_layers} layers in this mode (~15 ms a layer)")
    model, g = build_network(w).to(device), seeded(config.seed)
    shapes = {layer.name: layer.shape for layer in find_layer_weights(model)[0]}
    densities = layer_densities(model, w.density, w.distribution)

    def call() -> float:
        kept = 0
        for name, shape in shapes.items():
            _, mask, _ = published_sparse_orthogonal(
                shape[0], shape[1], densities[name], dtype=torch.float32, generator=g
            )
            kept += int(mask.sum())
        return kept / sum(math.prod(s) for s in shapes.values())

    return Cell(call, lambda kept: {"achieved_density": kept})


def orthogonal_network(w: NetworkWorkload, device: torch.device, config: BenchConfig) -> Cell:
    """Dense torch.nn.init.orthogonal_ on every layer weight: a speed anchor, not sparse."""
    model = build_network(w).to(device)
    params = [layer.parameter for layer in find_layer_weights(model)[0]]
    g = seeded(config.seed) if device.type == "cpu" else None  # CUDA: its default generator

    def call() -> None:
        with torch.no_grad():
            for p in params:
                torch.nn.init.orthogonal_(p, generator=g)

    def figures(_: None) -> dict[str, Any]:
        error = network_error(model)
        return {"orthogonality_error": error, "achieved_density": 1.0, "note": f"dense; {SAMPLED}"}

    return Cell(call, figures)


def floor_network(w: NetworkWorkload, device: torch.device, config: BenchConfig) -> Cell:
    """Allocate and zero every layer's float32 weights and bool mask."""
    shapes = [layer.shape for layer in find_layer_weights(build_network(w))[0]]

    def call() -> list[Tensor]:
        return [
            t
            for shape in shapes
            for t in (
                torch.zeros(shape, device=device),
                torch.zeros(shape, dtype=torch.bool, device=device),
            )
        ]

    return Cell(call)


def matrices_only(w: NetworkWorkload, device: torch.device, config: BenchConfig) -> Cell:
    return skip("matrices only: a part of one EOI call")
