"""The conv mode sparsify uses when the caller gives none (docs/algorithm.md, "Conv
modes by default").

The published runs choose it per experiment: structured EIS for the distributions
named "..._EIS" (sparselearning/weight_preprocesser.py, StrcuturedSparseOrthogonal-
Preprocesser, picked in main.py), `more_nonzeros: True` ("delta_more") in every
contemporary-network spec (ResNet, VGG, EfficientNet), plain "delta" for the 1000-layer
CNN. A network says which one its family uses through an attribute, which the models of
eoi_ext.models set; any model may set it.
"""

from __future__ import annotations

from collections.abc import Mapping

from torch import Tensor, nn

from .checks import CONV_MODES, check_choice

__all__ = [
    "CONTEMPORARY_CONV_MODE",
    "CONV_MODE_ATTRIBUTE",
    "STRUCTURED_DISTRIBUTIONS",
    "default_conv_mode",
    "mark_conv_mode",
]

CONV_MODE_ATTRIBUTE = "eoi_conv_mode"
# specs/contemporary-networks/*.py: `more_nonzeros: True` for ResNet, VGG, EfficientNet.
CONTEMPORARY_CONV_MODE = "delta_more"
# The published structured EIS distributions: their masks keep whole kernels.
STRUCTURED_DISTRIBUTIONS = ("uni_skip_eis", "erk_eis")


def mark_conv_mode(model: nn.Module, conv_mode: str) -> nn.Module:
    """Sets the conv mode sparsify uses for `model` when called without one.

    Args:
        model: the network.
        conv_mode: "delta", "delta_more" or "structured".

    Returns:
        `model`, marked.

    Examples:
        >>> model = eoi_ext.conv_modes.mark_conv_mode(torch.nn.Conv2d(8, 8, 3), "delta_more")
        >>> eoi_ext.conv_modes.default_conv_mode(None, "erk", model)
        'delta_more'
    """
    setattr(model, CONV_MODE_ATTRIBUTE, check_choice(conv_mode, CONV_MODES, "conv_mode"))
    return model


def default_conv_mode(
    conv_mode: str | None, distribution: str | Mapping[str, Tensor], model: nn.Module
) -> str:
    """`conv_mode` checked, or when None: "structured" for a structured EIS
    distribution, else the model's mark (mark_conv_mode), else "delta".

    Args:
        conv_mode: the caller's conv mode, or None.
        distribution: sparsify's distribution (a name or a mapping of masks).
        model: the network.

    Returns:
        The conv mode.

    Raises:
        ValueError: an unknown conv mode (also one a model is marked with), or a
            structured EIS distribution with another mode (the published EIS is
            structured by definition).

    Examples:
        >>> eoi_ext.conv_modes.default_conv_mode(None, "erk_eis", torch.nn.Linear(4, 4))
        'structured'
    """
    structured = isinstance(distribution, str) and distribution in STRUCTURED_DISTRIBUTIONS
    if conv_mode is None:
        if structured:
            return "structured"
        marked = getattr(model, CONV_MODE_ATTRIBUTE, "delta")
        return check_choice(marked, CONV_MODES, f"the model's {CONV_MODE_ATTRIBUTE}")
    conv_mode = check_choice(conv_mode, CONV_MODES, "conv_mode", also="None")
    if structured and conv_mode != "structured":
        raise ValueError(
            f"conv_mode must be 'structured' or None with distribution {distribution!r} "
            f"(the published structured EIS), got {conv_mode!r}"
        )
    return conv_mode
