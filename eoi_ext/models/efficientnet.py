"""The paper's EfficientNet-B0, as the published code builds it (main.py, model
"efficientnet-b0": torchvision.models.efficientnet_b0(num_classes=output), trained on
Tiny ImageNet in specs/contemporary-networks/efficientnet_fixed.py). Needs torchvision,
imported only when the network is built."""

from __future__ import annotations

from torch import nn

from ..checks import check_size
from ..conv_modes import CONTEMPORARY_CONV_MODE, mark_conv_mode
from ..optional_imports import import_torchvision

__all__ = ["efficientnet_b0"]


def efficientnet_b0(num_classes: int = 200) -> nn.Module:
    """torchvision's EfficientNet-B0, randomly initialized (weights=None: nothing is
    downloaded), with `num_classes` outputs, as the published main.py builds it. Its
    activations are torchvision's (SiLU, sigmoid gates): the published run's
    --activation does not reach it. Marked for conv_mode "delta_more"
    (eoi_ext.conv_modes), as the published run.

    Args:
        num_classes: outputs of the classifier (200, Tiny ImageNet's, as in the paper).

    Returns:
        The network, a torchvision.models.EfficientNet.

    Raises:
        ImportError: torchvision is not installed, or fails to import (one built for
            another torch); install the torchvision release built for the installed torch.

    Examples:
        >>> import importlib.util
        >>> if importlib.util.find_spec("torchvision") is not None:  # optional dependency
        ...     model = eoi_ext.models.efficientnet_b0(num_classes=10)
        ...     assert model(torch.zeros(2, 3, 32, 32)).shape == (2, 10)
    """
    num_classes = check_size(num_classes, "num_classes")
    torchvision = import_torchvision("efficientnet_b0")
    model = torchvision.models.efficientnet_b0(weights=None, num_classes=num_classes)
    return mark_conv_mode(model, CONTEMPORARY_CONV_MODE)
