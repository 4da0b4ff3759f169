"""WeightSlot: one weight of a module as an adapter describes it (eoi_ext.adapters)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from torch import nn

__all__ = ["Adapter", "WeightSlot"]


@dataclass(frozen=True)
class WeightSlot:
    """One weight of a module, as an adapter describes it.

    Attributes:
        attr: the parameter's attribute ("weight", "weight_hh_l0", ...).
        groups: row blocks of the map's matrix, each its own EOI matrix.
        bias: the attribute of its bias, or None.
        kind: "linear", "conv", "recurrent", "attention" or "embedding".
        transposed: stored as (in, out): the map's matrix is the tensor's transpose.

    Examples:
        >>> eoi_ext.adapters.WeightSlot("weight", groups=3).groups
        3
    """

    attr: str
    groups: int = 1
    bias: str | None = None
    kind: str = "linear"
    transposed: bool = False


Adapter = Callable[[nn.Module], "list[WeightSlot] | str"]
