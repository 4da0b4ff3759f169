"""Every argument of the five ops is checked, by name, before any output is touched
(issue 12, item 6, gap 5; csrc/checks.h and its mirror eoi_ext/fallback/checks.py). The
first rows were accepted before."""

from __future__ import annotations

import pytest
import torch
from op_calls import IMPLS, PLAN, cases, decreasing_offsets, expect_named_error

NAMED = [
    ("apply_plans", {"cos_sin": PLAN.cos_sin * 2}, r"cos_sin must hold unit vectors"),
    ("apply_plans", {"cos_sin": PLAN.cos_sin * float("nan")}, r"cos_sin must hold unit"),
    ("apply_plans", {"gain": float("inf")}, r"gain must be finite"),
    ("apply_plans", {"gain": float("nan")}, r"gain must be finite"),
    # gain^2 overflowing out's dtype: the zeros outside the mask became inf * 0 = NaN.
    ("apply_plans", {"gain": 1e39}, r"gain must be at most .* (torch\.float32|Float)"),
    (
        "apply_plans",
        {"gain": -300.0, "out": torch.full((2, 6, 9), 7.0, dtype=torch.half)},
        r"gain must be at most 255\.9",
    ),
    ("apply_plans", {"cos_sin": PLAN.cos_sin[:-1]}, r"cos_sin must have shape"),
    ("apply_plans", {"cos_sin": PLAN.pairs}, r"cos_sin must be a floating-point"),
    ("apply_plans", {"row_end": 10}, r"row_end <= m = 9"),
    ("apply_plans", {"coord_begin": -1}, r"coord_begin"),
    ("apply_plans", {"out": torch.empty(2, 6, 8)}, r"out must have shape"),
    ("apply_plans", {"out": torch.empty(2, 9, 6).mT}, r"out must be (a )?contiguous"),
    ("apply_plans", {"out": torch.empty(2, 6, 9, dtype=torch.int32)}, r"out must be float16"),
    ("rotation_levels", {"offsets": PLAN.offsets.int()}, r"offsets must have dtype"),
    ("rotation_levels", {"offsets": PLAN.offsets[None]}, r"offsets must be 1-D"),
    ("rotation_levels", {"offsets": PLAN.offsets + 1}, r"offsets must start at 0"),
    ("rotation_levels", {"offsets": decreasing_offsets()}, r"offsets must be non-decreasing"),
    ("rotation_levels", {"pairs": PLAN.pairs.long()}, r"pairs must have dtype"),
    ("rotation_levels", {"pairs": PLAN.pairs.mT.contiguous().mT}, r"pairs must be contiguous"),
    ("rotation_levels", {"pairs": PLAN.pairs.reshape(-1)}, r"pairs must have shape \(R, 2\)"),
    ("rotation_levels", {"pairs": PLAN.pairs + 9}, r"pairs must lie in \[0, m\)"),
    ("rotation_levels", {"m": 9.5}, r"'m'|m must be an integer"),
    ("sample_plans", {"seeds": PLAN.seeds.double()}, r"seeds must have dtype"),
    ("sample_plans", {"seeds": PLAN.seeds[None]}, r"seeds must be 1-D"),
    ("sample_plans", {"density": 0.0}, r"density must be in \(0, 1\]"),
    ("sample_plans", {"density": float("nan")}, r"density must be in"),
    ("support_masks", {"support": PLAN.support.int()}, r"support must"),
    ("support_masks", {"support": PLAN.support[:, :8].contiguous()}, r"support must have shape"),
    ("support_masks", {"row_end": 7}, r"row_end <= n = 6"),
    ("support_masks", {"mask": torch.zeros(2, 6, 9)}, r"mask must have dtype"),
    ("support_masks", {"mask": torch.zeros(2, 6, 8, dtype=torch.bool)}, r"mask must have shape"),
    ("top_up_masks", {"mask": torch.zeros(3, 6, 9, dtype=torch.bool)}, r"mask must have shape"),
    ("top_up_masks", {"mask": torch.zeros(2, 54, dtype=torch.bool)}, r"mask must have shape"),
    ("top_up_masks", {"seeds": PLAN.seeds.int()}, r"seeds must have dtype"),
    # Meta inputs with a real output: the fake kernels, run as Meta kernels, wrote nothing.
    ("apply_plans", {"offsets": PLAN.offsets.to("meta")}, r"offsets must be a CPU tensor"),
    ("support_masks", {"support": PLAN.support.to("meta")}, r"support must be (a CPU|on the CPU)"),
    ("top_up_masks", {"seeds": PLAN.seeds.to("meta")}, r"seeds must be a CPU tensor"),
]
if not torch.cuda.is_available():  # pinning needs CUDA; tests/test_cuda.py pins where it is
    NAMED.append(("sample_plans", {"pin_memory": True}, r"pin_memory=True needs a CUDA device"))


@pytest.mark.parametrize("impl", IMPLS, ids=lambda impl: impl.__name__)
@cases(NAMED)
def test_every_argument_is_checked_by_name(impl, op, overrides, pattern):
    expect_named_error(impl, op, overrides, pattern)
