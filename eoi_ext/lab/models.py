"""The networks of the paper's experiments: deep, plain (no residuals, no normalization)."""

from __future__ import annotations

from torch import nn

from ..checks import check_size

__all__ = ["ACTIVATIONS", "deep_mlp", "vanilla_cnn"]

ACTIVATIONS = {"tanh": nn.Tanh, "relu": nn.ReLU, "linear": nn.Identity, "hardtanh": nn.Hardtanh}


def _activation(name: str) -> type[nn.Module]:
    if name not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {', '.join(ACTIVATIONS)}, got {name!r}")
    return ACTIVATIONS[name]


def deep_mlp(
    depth: int,
    width: int,
    activation: str = "tanh",
    in_features: int = 784,
    out_features: int = 10,
) -> nn.Sequential:
    """An MLP of `depth` Linear layers (in -> width -> ... -> width -> out) with
    `activation` between them; inputs are flattened. depth >= 2."""
    depth = check_size(depth, "depth", minimum=2)
    width = check_size(width, "width")
    act = _activation(activation)
    layers: list[nn.Module] = [nn.Flatten(), nn.Linear(in_features, width), act()]
    for _ in range(depth - 2):
        layers += [nn.Linear(width, width), act()]
    layers.append(nn.Linear(width, out_features))
    return nn.Sequential(*layers)


def vanilla_cnn(
    depth: int,
    channels: int,
    activation: str = "tanh",
    in_channels: int = 3,
    num_classes: int = 10,
) -> nn.Sequential:
    """A plain CNN: `depth` 3x3 Conv2d layers (in -> channels -> ... -> channels,
    padding 1, the second and third with stride 2) with `activation`, then global
    average pooling and a Linear classifier. depth >= 1."""
    depth = check_size(depth, "depth")
    channels = check_size(channels, "channels")
    act = _activation(activation)
    layers: list[nn.Module] = []
    for index in range(depth):
        stride = 2 if index in (1, 2) else 1
        conv_in = in_channels if index == 0 else channels
        layers += [nn.Conv2d(conv_in, channels, 3, stride, 1), act()]
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(channels, num_classes)]
    return nn.Sequential(*layers)
