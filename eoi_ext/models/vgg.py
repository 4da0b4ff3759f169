"""The paper's VGG-16 for CIFAR-10, as the published code builds it: vgg16 is
models/vgg_plain.py's VGG16 (the SNIP paper's VGG-C, main.py's "vgg-C", the model of
specs/contemporary-networks/vgg.py); cifar_vgg16 is models/vgg.py's VGG(depth=16)
(main.py's "vgg16"). Parameter names and shapes as published, so its state dicts load."""

from __future__ import annotations

from collections import OrderedDict

from torch import nn

from ..checks import check_choice, check_flag, check_size
from ..conv_modes import CONTEMPORARY_CONV_MODE, mark_conv_mode
from .activations import activation as activation_class

__all__ = ["VGG_CONFIGS", "cifar_vgg16", "vgg16"]

# models/vgg_plain.py's VGG_CONFIGS: channels of a 3x3 conv, (kernel size, channels), or
# "M" for 2x2 max pooling. "like" is "D" with a shorter classifier.
_D: list[int | str | tuple[int, int]] = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M"]
_D += [512, 512, 512, "M", 512, 512, 512, "M"]
_C: list[int | str | tuple[int, int]] = [64, 64, "M", 128, 128, "M", 256, 256, (1, 256), "M"]
_C += [512, 512, (1, 512), "M", 512, 512, (1, 512), "M"]
VGG_CONFIGS = {"C": _C, "D": _D, "like": _D}
# models/vgg.py's defaultcfg[16]: 3x3 convs, no pooling after the last three.
_CIFAR16 = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512]


def vgg16(
    activation: str = "relu",
    num_classes: int = 10,
    config: str = "C",
    batchnorm: bool = True,
) -> nn.Sequential:
    """The paper's VGG-16 (published models/vgg_plain.py, VGG16, config "C" by default):
    convs with bias, each followed by BatchNorm and `activation`, 2x2 max pooling, then
    flatten and a classifier Linear -> act -> BatchNorm1d -> Linear -> act ->
    BatchNorm1d -> Linear (BatchNorm instead of dropout; "like": one hidden Linear).
    Config "C" has three 1x1 convs with padding 1, as published (each grows the map by
    2: 32 x 32 inputs end at 2 x 2 x 512, hence the first Linear's 2048 inputs). For
    32 x 32 inputs. Returns logits (the published model returned their log_softmax).
    Marked for conv_mode "delta_more" (eoi_ext.conv_modes), as the published runs.

    Args:
        activation: a name of eoi_ext.models.ACTIVATIONS.
        num_classes: outputs of the classifier.
        config: "C" (the paper's), "D" or "like", of the published VGG_CONFIGS.
        batchnorm: BatchNorm after every conv (True as published; the classifier's
            BatchNorm1d stays either way).

    Returns:
        The network, an nn.Sequential of features, flatten and classifier.

    Examples:
        >>> model = eoi_ext.models.vgg16()
        >>> model(torch.zeros(2, 3, 32, 32)).shape, model.classifier[0].in_features
        (torch.Size([2, 10]), 2048)
    """
    act = activation_class(activation)
    num_classes = check_size(num_classes, "num_classes")
    check_choice(config, tuple(VGG_CONFIGS), "config")
    check_flag(batchnorm, "batchnorm")
    features: list[nn.Module] = []
    channels = 3
    for entry in VGG_CONFIGS[config]:
        if entry == "M":
            features.append(nn.MaxPool2d(2, 2))
            continue
        kernel, out = entry if isinstance(entry, tuple) else (3, entry)
        features.append(nn.Conv2d(channels, out, kernel, padding=1))
        features += [nn.BatchNorm2d(out), act()] if batchnorm else [act()]
        channels = out
    hidden = 2 if config in ("C", "D") else 1
    classifier: list[nn.Module] = []
    for index in range(hidden):
        in_features = 2048 if config == "C" and index == 0 else 512
        classifier += [nn.Linear(in_features, 512), act(), nn.BatchNorm1d(512)]
    classifier.append(nn.Linear(512, num_classes))
    parts = OrderedDict(features=nn.Sequential(*features), flatten=nn.Flatten())
    parts["classifier"] = nn.Sequential(*classifier)
    return mark_conv_mode(nn.Sequential(parts), CONTEMPORARY_CONV_MODE)


def cifar_vgg16(
    activation: str = "relu",
    num_classes: int = 10,
    batchnorm: bool = True,
    published_activations: bool = False,
) -> nn.Sequential:
    """VGG-16 as published models/vgg.py builds it (VGG(depth=16, batchnorm=True)): 13
    3x3 convs without bias, each followed by BatchNorm and `activation`, 2x2 max pooling
    after the 2nd, 4th, 7th and 10th; then 2x2 average pooling (of 32 x 32 inputs'
    2 x 2 maps), flatten and one Linear 512 -> num_classes. Returns logits. Marked for
    conv_mode "delta_more" (eoi_ext.conv_modes).

    The published feature layers name every activation "actv{i}" (an f-string missing
    its f), so its OrderedDict keeps only one: the network it runs has one activation,
    after the first BatchNorm, and is otherwise linear between max poolings.
    `published_activations=True` builds that network; the default puts the activation
    after every BatchNorm, as intended.

    Args:
        activation: a name of eoi_ext.models.ACTIVATIONS.
        num_classes: outputs of the classifier.
        batchnorm: BatchNorm after every conv (True as in main.py).
        published_activations: only one activation, as the published code runs.

    Returns:
        The network, an nn.Sequential of feature, pool, flatten and classifier.

    Examples:
        >>> model = eoi_ext.models.cifar_vgg16(published_activations=True)
        >>> model(torch.zeros(2, 3, 32, 32)).shape, len(model.feature)
        (torch.Size([2, 10]), 31)
    """
    act = activation_class(activation)
    num_classes = check_size(num_classes, "num_classes")
    check_flag(batchnorm, "batchnorm")
    check_flag(published_activations, "published_activations")
    features: list[tuple[str, nn.Module]] = []
    channels = 3
    for index, entry in enumerate(_CIFAR16):
        if entry == "M":
            features.append((f"maxpool{index}", nn.MaxPool2d(2, 2)))
            continue
        features.append((f"conv{index}", nn.Conv2d(channels, int(entry), 3, padding=1, bias=False)))
        if batchnorm:
            features.append((f"bn{index}", nn.BatchNorm2d(int(entry))))
        if not published_activations or index == 0:
            name = "actv{i}" if published_activations else f"actv{index}"
            features.append((name, act()))
        channels = int(entry)
    parts = OrderedDict(
        feature=nn.Sequential(OrderedDict(features)),
        pool=nn.AvgPool2d(2),
        flatten=nn.Flatten(),
        classifier=nn.Linear(channels, num_classes),
    )
    return mark_conv_mode(nn.Sequential(parts), CONTEMPORARY_CONV_MODE)
