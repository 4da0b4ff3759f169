"""Checks shared by the model-zoo tests (tests/zoo, issue 13): sparsify a real timm or
torchvision model, check every sparse weight per row block in float64, then train one
step and check the weights stayed inside their masks.

Only torch and eoi_ext's public API are imported here (never timm or torchvision), so the
main suite collects tests/zoo and skips it cleanly where those libraries are missing.
Weights are read as module attributes (`module.weight`: the masked weight under both
maskings, the mask buffer with gradient hooks and the parametrization) and masks from
SparseModel.masks, never through parameter names, which differ between the two.
"""

from __future__ import annotations

import warnings

import torch
from torch import Tensor, nn

import eoi_ext
from eoi_ext.layer_weight import LayerWeight
from eoi_ext.layers import find_layer_weights

ORTHO_TOL = 1e-5  # max |B B^T - I| of a float32 block, computed in float64
DENSITY = 0.1


def sparsify(model: nn.Module, **kwargs: object) -> tuple[eoi_ext.SparseModel, list[str]]:
    """sparsify(model, 0.1), and the messages of the UserWarnings it raised."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sparse = eoi_ext.sparsify(model, DENSITY, **kwargs)
    return sparse, [str(w.message) for w in caught if issubclass(w.category, UserWarning)]


def layers_by_name(model: nn.Module) -> dict[str, LayerWeight]:
    """{parameter name: LayerWeight} of the model's supported weights."""
    return {layer.name: layer for layer in find_layer_weights(model)[0]}


def effective(layer: LayerWeight) -> Tensor:
    """The weight the module applies (masked), in the map's layout, detached."""
    return layer.matrix(getattr(layer.module, layer.attr)).detach()


def block_error(layer: LayerWeight) -> float:
    """max |B B^T - I| (B^T B for a tall block) over the layer's row blocks, in float64.

    A convolution whose kernel uses one tap (the default delta init) is its tap's matrix;
    a kernel of several taps is checked as a map on periodic signals (eoi_ext.metrics).
    """
    weight = effective(layer).to(torch.float64)
    if weight.dim() > 2:
        taps = weight.flatten(2)
        used = taps.ne(0).any(dim=1).any(dim=0).nonzero().flatten()
        if used.numel() > 1:
            return eoi_ext.metrics.layer_orthogonality_error(layer)
        weight = taps[:, :, int(used[0]) if used.numel() else 0]
    blocks = weight.reshape(layer.groups, weight.shape[0] // layer.groups, weight.shape[1])
    if blocks.shape[1] > blocks.shape[2]:
        blocks = blocks.transpose(1, 2)
    gram = blocks @ blocks.transpose(1, 2)
    eye = torch.eye(gram.shape[-1], dtype=torch.float64)
    return float((gram - eye).abs().max())


def check_orthogonal(model: nn.Module, only: str = "") -> dict[str, float]:
    """Asserts every supported weight (whose name contains `only`) is orthogonal per
    block; returns {name: error}."""
    errors = {
        name: block_error(layer) for name, layer in layers_by_name(model).items() if only in name
    }
    bad = {name: error for name, error in errors.items() if not error < ORTHO_TOL}
    assert not bad, f"not orthogonal per block: {bad}"
    return errors


def check_masks(model: nn.Module, sparse: eoi_ext.SparseModel) -> None:
    """Every supported weight has a mask of its shape, and is exactly zero outside it."""
    layers = layers_by_name(model)
    assert set(sparse.masks) == set(layers), "masks and supported weights differ"
    for name, layer in layers.items():
        weight, mask = getattr(layer.module, layer.attr).detach(), sparse.masks[name]
        assert mask.dtype == torch.bool and mask.shape == weight.shape, name
        outside = int(weight[~mask].count_nonzero())
        assert outside == 0, f"{name}: {outside} entries outside the mask are nonzero"


def train_step(model: nn.Module, inputs: Tensor) -> None:
    """One forward, backward and SGD step (momentum, weight decay); asserts the output is
    finite and the step changed the weights."""
    model.train()
    before = [p.detach().clone() for p in model.parameters()]
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)
    output = model(inputs)
    assert torch.isfinite(output).all(), "non-finite output"
    output.square().mean().backward()
    optimizer.step()
    after = list(model.parameters())
    changed = sum(not torch.equal(a, b.detach()) for a, b in zip(before, after, strict=True))
    assert changed > 0, "the step changed no parameter"


def check_model(
    model: nn.Module, inputs: Tensor, **kwargs: object
) -> tuple[eoi_ext.SparseModel, list[str]]:
    """The whole zoo check: sparsify, density, per-block orthogonality, masks, one step,
    masks again. Returns the SparseModel and the sparsify warnings."""
    sparse, messages = sparsify(model, **kwargs)
    assert sparse.masks, "no weight was sparsified"
    assert abs(sparse.density - DENSITY) < 0.01, sparse.density
    # Every sparse weight counts in the model's density, depthwise kernels too (before:
    # convnext_tiny 0.0897 below its sparse weights' 0.100).
    assert sparse.density - 1e-9 <= sparse.model_density <= 1
    check_orthogonal(model)
    check_masks(model, sparse)
    train_step(model, inputs)
    check_masks(model, sparse)
    return sparse, messages
