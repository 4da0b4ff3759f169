"""The paper's baselines on whole networks (issue 14: their init time per network):
"base", the published "ai" and "sao", each a call of sparsify as EOI's rows are
(network_cells.sparsified), so that a row's ratio to EOI's is what a user pays for one
or the other. eoi_ext/methods.py says what each builds.

They have no matrix rows: the paper times them per network, and on a matrix "base" is
the `orthogonal` anchor plus a mask. "ai" runs `config.ai_iterations` SGD steps (the
paper's 1000 would take minutes per network on a CPU; its time grows linearly with
them); "sao" reaches only exact degrees (eoi_ext/baselines/ramanujan.py), so a network
with a layer it cannot build is skipped with the layer and the reason.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ... import baselines
from ...densities import layer_densities
from ...layers import find_layer_weights
from ...sparse_model import SparseModel
from .config import BenchConfig
from .network_cells import SAMPLED, sparse_figures, sparsified
from .workloads import Cell, NetworkWorkload, build_network, skip

__all__ = ["ai_network", "base_network", "sao_network", "sao_unreachable"]


def base_network(w: NetworkWorkload, device: torch.device, config: BenchConfig) -> Cell:
    """The paper's base: dense orthogonal (conv_orthogonal kernels for convs), masked."""
    return Cell(sparsified(w, device, config, "base"), sparse_figures)


def ai_network(w: NetworkWorkload, device: torch.device, config: BenchConfig) -> Cell:
    """The published approximate isometry from base, `config.ai_iterations` steps; the
    row records them (iterations) beside the paper's count."""
    iterations = config.ai_iterations
    note = f"the paper's: {baselines.PUBLISHED_AI_ITERATIONS}; {SAMPLED}"

    def figures(result: SparseModel) -> dict[str, Any]:
        return {**sparse_figures(result), "iterations": iterations, "note": note}

    return Cell(sparsified(w, device, config, "ai", iterations=iterations), figures)


def sao_network(w: NetworkWorkload, device: torch.device, config: BenchConfig) -> Cell:
    """SAO's Ramanujan masks; skipped (with the first unreachable layer) where a layer's
    density is not an exact degree, checked before timing instead of failing in it."""
    unreachable = sao_unreachable(build_network(w), w.density, w.distribution)
    if unreachable is not None:
        return skip(unreachable)
    return Cell(sparsified(w, device, config, "sao"), sparse_figures)


def sao_unreachable(model: nn.Module, density: float, distribution: str) -> str | None:
    """Why sparsify(model, density, distribution=distribution, method="sao") would raise
    ValueError: the first layer whose density SAO cannot reach, as sparsify names it
    (eoi_ext/methods.py, _sao); None when every layer is reachable.

    Examples:
        >>> from eoi_ext.lab.bench.baseline_cells import sao_unreachable
        >>> mlp = torch.nn.Sequential(torch.nn.Linear(16, 16), torch.nn.Linear(16, 10))
        >>> sao_unreachable(mlp, 0.125, "uni_skip") is None  # 16 x 16 at degree 2
        True
        >>> print(sao_unreachable(mlp, 0.1, "uni_skip"))
        0.weight (16, 16): density 0.1 is not reachable by SAO ... nearest reachable: 0.125
    """
    densities = layer_densities(model, density, distribution)
    for layer in find_layer_weights(model)[0]:
        try:
            baselines.sao_degree(layer.shape, densities[layer.name], groups=layer.groups)
        except ValueError as error:
            return f"{layer.name} {layer.shape}: {error}"
    return None
