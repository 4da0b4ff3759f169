"""Argument checks of the five ops (csrc/checks.h; its mirror eoi_ext/fallback/checks.py;
docs/backends.md, "Checks come first"): every bad argument fails with a RuntimeError
naming it, before any output is touched, on the compiled ops and on the fallback alike.

One table per gap of the hostile-input probe (issue 12, item 6; gap 5, every other
argument, is tests/test_op_arguments.py); tests/test_fuzz_ops.py throws arbitrary
arguments at the same ops. The calls and the expectation: tests/op_calls.py.
"""

from __future__ import annotations

import pytest
import torch
from op_calls import IMPLS, PLAN, base_args, cases, degenerate_pairs, expect_named_error

# Gap 1: a "rotation" of a coordinate with itself is not orthogonal.
DEGENERATE = [
    ("apply_plans", {"pairs": degenerate_pairs()}, r"pairs must join two distinct .* rotation 3"),
    ("rotation_levels", {"pairs": degenerate_pairs()}, r"pairs must join two distinct"),
]

# Gap 2: only coord_end may be -1 (meaning m); no int argument may be negative.
NEGATIVE = [
    ("apply_plans", {"coord_end": -5}, r"coord_end must be -1 \(meaning m\)"),
    ("support_masks", {"coord_end": -2}, r"coord_end must be -1 \(meaning m\)"),
    ("top_up_masks", {"target_count": -1}, r"target_count must be >= 0, got -1"),
    ("rotation_levels", {"m": -1}, r"\bm must be in \[1, 2\^31 - 1\]"),
    ("sample_plans", {"m": -1}, r"\bm must be in"),
    ("support_masks", {"n": 0}, r"\bn must be in \[1, m = 9\]"),
]

# Gap 3: top_up_masks read a 2-D seeds tensor as if it were 1-D.
SEEDS = [
    ("top_up_masks", {"seeds": PLAN.seeds[:, None]}, r"seeds must be 1-D"),
    ("top_up_masks", {"seeds": PLAN.seeds.repeat(2, 1)}, r"seeds must be 1-D"),
]

# Gap 4: sides that no plan can have reached an allocation (std::bad_alloc, "cannot
# create std::vector larger than max_size()").
SIZES = [
    ("rotation_levels", {"m": 2**40}, r"\bm must be in \[1, 2\^31 - 1\]"),
    ("apply_plans", {"m": 2**40, "coord_begin": 2**40 - 1}, r"\bm must be in"),
    ("support_masks", {"m": 2**40}, r"\bm must be in"),
    ("sample_plans", {"m": 2**31}, r"\bm must be in"),
    ("sample_plans", {"n": 2**40}, r"\bn must be in \[1, m = 9\]"),
    ("sample_plans", {"n": 2**31 - 1, "m": 2**31 - 1}, r"len\(seeds\) = 2 .* than 2\^48 bytes"),
    ("sample_plans", {"n": 2**20, "m": 2**31 - 1}, r"len\(seeds\) = 2 .* than 2\^48 bytes"),
]


@pytest.mark.parametrize("impl", IMPLS, ids=lambda impl: impl.__name__)
@cases(DEGENERATE)
def test_degenerate_pairs_are_rejected(impl, op, overrides, pattern):
    expect_named_error(impl, op, overrides, pattern)


@pytest.mark.parametrize("impl", IMPLS, ids=lambda impl: impl.__name__)
@cases(NEGATIVE)
def test_negative_int_arguments_are_rejected(impl, op, overrides, pattern):
    expect_named_error(impl, op, overrides, pattern)


@pytest.mark.parametrize("impl", IMPLS, ids=lambda impl: impl.__name__)
@cases(SEEDS)
def test_top_up_seeds_must_be_1d(impl, op, overrides, pattern):
    expect_named_error(impl, op, overrides, pattern)


@pytest.mark.parametrize("impl", IMPLS, ids=lambda impl: impl.__name__)
@cases(SIZES)
def test_absurd_sizes_fail_before_allocating(impl, op, overrides, pattern):
    expect_named_error(impl, op, overrides, pattern)


# Gap 6: outputs on the meta device (the fake kernels of eoi_ext/ops.py for the compiled
# ops; the fallback's shape-only path) are checked too, but for what needs data.
META = [
    ("apply_plans", {"coord_end": -5}, r"coord_end must be -1"),
    ("apply_plans", {"out": torch.empty(2, 6, 8, device="meta")}, r"out must have shape"),
    ("support_masks", {"m": 2**40}, r"\bm must be in"),
    ("top_up_masks", {"target_count": -1}, r"target_count must be >= 0"),
]


@pytest.mark.parametrize("impl", IMPLS, ids=lambda impl: impl.__name__)
@cases(META)
def test_meta_outputs_are_checked(impl, op, overrides, pattern):
    name = "out" if op == "apply_plans" else "mask"
    meta = {name: base_args(op)[name].to("meta")}
    expect_named_error(impl, op, {**meta, **overrides}, pattern)
    getattr(impl, op)(**{**base_args(op), **meta})  # valid arguments pass on meta
