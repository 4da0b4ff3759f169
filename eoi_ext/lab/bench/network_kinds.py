"""The networks `eoi bench` initializes whole, by kind: the paper's deep MLP and
1000-layer CNN and its contemporary networks (eoi_ext.models).

One table, so that a row's name says which model it timed: the bench's "cnn" is the
paper's cifar_conv (circular padding; models/cnn.py), not the zero-padded vanilla_cnn,
and its name says so.
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from ..networks import build_network as build_lab_network

__all__ = ["NETWORK_KINDS", "NetworkKind", "build_network", "network_name"]


@dataclass(frozen=True)
class NetworkKind:
    """How a kind is named ("{depth}" and "{width}" filled in) and built: `network`, a
    network of `eoi train` (eoi_ext/lab/networks.py) with `activation`; `fixed`: the
    (depth, width) of an architecture that has only one; `convs`: it has convolutions
    (the published-algorithm anchor skips it)."""

    name: str
    network: str
    activation: str
    convs: bool
    fixed: tuple[int, int] | None = None


NETWORK_KINDS: dict[str, NetworkKind] = {
    # tanh, as the paper's deep experiments; the input as wide as the layers.
    "mlp": NetworkKind("mlp {depth}x{width}", "mlp", "tanh", convs=False),
    # depth counts as published: max(3, depth - 3) convolutions and the readout.
    "cnn": NetworkKind("cnn {depth}x{width} (cifar_conv)", "cifar_conv", "tanh", convs=True),
    # relu, BatchNorm: the published contemporary networks' defaults.
    "resnet": NetworkKind("resnet-{depth} (width {width})", "cifar_resnet", "relu", convs=True),
    "vgg": NetworkKind("vgg-16 (config C)", "vgg16", "relu", convs=True, fixed=(16, 64)),
}


def _kind(kind: str) -> NetworkKind:
    if kind not in NETWORK_KINDS:
        raise ValueError(f"network kind must be one of {', '.join(NETWORK_KINDS)}, got {kind!r}")
    return NETWORK_KINDS[kind]


def network_name(kind: str, depth: int, width: int) -> str:
    """The row name of a network workload, e.g. "cnn 1000x128 (cifar_conv)"."""
    return _kind(kind).name.format(depth=depth, width=width)


def build_network(kind: str, depth: int, width: int) -> nn.Module:
    """A new model of `kind` (a key of NETWORK_KINDS), on the CPU."""
    entry = _kind(kind)
    if entry.fixed is not None:
        if (depth, width) != entry.fixed:
            raise ValueError(
                f"{kind} is {entry.name} (depth, width {entry.fixed}), got depth {depth}, "
                f"width {width}"
            )
        return build_lab_network(entry.network, None, None, entry.activation, (3, 32, 32), 10)[0]
    shape = (width,) if entry.network == "mlp" else (3, 32, 32)
    return build_lab_network(entry.network, depth, width, entry.activation, shape, 10)[0]
