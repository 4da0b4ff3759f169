"""Calls of the five ops for the argument-check tests (tests/test_op_validation.py,
tests/test_op_arguments.py): valid arguments on a small plan, and the expectation that a
bad one fails by name before any tensor is written. In the EOI_EXT_BACKEND=ext run every
case runs on both implementations, in the python run on the fallback alone.
"""

from __future__ import annotations

from types import ModuleType

import pytest
import torch
from conftest import extension_loaded

from eoi_ext import fallback, givens

IMPLS: list[ModuleType] = [fallback]
if extension_loaded():
    from eoi_ext import ops

    IMPLS.append(ops)

# A plan of 2 matrices 6 x 9 (n = 6, m = 9, not transposed).
PLAN = givens.sample_plan(6, 9, 0.5, count=2, generator=torch.Generator().manual_seed(0))


def base_args(op: str) -> dict[str, object]:
    """Valid arguments of `op`, fresh tensors each time (outputs are written in place)."""
    p = PLAN
    block = {"row_begin": 0, "row_end": 6, "transposed": False, "coord_begin": 0, "coord_end": -1}
    return {
        "sample_plans": {"seeds": p.seeds, "n": 6, "m": 9, "density": 0.5, "at_most": False},
        "rotation_levels": {"offsets": p.offsets, "pairs": p.pairs, "m": 9},
        "apply_plans": {
            "offsets": p.offsets, "pairs": p.pairs, "cos_sin": p.cos_sin, "m": 9, "gain": 1.0,
            "out": torch.full((2, 6, 9), 7.0), **block,
        },
        "support_masks": {
            "support": p.support, "n": 6, "m": 9, "mask": torch.zeros(2, 6, 9, dtype=torch.bool),
            **block,
        },
        "top_up_masks": {
            "seeds": p.seeds, "target_count": 30, "mask": torch.zeros(2, 6, 9, dtype=torch.bool)
        },
    }[op]  # fmt: skip


def degenerate_pairs() -> torch.Tensor:
    pairs = PLAN.pairs.clone()
    pairs[3, 1] = pairs[3, 0]
    return pairs


def decreasing_offsets() -> torch.Tensor:
    rotations = PLAN.pairs.shape[0]
    return torch.tensor([0, rotations + 1, rotations])


def expect_named_error(impl: ModuleType, op: str, overrides: dict, pattern: str) -> None:
    """op(base_args | overrides) raises RuntimeError matching `pattern` and leaves every
    tensor argument (outputs included) as it was."""
    args = {**base_args(op), **overrides}
    before = {
        k: v.clone() for k, v in args.items() if isinstance(v, torch.Tensor) and not v.is_meta
    }
    with pytest.raises(RuntimeError, match=pattern):
        getattr(impl, op)(**args)
    for name, value in before.items():
        torch.testing.assert_close(
            args[name],
            value,
            rtol=0,
            atol=0,
            equal_nan=True,
            msg=f"{op} wrote {name} before failing",
        )


def cases(table: list[tuple[str, dict, str]]) -> pytest.MarkDecorator:
    return pytest.mark.parametrize(
        ("op", "overrides", "pattern"), table, ids=[f"{op}-{'-'.join(o)}" for op, o, _ in table]
    )
