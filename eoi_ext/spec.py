"""WeightSpec: what one EOI weight is, for the construction pipeline (eoi_ext.build).

A weight is a 2-D matrix (rows, cols) or a conv kernel (c_out, c_in / groups, *kernel);
its first dimension is `groups` equal row blocks, each its own EOI matrix (conv groups,
RNN gates, attention q/k/v). A kernel holds its matrices H at the centre tap
(docs/algorithm.md, "Convolutions").
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

__all__ = ["Block", "Span", "WeightSpec"]

Span = tuple[int, int]  # [begin, end) of a block along one dimension
Block = tuple[Span | None, Span | None]  # (row_range, col_range); None: all of that dim


@dataclass(frozen=True)
class WeightSpec:
    """One EOI weight's shape and construction settings (checked by the front ends,
    eoi_ext.checks, before a spec is made).

    Attributes:
        shape: (rows, cols), or a conv kernel (c_out, c_in / groups, k_1, ..., k_s).
        density: target fraction of mask entries over the whole weight, in (0, 1].
        gain: scale of the weight.
        conv_mode: "delta", "delta_more" or "structured" (kernels only).
        groups: row blocks, each its own EOI matrix; divides shape[0].
        exact_density: matrices stop below their density and are topped up to exactly
            round(density * entries) mask entries (kernels: over the whole kernel).
        label: what the weights are called in warnings (sparsify: their layers' names);
            not part of the spec's identity.
    """

    shape: tuple[int, ...]
    density: float
    gain: float = 1.0
    conv_mode: str = "delta"
    groups: int = 1
    exact_density: bool = False
    label: str = field(default="", compare=False)

    @property
    def kernel(self) -> tuple[int, ...]:
        """Spatial kernel size; () for a 2-D weight."""
        return tuple(self.shape[2:])

    @property
    def matrix_shape(self) -> tuple[int, int]:
        """(rows, cols) of each EOI matrix: one group of the weight's first two dims."""
        return self.shape[0] // self.groups, self.shape[1]

    @property
    def matrix_density(self) -> float:
        """Density of each EOI matrix: the weight's density, or for "delta_more" kernels
        min(d * K, 1, sqrt(d)) with K the kernel's taps (more nonzeros at the centre)."""
        if self.kernel and self.conv_mode == "delta_more":
            return min(self.density * math.prod(self.kernel), 1.0, math.sqrt(self.density))
        return self.density

    @property
    def matrix_target(self) -> int:
        """Mask entries of each EOI matrix after its exact-density top-up."""
        rows, cols = self.matrix_shape
        return round(self.matrix_density * rows * cols)

    @property
    def kernel_top_up(self) -> bool:
        """Whether the kernel's mask is topped up to its density with zero-valued
        positions anywhere in the kernel ("delta" and "delta_more")."""
        return bool(self.kernel) and self.conv_mode != "structured"

    @property
    def kernel_target(self) -> int:
        """Mask entries of the whole kernel after its top-up."""
        return round(self.density * math.prod(self.shape))

    @property
    def seeds_per_weight(self) -> int:
        """Seeds one weight draws from the generator: one per group, then one for the
        kernel's top-up (docs/random-stream.md, "Seeds from the generator")."""
        return self.groups + int(self.kernel_top_up)
