"""The paper's CIFAR ResNets (ResNet-32, -56, -110), as the published code builds them
(models/cifar_resnet.py, picked by main.py as "cifar_resnet_<depth>"): parameter names
and shapes as published, so its state dicts load."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from ..checks import check_size
from ..conv_modes import CONTEMPORARY_CONV_MODE, mark_conv_mode
from .activations import activation as activation_class

__all__ = ["cifar_resnet"]


class ResNetBlock(nn.Module):
    """A basic residual block (published models/cifar_resnet.py, Model.Block): two 3x3
    convs without bias, each followed by BatchNorm; the activation after the first BN
    and after the sum. A block that downsamples (stride 2) has a projection shortcut
    (option B): a 1x1 conv of stride 2 and a BatchNorm; the others add their input.

    Args:
        in_channels: channels of the input.
        out_channels: channels of both convs.
        downsample: whether the first conv and the shortcut have stride 2.
        activation: the activation module class.

    Examples:
        >>> block = eoi_ext.models.resnet.ResNetBlock(16, 32, True, torch.nn.ReLU)
        >>> block(torch.zeros(2, 16, 8, 8)).shape, block.shortcut.conv.kernel_size
        (torch.Size([2, 32, 4, 4]), (1, 1))
    """

    def __init__(
        self, in_channels: int, out_channels: int, downsample: bool, activation: type[nn.Module]
    ) -> None:
        super().__init__()
        stride = 2 if downsample else 1
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.act1 = activation()
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, 1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.act2 = activation()
        self.shortcut = nn.Sequential()
        if downsample or in_channels != out_channels:  # always stride 2, as published
            self.shortcut.add_module("conv", nn.Conv2d(in_channels, out_channels, 1, 2, bias=False))
            self.shortcut.add_module("bn", nn.BatchNorm2d(out_channels))

    def forward(self, x: Tensor) -> Tensor:
        out = self.act1(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.act2(out + self.shortcut(x))


class CifarResNet(nn.Module):
    """The published CIFAR ResNet (models/cifar_resnet.py, Model): a 3x3 conv (no bias)
    3 -> width, BatchNorm and the activation; three stages of `blocks` ResNetBlocks
    with width, 2 * width and 4 * width channels, the first block of the second and
    third stages downsampling; global average pooling and a Linear readout (logits).

    Args:
        blocks: residual blocks per stage, (depth - 2) / 6.
        width: channels of the first stage.
        activation: the activation module class.
        num_classes: outputs of the readout.

    Examples:
        >>> model = eoi_ext.models.resnet.CifarResNet(1, 4, torch.nn.ReLU, 10)
        >>> model(torch.zeros(2, 3, 32, 32)).shape
        torch.Size([2, 10])
    """

    def __init__(
        self, blocks: int, width: int, activation: type[nn.Module], num_classes: int
    ) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, width, 3, 1, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(width)
        self.act = activation()
        layers: list[nn.Module] = []
        channels = width
        for stage in range(3):
            for index in range(blocks):
                out = width * 2**stage
                layers.append(ResNetBlock(channels, out, stage > 0 and index == 0, activation))
                channels = out
        self.blocks = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(channels, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        out = self.blocks(self.act(self.bn(self.conv(x))))
        return self.fc(torch.flatten(self.pool(out), 1))


def cifar_resnet(
    depth: int,
    activation: str = "relu",
    num_classes: int = 10,
    width: int = 16,
) -> CifarResNet:
    """The paper's CIFAR ResNet of `depth` layers (published models/cifar_resnet.py,
    "cifar_resnet_<depth>[_<width>]"): 6n + 2 layers, n basic blocks per stage of
    width, 2 * width and 4 * width channels, BatchNorm after every conv, projection
    shortcuts (1x1 conv + BN) where a block downsamples, global average pooling and a
    Linear readout. Marked for conv_mode "delta_more" (eoi_ext.conv_modes), as the
    published runs. Returns logits (the published model returned their log_softmax by
    default, trained with NLLLoss: the same as CrossEntropyLoss on these logits).

    Args:
        depth: 6n + 2 with n >= 1: 32, 56 and 110 are the paper's.
        activation: a name of eoi_ext.models.ACTIVATIONS (the published "relu", "tanh",
            "lrelu", "selu", "hard_tanh", "linear").
        num_classes: outputs of the readout.
        width: channels of the first stage (16 as published).

    Returns:
        The network, a CifarResNet.

    Examples:
        >>> model = eoi_ext.models.cifar_resnet(8, width=4)
        >>> model(torch.zeros(2, 3, 32, 32)).shape, len(model.blocks)
        (torch.Size([2, 10]), 3)
    """
    depth = check_size(depth, "depth")
    if depth < 8 or (depth - 2) % 6:
        raise ValueError(f"depth must be 6n+2 with n >= 1 (e.g. 32, 56, 110), got {depth}")
    num_classes = check_size(num_classes, "num_classes")
    width = check_size(width, "width")
    model = CifarResNet((depth - 2) // 6, width, activation_class(activation), num_classes)
    return mark_conv_mode(model, CONTEMPORARY_CONV_MODE)
