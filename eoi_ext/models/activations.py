"""The activations of the paper's networks, by name (the published code's spellings
"hard_tanh" and "lrelu" accepted too)."""

from __future__ import annotations

from torch import nn

__all__ = ["ACTIVATIONS", "activation"]

ACTIVATIONS: dict[str, type[nn.Module]] = {
    "tanh": nn.Tanh,
    "relu": nn.ReLU,
    "linear": nn.Identity,
    "hardtanh": nn.Hardtanh,
    "leaky_relu": nn.LeakyReLU,  # slope 0.01, as the published nn.LeakyReLU()
    "selu": nn.SELU,
}
_PUBLISHED = {"hard_tanh": "hardtanh", "lrelu": "leaky_relu"}


def activation(name: str) -> type[nn.Module]:
    """The activation module class called `name`.

    Args:
        name: a key of ACTIVATIONS, or a published spelling ("hard_tanh", "lrelu").

    Returns:
        The nn.Module class.

    Examples:
        >>> eoi_ext.models.activation("lrelu")
        <class 'torch.nn.modules.activation.LeakyReLU'>
    """
    key = _PUBLISHED.get(name, name) if isinstance(name, str) else name
    if key not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {', '.join(ACTIVATIONS)}, got {name!r}")
    return ACTIVATIONS[key]
