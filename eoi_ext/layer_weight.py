"""LayerWeight: one weight of a model as eoi_ext.layers finds it (its module, attribute,
row blocks, bias, ties and layout)."""

from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor, nn

from .tied_weights import Holder, trainable_tensor

__all__ = ["LayerWeight", "qualified_name"]


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
        transposed: the tensor is stored (in, out) (transformers' Conv1D); shape and
            groups are those of the map's matrix, the tensor's transpose.

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
    transposed: bool = False

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
        """The map's matrix (or kernel) shape: (out, in, *kernel), whatever the storage."""
        shape = tuple(self.parameter.shape)
        return (shape[1], shape[0], *shape[2:]) if self.transposed else shape

    def matrix(self, tensor: Tensor) -> Tensor:
        """A view of `tensor` (stored like the weight) in the map's layout."""
        return tensor.transpose(0, 1) if self.transposed else tensor

    @property
    def bias_parameter(self) -> Tensor | None:
        return None if self.bias is None else getattr(self.module, self.bias)

    @property
    def bias_name(self) -> str | None:
        """The bias's name in model.named_parameters()."""
        return None if self.bias is None else qualified_name(self.module_name, self.bias)


def qualified_name(module_name: str, attr: str) -> str:
    """The name of a module's attribute in model.named_parameters().

    Args:
        module_name: the module's name in model.named_modules() ("" for the model).
        attr: the attribute.

    Returns:
        "module_name.attr", or attr for the model itself.

    Examples:
        >>> eoi_ext.layer_weight.qualified_name("blocks.0", "weight")
        'blocks.0.weight'
    """
    return f"{module_name}.{attr}" if module_name else attr
