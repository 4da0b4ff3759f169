"""The networks `eoi train` builds (eoi_ext/lab/experiment.py), by name: the paper's deep
MLP and CNNs and its contemporary networks (eoi_ext.models), each from the flags that
mean something for it, for the dataset's input shape."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from torch import nn

from ..models import cifar_conv, cifar_resnet, deep_mlp, efficientnet_b0, vanilla_cnn, vgg16

__all__ = ["NEEDS", "NETWORKS", "Network", "build_network"]


@dataclass(frozen=True)
class Network:
    """How to build one network: from (depth, width, activation, input shape, classes);
    its default depth and width (None: fixed by the architecture, the flag refused), and
    the input it needs ("any", "image": (c, h, w), "rgb": (3, h, w), "cifar": (3, 32, 32))."""

    build: Callable[[int, int, str, tuple[int, ...], int], nn.Module]
    depth: int | None
    width: int | None
    needs: str = "any"


NETWORKS: dict[str, Network] = {
    "mlp": Network(
        lambda depth, width, act, shape, classes: deep_mlp(
            depth, width, act, math.prod(shape), classes
        ),
        depth=100,
        width=128,
    ),
    "cnn": Network(
        lambda depth, width, act, shape, classes: vanilla_cnn(depth, width, act, shape[0], classes),
        depth=100,
        width=128,
        needs="image",
    ),
    # The paper's 1000-layer CNN: its readout is sized for 32 x 32 inputs.
    "cifar_conv": Network(
        lambda depth, width, act, shape, classes: cifar_conv(depth, width, act, shape[0], classes),
        depth=100,
        width=128,
        needs="cifar",
    ),
    "cifar_resnet": Network(
        lambda depth, width, act, shape, classes: cifar_resnet(depth, act, classes, width),
        depth=32,
        width=16,
        needs="cifar",
    ),
    "vgg16": Network(
        lambda depth, width, act, shape, classes: vgg16(act, classes),
        depth=None,
        width=None,
        needs="cifar",
    ),
    # torchvision's (needs it installed); its activations are its own (SiLU), as published.
    "efficientnet_b0": Network(
        lambda depth, width, act, shape, classes: efficientnet_b0(classes),
        depth=None,
        width=None,
        needs="rgb",
    ),
}

NEEDS = {
    "image": "image data",
    "rgb": "RGB images",
    "cifar": "32 x 32 RGB images",
}


def build_network(
    name: str,
    depth: int | None,
    width: int | None,
    activation: str,
    input_shape: tuple[int, ...],
    num_classes: int,
) -> tuple[nn.Module, int | None, int | None]:
    """Network `name` for inputs of `input_shape`, with the depth and width it was built
    with (its defaults where None).

    Args:
        name: a key of NETWORKS.
        depth: layers (None: the network's default); refused by fixed architectures.
        width: width or channels (None: the default); refused likewise.
        activation: a name of eoi_ext.models.ACTIVATIONS.
        input_shape: one input's shape.
        num_classes: outputs.

    Returns:
        (model, depth, width).

    Raises:
        ValueError: an unknown name, a depth or width for a fixed architecture, or
            inputs the network cannot take (naming what it needs).

    Examples:
        >>> build = eoi_ext.lab.networks.build_network
        >>> model, depth, width = build("cifar_resnet", None, None, "relu", (3, 32, 32), 10)
        >>> depth, width, model.eoi_conv_mode
        (32, 16, 'delta_more')
    """
    if name not in NETWORKS:
        raise ValueError(f"model must be one of {', '.join(NETWORKS)}, got {name!r}")
    network = NETWORKS[name]
    for flag, value, default in (("depth", depth, network.depth), ("width", width, network.width)):
        if value is not None and default is None:
            raise ValueError(f"{flag} is fixed by the {name} architecture; leave it unset")
    if network.needs == "image" and len(input_shape) != 3:
        raise ValueError(f"model {name} needs {NEEDS['image']}, got inputs {input_shape}")
    if network.needs == "rgb" and (len(input_shape) != 3 or input_shape[0] != 3):
        raise ValueError(f"model {name} needs {NEEDS['rgb']}, got inputs {input_shape}")
    if network.needs == "cifar" and tuple(input_shape) != (3, 32, 32):
        raise ValueError(f"model {name} needs {NEEDS['cifar']}, got inputs {input_shape}")
    depth = network.depth if depth is None else depth
    width = network.width if width is None else width
    model = network.build(depth or 0, width or 0, activation, input_shape, num_classes)
    return model, depth, width
