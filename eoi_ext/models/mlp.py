"""The paper's deep MLP, as the published code builds it (models/mlps.py)."""

from __future__ import annotations

from torch import nn

from ..checks import check_size
from .activations import activation as activation_class

__all__ = ["deep_mlp"]


def deep_mlp(
    depth: int,
    width: int,
    activation: str = "tanh",
    in_features: int = 784,
    out_features: int = 10,
) -> nn.Sequential:
    """An MLP of `depth` Linear layers (in -> width -> ... -> width -> out) with
    `activation` between them; inputs are flattened (the published models/mlps.py).

    Args:
        depth: Linear layers, at least 2.
        width: features of the hidden layers.
        activation: a name of eoi_ext.models.ACTIVATIONS.
        in_features: inputs (after flattening).
        out_features: outputs.

    Returns:
        The network, an nn.Sequential.

    Examples:
        >>> eoi_ext.models.deep_mlp(4, 32, in_features=64)(torch.zeros(2, 8, 8)).shape
        torch.Size([2, 10])
    """
    depth = check_size(depth, "depth", minimum=2)
    width = check_size(width, "width")
    act = activation_class(activation)
    layers: list[nn.Module] = [nn.Flatten(), nn.Linear(in_features, width), act()]
    for _ in range(depth - 2):
        layers += [nn.Linear(width, width), act()]
    layers.append(nn.Linear(width, out_features))
    return nn.Sequential(*layers)
