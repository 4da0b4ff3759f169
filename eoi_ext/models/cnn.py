"""Plain deep CNNs (no residuals, no normalization): eoi_ext's vanilla_cnn and the
published 1000-layer CNN, cifar_conv (docs/algorithm.md, "Convolutions")."""

from __future__ import annotations

from torch import nn

from ..checks import check_size
from .activations import activation as activation_class

__all__ = ["cifar_conv", "vanilla_cnn"]


def vanilla_cnn(
    depth: int,
    channels: int,
    activation: str = "tanh",
    in_channels: int = 3,
    num_classes: int = 10,
) -> nn.Sequential:
    """A plain CNN: `depth` 3x3 Conv2d layers (in -> channels -> ... -> channels,
    zero padding 1, the second and third with stride 2) with `activation`, then global
    average pooling and a Linear classifier. depth >= 1. Not the published CNN: zero
    padding breaks the isometry at the borders, and the readout pools globally; see
    cifar_conv for the published one.

    Args:
        depth: convolutions, at least 1.
        channels: channels of every conv.
        activation: a name of eoi_ext.models.ACTIVATIONS.
        in_channels: input channels.
        num_classes: outputs of the classifier.

    Returns:
        The network, an nn.Sequential.

    Examples:
        >>> eoi_ext.models.vanilla_cnn(4, 8)(torch.zeros(2, 3, 16, 16)).shape
        torch.Size([2, 10])
    """
    depth = check_size(depth, "depth")
    channels = check_size(channels, "channels")
    act = activation_class(activation)
    layers: list[nn.Module] = []
    for index in range(depth):
        stride = 2 if index in (1, 2) else 1
        conv_in = in_channels if index == 0 else channels
        layers += [nn.Conv2d(conv_in, channels, 3, stride, 1), act()]
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(channels, num_classes)]
    return nn.Sequential(*layers)


def cifar_conv(
    depth: int,
    width: int = 128,
    activation: str = "tanh",
    in_channels: int = 3,
    num_classes: int = 10,
) -> nn.Sequential:
    """The published deep CNN (models/convolution.py, CifarConv): 3x3 convolutions with
    *circular* padding, so that delta-orthogonal kernels are exact isometries (on
    periodic signals, as eoi_ext.metrics.conv_orthogonality_error certifies).

    Layers as published, for 32 x 32 inputs: a conv in_channels -> width, two convs of
    stride 2 (32 -> 16 -> 8), depth - 6 convs of stride 1 (none below depth 6), each
    followed by `activation`; then 2 x 2 average pooling (8 -> 4), flatten and a Linear
    readout width * 16 -> num_classes. So `depth` counts as the published code does:
    max(3, depth - 3) convolutions and the readout (the paper's "1000 layers" has 997).

    Args:
        depth: the published depth (>= 1).
        width: channels of every conv.
        activation: a name of eoi_ext.models.ACTIVATIONS.
        in_channels: input channels.
        num_classes: outputs of the readout.

    Returns:
        The network, an nn.Sequential.

    Examples:
        >>> model = eoi_ext.models.cifar_conv(8, width=4)
        >>> model(torch.zeros(2, 3, 32, 32)).shape, model[0].padding_mode
        (torch.Size([2, 10]), 'circular')
    """
    depth = check_size(depth, "depth")
    width = check_size(width, "width")
    act = activation_class(activation)
    strides = [1, 2, 2] + [1] * max(0, depth - 6)
    layers: list[nn.Module] = []
    for index, stride in enumerate(strides):
        conv_in = in_channels if index == 0 else width
        conv = nn.Conv2d(conv_in, width, 3, stride, padding=1, padding_mode="circular")
        layers += [conv, act()]
    layers += [nn.AvgPool2d(2, 2), nn.Flatten(), nn.Linear(width * 4 * 4, num_classes)]
    return nn.Sequential(*layers)
