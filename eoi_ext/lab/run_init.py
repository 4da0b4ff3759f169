"""A spec run's initialization (eoi_ext/lab/spec_grid.py, RunCell), as the published
pipeline orders it (main.py; sparselearning/core.py, weight_preprocesser.py): the dense
init (init_type), then for a sparse run the masks, from a distribution or from a mask
source scored on that dense init, then the sparse init on them.

- masks "dense": "default" keeps the network's own init; "orthogonal" and
  "conv_orthogonal" are the paper's base at density 1 (orthogonal_ per matrix,
  conv_orthogonal kernels: eoi_ext/baselines/orthogonal_base.py); "delta_orthogonal"
  is EOI at density 1 (a dense orthogonal matrix at every kernel's centre).
- a distribution (uniform, erk, uni_skip, ...): sparsify(model, density, distribution,
  method=init), the method drawing its own masks.
- a mask source (snip, grasp, synflow): the base at density 1 first (what the published
  mask sources score), then its masks; SNIP on one training batch, GraSP on the whole
  training set in batches (as published), SynFlow data-free (in float64 where the block
  says double_precision, as the published EfficientNet runs).
"""

from __future__ import annotations

import copy
import time
from typing import Any

import torch
from torch import Tensor, nn

from ..mask_sources import SYNFLOW_ROUNDS, grasp_masks, snip_masks, synflow_masks
from ..sparse_model import SparseModel
from ..sparsify import sparsify
from .data import Dataset
from .spec_grid import MASK_SOURCES, RunCell

__all__ = ["initialize"]


def initialize(
    model: nn.Module, cell: RunCell, data: Dataset, generator: torch.Generator
) -> dict[str, Any]:
    """Initializes `model` in place as `cell` says and fixes its masks.

    Args:
        model: the cell's network, freshly built.
        cell: the run.
        data: its dataset (SNIP and GraSP score on the training split).
        generator: the run's source of randomness.

    Returns:
        {"init_seconds", "density", "layer_densities", "isometry_error"}: what the run
        records of its init (density 1.0 and no layers for a dense run).

    Examples:
        >>> from eoi_ext.lab.spec_grid import RunCell
        >>> cell = RunCell("t", "b", "mlp", 3, 8, "tanh", 1.0, 0.0, None, "synthetic",
        ...                0.5, "uniform", "eoi", 1)
        >>> model = eoi_ext.models.deep_mlp(3, 8, "tanh", 4, 2)
        >>> data = eoi_ext.lab.data.Dataset("s", torch.randn(8, 4), torch.arange(8) % 2,
        ...                                 torch.randn(4, 4), torch.arange(4) % 2, 2)
        >>> info = eoi_ext.lab.run_init.initialize(model, cell, data, torch.Generator())
        >>> round(info["density"], 1)
        0.5
    """
    options = dict(cell.options)
    start = time.perf_counter()
    common = dict(gain=cell.gain, bias_std=cell.bias_std, conv_mode=cell.conv_mode)
    if cell.masks == "dense":
        if cell.init != "default":
            method = "eoi" if cell.init == "delta_orthogonal" else "base"
            sparsify(model, 1.0, distribution="uniform", method=method,
                     generator=generator, **common).remove()  # fmt: skip
        return _record(start, None)
    iterations = dict(cell.recipe).get("ai_iterations") if cell.init == "ai" else None
    if cell.masks not in MASK_SOURCES:
        sparse = sparsify(model, cell.density, distribution=cell.masks, method=cell.init,
                          iterations=iterations, generator=generator, **common)  # fmt: skip
        return _record(start, sparse)
    sparsify(model, 1.0, distribution="uniform", method="base", generator=generator,
             **common).remove()  # fmt: skip
    masks = _source_masks(model, cell, data, generator, bool(options.get("double_precision")))
    sparse = sparsify(model, None, distribution=masks, method=cell.init,
                      iterations=iterations, generator=generator, **common)  # fmt: skip
    return _record(start, sparse)


def _source_masks(
    model: nn.Module, cell: RunCell, data: Dataset, generator: torch.Generator, double: bool
) -> dict[str, Tensor]:
    batch_size = int(dict(cell.recipe).get("batch_size", 128))
    order = torch.randperm(len(data.x_train), generator=generator)
    if cell.masks == "snip":  # published SNIP: next(iter(train_loader))
        index = order[:batch_size]
        return snip_masks(model, cell.density, data.x_train[index], data.y_train[index])
    if cell.masks == "grasp":  # published GraSP_v2: every batch of the training loader
        batches = [(data.x_train[index], data.y_train[index]) for index in order.split(batch_size)]
        return grasp_masks(model, cell.density, batches)
    scored = copy.deepcopy(model).double() if double else model  # synflow scores a copy
    rounds = int(dict(cell.recipe).get("synflow_rounds", SYNFLOW_ROUNDS))
    return synflow_masks(scored, cell.density, data.input_shape, rounds=rounds)


def _record(start: float, sparse: SparseModel | None) -> dict[str, Any]:
    seconds = time.perf_counter() - start
    if sparse is None:
        return {"init_seconds": seconds, "density": 1.0, "layer_densities": {},
                "isometry_error": {}}  # fmt: skip
    return {
        "init_seconds": seconds,
        "density": sparse.density,
        "layer_densities": sparse.densities,
        "isometry_error": sparse.info.get("isometry_error", {}),
    }
