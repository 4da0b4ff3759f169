"""Measurements of initialized weights and networks (docs/algorithm.md, "Metrics"):
orthogonality of matrices and convolutions, mask densities, and the signal propagation
of a network at initialization (Jacobian spectrum, per-layer norms)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor, nn

if TYPE_CHECKING:
    from .layers import LayerWeight

__all__ = [
    "conv_orthogonality_error",
    "jacobian_singular_values",
    "layer_norms",
    "layer_orthogonality_error",
    "mask_densities",
    "orthogonality_error",
    "orthogonality_errors",
]


def orthogonality_error(weight: Tensor, gain: float = 1.0) -> float:
    """max |W W^T - gain^2 I| on the smaller side of W, computed in float64.

    Args:
        weight: (rows, cols) or a stack (..., rows, cols); for tall matrices W^T W is used.
        gain: the scale W should have.

    Returns:
        The largest entry over the whole stack (0.0 for an empty stack).

    Examples:
        >>> W, _ = eoi_ext.sparse_orthogonal(64, 32, 0.2, dtype=torch.float64)
        >>> eoi_ext.metrics.orthogonality_error(W) < 1e-12
        True
    """
    w = weight.detach().to(device="cpu", dtype=torch.float64)
    if w.shape[-2] > w.shape[-1]:
        w = w.transpose(-2, -1)
    if w.numel() == 0:
        return 0.0
    eye = torch.eye(w.shape[-2], dtype=torch.float64)
    return float((w @ w.transpose(-2, -1) - gain**2 * eye).abs().max())


def conv_orthogonality_error(
    weight: Tensor, gain: float = 1.0, *, groups: int = 1, grid: int | None = None
) -> float:
    """Orthogonality of a convolution as a linear map on periodic signals.

    The convolution is an orthogonal map (up to gain) exactly when its symbol
    W(w) = sum_k weight[:, :, k] e^{-i w.k} satisfies W(w) W(w)^H = gain^2 I (smaller
    side) at every frequency w, per group. For a delta-orthogonal kernel
    W(w) = H e^{-i w.c}, so the error is H's.

    Args:
        weight: (c_out, c_in / groups, *kernel), 1 to 3 kernel dimensions.
        gain: the scale the map should have.
        groups: the convolution's groups, each checked on its own.
        grid: frequencies per dimension (default 2 * max(kernel), at least 4; one along
            a dimension of size 1, where the symbol is constant).

    Returns:
        The largest deviation over the grid^s frequencies (exact for a kernel with one
        nonzero tap, whose symbol has the same error at every frequency).

    Examples:
        >>> conv = torch.nn.Conv2d(16, 16, 3)
        >>> _ = eoi_ext.init.sparse_orthogonal_(conv.weight, 0.3)
        >>> eoi_ext.metrics.conv_orthogonality_error(conv.weight) < 1e-5
        True
    """
    w = weight.detach().to(device="cpu", dtype=torch.float64)
    size = grid if grid is not None else max(4, 2 * max(w.shape[2:], default=1))
    taps = w.flatten(0, 1).ne(0).any(0).nonzero()
    if len(taps) == 1:  # one nonzero tap (a delta kernel): W(w) = W_c e^{-i w.c}, W_c's error
        w = w[(slice(None), slice(None), *taps[0].tolist())].reshape(*w.shape[:2], 1)
    kernel = tuple(w.shape[2:])
    dims = tuple(range(2, w.dim()))
    # Along a dimension of size 1 the symbol is the same at every frequency: one suffices
    # (a 1x1 conv is a matrix; its full grid cost 6.9 s on one 2048-channel layer). The
    # kernel is real, so W(-w) is the conjugate of W(w), with the same error: rfftn keeps
    # half the frequencies of the last dimension.
    symbol = torch.fft.rfftn(w, s=tuple(1 if k == 1 else size for k in kernel), dim=dims)
    rows = w.shape[0] // groups
    # (groups, frequencies, rows, cols)
    symbol = symbol.reshape(groups, rows, w.shape[1], -1).permute(0, 3, 1, 2)
    if rows > w.shape[1]:
        symbol = symbol.transpose(-2, -1)
    if symbol.numel() == 0:
        return 0.0
    gram = symbol @ symbol.conj().transpose(-2, -1)
    eye = torch.eye(gram.shape[-1], dtype=torch.float64)
    return float((gram - gain**2 * eye).abs().max())


def orthogonality_errors(model: nn.Module, gain: float = 1.0) -> dict[str, float]:
    """The orthogonality error of every supported weight of a model.

    Args:
        model: the network; its supported weights are those of eoi_ext.layers.
        gain: the scale the weights should have.

    Returns:
        {parameter name: error} (see :func:`layer_orthogonality_error`).

    Examples:
        >>> model = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.Linear(16, 4))
        >>> _ = eoi_ext.sparsify(model, 0.5, distribution="uniform")
        >>> max(eoi_ext.metrics.orthogonality_errors(model).values()) < 1e-5
        True
    """
    from .layers import find_layer_weights

    return {
        layer.name: layer_orthogonality_error(layer, gain) for layer in find_layer_weights(model)[0]
    }


def layer_orthogonality_error(layer: LayerWeight, gain: float = 1.0) -> float:
    """Orthogonality error of one supported weight on its effective (masked) value.

    Args:
        layer: a weight found by eoi_ext.layers.find_layer_weights.
        gain: the scale the weight should have.

    Returns:
        The error of its matrices per row block (RNN gates, q/k/v), or of a convolution
        as a linear map (:func:`conv_orthogonality_error`).

    Examples:
        >>> lstm = torch.nn.LSTM(8, 8)
        >>> _ = eoi_ext.sparsify(lstm, 0.5, distribution="uniform")
        >>> layer = eoi_ext.layers.find_layer_weights(lstm)[0][0]
        >>> layer.name, eoi_ext.metrics.layer_orthogonality_error(layer) < 1e-5
        ('weight_ih_l0', True)
    """
    weight = layer.matrix(getattr(layer.module, layer.attr))
    if layer.kind == "conv":
        return conv_orthogonality_error(weight, gain, groups=layer.groups)
    blocks = weight.reshape(layer.groups, weight.shape[0] // layer.groups, -1)
    return orthogonality_error(blocks, gain)


def mask_densities(masks: Mapping[str, Tensor]) -> dict[str, float]:
    """The fraction of entries each mask keeps.

    Args:
        masks: {name: bool mask}, e.g. SparseModel.masks.

    Returns:
        {name: density}, plus "total": the density over all masks together.

    Examples:
        >>> eoi_ext.metrics.mask_densities({"a": torch.tensor([True, False])})
        {'a': 0.5, 'total': 0.5}
    """
    densities = {name: float(mask.count_nonzero()) / mask.numel() for name, mask in masks.items()}
    kept = sum(int(mask.count_nonzero()) for mask in masks.values())
    densities["total"] = kept / max(1, sum(mask.numel() for mask in masks.values()))
    return densities


def jacobian_singular_values(model: nn.Module, x: Tensor) -> Tensor:
    """Singular values of the input-output Jacobian of `model` at x, in float64.

    Dynamical isometry means they concentrate near 1 (all exactly 1 for a deep linear
    EOI network): the signal neither explodes nor vanishes through the depth. Each
    sample is its own forward pass, so the model runs in eval mode (BatchNorm on its
    running statistics, no dropout) and is put back in the mode it was in.

    Args:
        model: the network.
        x: one input (in_features,) / (C, H, W), or a batch (batch, ...).

    Returns:
        (min(out, in),) or (batch, min(out, in)) singular values, descending.

    Examples:
        >>> model = torch.nn.Sequential(*[torch.nn.Linear(16, 16) for _ in range(20)])
        >>> _ = eoi_ext.sparsify(model, 0.25, distribution="uniform")
        >>> x = torch.randn(16, dtype=torch.float64)
        >>> s = eoi_ext.metrics.jacobian_singular_values(model.double(), x)
        >>> bool(torch.allclose(s, torch.ones(16, dtype=torch.float64)))
        True
    """
    single = x.dim() == 1 or (x.dim() >= 2 and _is_single_image(model, x))
    batch = x.unsqueeze(0) if single else x
    values, training = [], model.training
    model.eval()
    try:
        for sample in batch:
            jacobian = torch.autograd.functional.jacobian(
                lambda inp: model(inp.unsqueeze(0)).squeeze(0), sample.detach()
            )
            out_numel = math.prod(jacobian.shape[: jacobian.dim() - sample.dim()])
            matrix = jacobian.reshape(out_numel, sample.numel()).to(torch.float64)
            values.append(torch.linalg.svdvals(matrix))
    finally:
        model.train(training)
    result = torch.stack(values)
    return result[0] if single else result


def _is_single_image(model: nn.Module, x: Tensor) -> bool:
    """A 3-D input to a model whose first layer is a Conv2d is one (C, H, W) image."""
    first = next((m for m in model.modules() if isinstance(m, nn.modules.conv._ConvNd)), None)
    return first is not None and x.dim() == first.weight.dim() - 1


def layer_norms(
    model: nn.Module, x: Tensor, target: Tensor | None = None
) -> dict[str, dict[str, float]]:
    """Signal propagation per layer at x: activation RMS and gradient norms.

    Args:
        model: the network; the modules owning supported weights are measured.
        x: a batch of inputs.
        target: class indices for a cross-entropy loss; None: half the squared output
            norm.

    Returns:
        {"activation": {module name: RMS of its output}, "gradient": {parameter name:
        norm of d loss / d weight}}.

    Examples:
        >>> nn = torch.nn
        >>> model = nn.Sequential(nn.Linear(8, 8), nn.Tanh(), nn.Linear(8, 2))
        >>> norms = eoi_ext.metrics.layer_norms(model, torch.randn(4, 8))
        >>> sorted(norms["activation"]), sorted(norms["gradient"])
        (['0', '2'], ['0.weight', '2.weight'])
    """
    from .layers import find_layer_weights

    layers = find_layer_weights(model)[0]
    modules = {layer.module_name: layer.module for layer in layers}
    activations: dict[str, float] = {}

    def record(name: str):
        def hook(_module: nn.Module, _inputs: Any, output: Any) -> None:
            value = output[0] if isinstance(output, tuple) else output
            activations[name] = float(value.detach().double().pow(2).mean().sqrt())

        return hook

    handles = [module.register_forward_hook(record(name)) for name, module in modules.items()]
    try:
        model.zero_grad(set_to_none=True)
        out = model(x)
        loss = (
            nn.functional.cross_entropy(out, target)
            if target is not None
            else 0.5 * out.pow(2).sum()
        )
        loss.backward()
    finally:
        for handle in handles:
            handle.remove()
    gradients = {}
    for layer in layers:
        grad = layer.parameter.grad
        gradients[layer.name] = 0.0 if grad is None else float(grad.double().norm())
    model.zero_grad(set_to_none=True)
    return {"activation": activations, "gradient": gradients}
