"""Property tests (hypothesis) of eoi_ext.sparse_orthogonal over small random shapes,
densities, dtypes, gains and both density modes. derandomize=True keeps CI deterministic."""

from __future__ import annotations

import warnings

import torch
from conftest import (
    ORTHO_TOL,
    assert_zero_outside_mask,
    check_plan_rule,
    density_step_bound,
    expected_exact_count,
    orthogonality_error,
)
from hypothesis import given, settings
from hypothesis import strategies as st

import eoi_ext
from eoi_ext import givens

PROPERTY_SETTINGS = settings(max_examples=40, deadline=None, derandomize=True)

sizes = st.integers(min_value=1, max_value=48)
densities = st.floats(min_value=0.0, max_value=1.0, exclude_min=True, allow_nan=False)
dtypes = st.sampled_from([torch.float32, torch.float64])
gains = st.one_of(st.just(1.0), st.floats(min_value=-4.0, max_value=4.0, allow_nan=False))
seeds = st.integers(min_value=0, max_value=2**63 - 1)


def build(rows, cols, density, seed, **kwargs):
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*below the minimum.*")
        return eoi_ext.sparse_orthogonal(
            rows, cols, density, generator=torch.Generator().manual_seed(seed), **kwargs
        )


@PROPERTY_SETTINGS
@given(
    rows=sizes,
    cols=sizes,
    density=densities,
    dtype=dtypes,
    gain=gains,
    exact_density=st.booleans(),
    seed=seeds,
)
def test_orthogonal_and_zero_outside_mask(rows, cols, density, dtype, gain, exact_density, seed):
    W, M = build(rows, cols, density, seed, gain=gain, dtype=dtype, exact_density=exact_density)
    assert W.shape == M.shape == (rows, cols)
    assert W.dtype == dtype and M.dtype == torch.bool
    error = orthogonality_error(W, gain)
    bound = ORTHO_TOL[dtype] * max(1.0, gain**2)
    assert error <= bound, f"orthogonality error {error:.3e} > {bound:.1e}"
    assert_zero_outside_mask(W, M)


@PROPERTY_SETTINGS
@given(rows=sizes, cols=sizes, density=densities, exact_density=st.booleans(), seed=seeds)
def test_mask_density_rule(rows, cols, density, exact_density, seed):
    _, M = build(rows, cols, density, seed, exact_density=exact_density)
    nnz = int(M.sum())
    n, m = min(rows, cols), max(rows, cols)
    if exact_density:
        assert nnz == expected_exact_count(rows, cols, density), (
            f"exact_density: mask holds {nnz}, expected {expected_exact_count(rows, cols, density)}"
        )
    elif density < 1 / m:
        assert nnz == n, "below the minimum density the mask is that of [I | 0]"
    else:
        achieved = nnz / (rows * cols)
        assert abs(achieved - density) <= density_step_bound(rows, cols), (
            f"density {achieved} is more than one rotation from {density}"
        )
    # The plan behind it follows its stopping rule exactly (independent replay).
    plan = givens.sample_plan(
        rows,
        cols,
        density,
        exact_density=exact_density,
        generator=torch.Generator().manual_seed(seed),
    )
    check_plan_rule(plan, density, exact_density=exact_density)
    support = givens.support_mask(plan)[0]
    if exact_density:
        assert bool((M | support).eq(M).all()), "the mask must contain the rotations' support"
    else:
        assert torch.equal(M, support)


@PROPERTY_SETTINGS
@given(
    rows=sizes, cols=sizes, density=densities, exact_density=st.booleans(), seed=seeds, dtype=dtypes
)
def test_deterministic(rows, cols, density, exact_density, seed, dtype):
    a = build(rows, cols, density, seed, exact_density=exact_density, dtype=dtype)
    b = build(rows, cols, density, seed, exact_density=exact_density, dtype=dtype)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])


@settings(max_examples=20, deadline=None, derandomize=True)
@given(
    count=st.integers(min_value=0, max_value=4),
    rows=sizes,
    cols=sizes,
    density=densities,
    exact_density=st.booleans(),
    seed=seeds,
)
def test_batch_equals_consecutive_calls(count, rows, cols, density, exact_density, seed):
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*below the minimum.*")
        Ws, Ms = eoi_ext.sparse_orthogonal_batch(
            count,
            rows,
            cols,
            density,
            exact_density=exact_density,
            generator=torch.Generator().manual_seed(seed),
        )
        assert Ws.shape == Ms.shape == (count, rows, cols)
        g = torch.Generator().manual_seed(seed)
        for b in range(count):
            W, M = eoi_ext.sparse_orthogonal(
                rows, cols, density, exact_density=exact_density, generator=g
            )
            assert torch.equal(Ws[b], W) and torch.equal(Ms[b], M), f"entry {b} differs"
