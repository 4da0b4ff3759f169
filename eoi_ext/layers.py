"""Which weights of a model EOI initializes, and how each is split into matrices.

A model's supported weights are found by module type (docs/algorithm.md, "Convolutions"
and "Recurrent and attention layers"): nn.Linear (:math:`(out, in)`), nn.ConvNd and
nn.ConvTransposeNd (a kernel per group of the first dimension), nn.RNN / nn.LSTM /
nn.GRU (``weight_ih_l*``, ``weight_hh_l*`` as 1 / 4 / 3 gate blocks, ``weight_hr_l*``)
and nn.MultiheadAttention (the packed ``in_proj_weight`` as q, k, v blocks, or the
separate q/k/v weights; its out_proj is an nn.Linear). Anything else that owns a
parameter with 2 or more dimensions is reported as unsupported, never skipped silently.
A tensor several attributes hold is one weight, found once with its other holders
(eoi_ext.tied_weights).
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor, nn

from .tied_weights import Holder, holders_by_tensor, merge_ties, trainable_tensor

__all__ = ["SUPPORTED", "LayerWeight", "find_layer_weights", "require_layer_weights"]

RNN_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}
SUPPORTED = "Linear, Conv1d/2d/3d, ConvTranspose1d/2d/3d, RNN, LSTM, GRU, MultiheadAttention"


@dataclass(frozen=True)
class LayerWeight:
    """One supported weight of a model.

    Attributes:
        name: the parameter's name in model.named_parameters() (before sparsify).
        module_name: the owning module's name in model.named_modules().
        module: the owning module.
        attr: the weight's attribute on the module ("weight", "weight_hh_l0", ...).
        groups: independent row blocks (conv groups, RNN gates, q/k/v), each its own
            EOI matrix of shape (shape[0] / groups, shape[1], *kernel).
        bias: the attribute of the matching bias on the module, or None.
        kind: "linear", "conv", "recurrent" or "attention".
        ties: the other module attributes holding the same tensor (tied weights, e.g. an
            embedding tied to lm_head): masked with it, counted once.

    Examples:
        >>> weight = eoi_ext.layers.find_layer_weights(torch.nn.LSTM(4, 8))[0][0]
        >>> weight.name, weight.shape, weight.groups, weight.bias_name
        ('weight_ih_l0', (32, 4), 4, 'bias_ih_l0')
    """

    name: str
    module_name: str
    module: nn.Module
    attr: str
    groups: int
    bias: str | None
    kind: str
    ties: tuple[Holder, ...] = ()

    @property
    def parameter(self) -> Tensor:
        """The trainable tensor: the weight, or its original under a parametrization."""
        tensor = trainable_tensor(self.module, self.attr)
        if tensor is None:  # computed in a hook (prune, old weight_norm): what it reads
            tensor = getattr(self.module, self.attr, None)
        if not isinstance(tensor, Tensor):
            raise ValueError(f"{self.name} is not one tensor (several originals?)")
        return tensor

    @property
    def holders(self) -> tuple[Holder, ...]:
        """Every module attribute holding the weight: this layer's first, then its ties."""
        return (Holder(self.name, self.module, self.attr, self.bias), *self.ties)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.parameter.shape)

    @property
    def bias_parameter(self) -> Tensor | None:
        return None if self.bias is None else getattr(self.module, self.bias)

    @property
    def bias_name(self) -> str | None:
        """The bias's name in model.named_parameters()."""
        return None if self.bias is None else _qualified(self.module_name, self.bias)


def _qualified(module_name: str, attr: str) -> str:
    return f"{module_name}.{attr}" if module_name else attr


def _module_weights(module_name: str, module: nn.Module) -> list[LayerWeight] | None:
    """The supported weights of one module, or None when its type is not supported."""

    def weight(attr: str, groups: int, bias: str | None, kind: str) -> LayerWeight:
        present = bias is not None and getattr(module, bias, None) is not None
        return LayerWeight(
            _qualified(module_name, attr), module_name, module, attr, groups,
            bias if present else None, kind,
        )  # fmt: skip

    if isinstance(module, nn.MultiheadAttention):
        if module._qkv_same_embed_dim:
            return [weight("in_proj_weight", 3, "in_proj_bias", "attention")]
        # Separate q/k/v weights share one packed bias: it goes with q_proj_weight.
        return [
            weight("q_proj_weight", 1, "in_proj_bias", "attention"),
            weight("k_proj_weight", 1, None, "attention"),
            weight("v_proj_weight", 1, None, "attention"),
        ]
    if isinstance(module, nn.RNNBase):
        gates = RNN_GATES[module.mode]
        found = []
        for attr in module._flat_weights_names:
            if attr.startswith(("weight_ih", "weight_hh")):
                found.append(weight(attr, gates, attr.replace("weight", "bias"), "recurrent"))
            elif attr.startswith("weight_hr"):
                found.append(weight(attr, 1, None, "recurrent"))
        return found
    if isinstance(module, nn.modules.conv._ConvNd):
        return [weight("weight", module.groups, "bias", "conv")]
    if isinstance(module, nn.Linear):
        return [weight("weight", 1, "bias", "linear")]
    return None


def find_layer_weights(model: nn.Module) -> tuple[list[LayerWeight], list[str]]:
    """The weights of a model that EOI initializes, and the modules it cannot handle.

    A module is unsupported when it is not one of the supported types and owns a
    parameter (not of a submodule) whose two leading dimensions exceed 1, like
    nn.Embedding or nn.Bilinear. Normalization layers (1-D parameters), class tokens,
    position tables and layer scales are neither.

    Args:
        model: the network.

    Returns:
        (supported weights in model order, unsupported modules as "name (Type)").

    Examples:
        >>> model = torch.nn.Sequential(torch.nn.Embedding(10, 4), torch.nn.Linear(4, 2))
        >>> weights, unsupported = eoi_ext.layers.find_layer_weights(model)
        >>> [w.name for w in weights], unsupported
        (['1.weight'], ['0 (Embedding)'])
    """
    found: list[LayerWeight] = []
    candidates: list[tuple[str, nn.Module]] = []
    for module_name, module in model.named_modules():
        weights = _module_weights(module_name, module)
        if weights is None:
            candidates.append((module_name, module))
        else:
            found.extend(weights)
    found, tied = merge_ties(found, holders_by_tensor(model))
    unsupported = [
        f"{module_name or '<model>'} ({type(module).__name__})"
        for module_name, module in candidates
        if any(_matrix_like(p) and id(p) not in tied for p in module._parameters.values())
    ]
    return found, unsupported


def _matrix_like(parameter: Tensor | None) -> bool:
    """Could be a layer's weight: two leading dimensions above 1. Class tokens (1, 1, d),
    position tables (1, n, d) and layer scales (c, 1, 1) are not reported as left dense."""
    return parameter is not None and parameter.dim() >= 2 and min(parameter.shape[:2]) > 1


def require_layer_weights(model: nn.Module) -> tuple[list[LayerWeight], list[str]]:
    """:func:`find_layer_weights`, raising when the model has no supported weight.

    Args:
        model: the network.

    Returns:
        (supported weights in model order, unsupported modules), the first non-empty.

    Examples:
        >>> eoi_ext.layers.require_layer_weights(torch.nn.ReLU())
        Traceback (most recent call last):
        ...
        ValueError: model has no supported layers (Linear, Conv1d/2d/3d, ...)
    """
    layers, unsupported = find_layer_weights(model)
    if not layers:
        raise ValueError(f"model has no supported layers ({SUPPORTED})")
    return layers, unsupported
