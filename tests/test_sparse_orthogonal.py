"""eoi_ext.sparse_orthogonal and sparse_orthogonal_batch: orthogonality, masks, densities,
dtypes, gain, exact density, reproducibility and batches (docs/algorithm.md)."""

from __future__ import annotations

import warnings

import pytest
import torch
from conftest import (
    ORTHO_TOL,
    assert_orthogonal,
    assert_zero_outside_mask,
    check_plan_rule,
    expected_exact_count,
    orthogonality_error,
)

import eoi_ext
from eoi_ext import givens

# Square, wide, tall, degenerate and prime shapes.
SHAPES = [
    (1, 1),
    (1, 37),
    (37, 1),
    (3, 1000),
    (1000, 3),
    (64, 64),
    (97, 131),
    (131, 97),
]
SHAPE_IDS = [f"{r}x{c}" for r, c in SHAPES]
# "min" stands for 1 / max(rows, cols), the smallest reachable density.
DENSITIES = ["min", 0.05, 0.3, 0.77, 1.0]


def resolve(density, rows, cols) -> float:
    return 1.0 / max(rows, cols) if density == "min" else density


def quiet_sparse_orthogonal(*args, **kwargs):
    """sparse_orthogonal, silencing the below-minimum warning (tested in test_errors)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*below the minimum.*")
        return eoi_ext.sparse_orthogonal(*args, **kwargs)


# ---------------------------------------------------------------------------------------
# Orthogonality and masks
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("density", DENSITIES)
@pytest.mark.parametrize(("rows", "cols"), SHAPES, ids=SHAPE_IDS)
def test_orthogonal_and_zero_outside_mask(rows, cols, density, dtype, make_generator):
    d = resolve(density, rows, cols)
    W, M = quiet_sparse_orthogonal(rows, cols, d, dtype=dtype, generator=make_generator(7))
    assert W.shape == (rows, cols) and M.shape == (rows, cols)
    assert W.dtype == dtype, f"W has dtype {W.dtype}, asked for {dtype}"
    assert M.dtype == torch.bool
    assert W.device.type == "cpu" and M.device.type == "cpu"
    assert_orthogonal(W)
    assert_zero_outside_mask(W, M)
    # Every row (wide) or column (tall) of W is a unit vector, so the mask covers at least
    # min(rows, cols) entries, and at least one per row / column on the smaller side.
    smaller_axis = 1 if rows <= cols else 0
    assert bool((M.sum(dim=smaller_axis) >= 1).all()), "a row of A has an empty mask"


def test_orthogonal_1024_square():
    g = torch.Generator().manual_seed(11)
    W, M = eoi_ext.sparse_orthogonal(1024, 1024, 0.1, generator=g)
    assert_orthogonal(W)
    assert_zero_outside_mask(W, M)
    density = M.float().mean().item()
    assert abs(density - 0.1) <= 2 / 1024, f"density {density} too far from 0.1"


def test_tall_is_transpose_of_wide(make_generator):
    """A tall W is gain * A^T: its columns are orthonormal (W^T W = I)."""
    W, _ = eoi_ext.sparse_orthogonal(50, 20, 0.4, dtype=torch.float64, generator=make_generator())
    gram = W.T @ W
    assert torch.allclose(gram, torch.eye(20, dtype=torch.float64), atol=1e-12, rtol=0)
    Wt, _ = eoi_ext.sparse_orthogonal(20, 50, 0.4, dtype=torch.float64, generator=make_generator())
    assert torch.equal(W, Wt.T), "the tall matrix should be the transpose of the wide one"


@pytest.mark.parametrize(("rows", "cols"), [(16, 16), (20, 45), (45, 20)])
def test_nonzeros_equal_mask_in_float64(rows, cols, make_generator):
    """With random angles the symbolic support and the true nonzeros coincide."""
    for seed in range(3):
        W, M = eoi_ext.sparse_orthogonal(
            rows, cols, 0.4, dtype=torch.float64, generator=make_generator(seed)
        )
        assert torch.equal(W != 0, M), f"seed {seed}: nonzeros of W differ from the mask"


@pytest.mark.parametrize(
    "dtype",
    [torch.float16, torch.bfloat16, torch.float32, torch.float64],
    ids=["f16", "bf16", "f32", "f64"],
)
@pytest.mark.parametrize(("rows", "cols"), [(40, 40), (24, 70), (70, 24), (1, 9)])
def test_output_dtypes(rows, cols, dtype, make_generator):
    W, M = eoi_ext.sparse_orthogonal(rows, cols, 0.3, dtype=dtype, generator=make_generator(2))
    assert W.dtype == dtype and M.dtype == torch.bool
    assert_orthogonal(W)
    assert_zero_outside_mask(W, M)
    # 16-bit outputs are the float32 result rounded: same mask, close values.
    W32, M32 = eoi_ext.sparse_orthogonal(rows, cols, 0.3, generator=make_generator(2))
    assert torch.equal(M, M32), "the mask must not depend on the dtype"
    assert torch.equal(W, W32.to(dtype)) or dtype == torch.float64, (
        "16-bit and float32 outputs should be the float32 result, rounded"
    )
    if dtype == torch.float64:
        assert (W - W32.double()).abs().max().item() <= 1e-5


def test_16bit_tolerances_are_not_vacuous():
    assert ORTHO_TOL[torch.float16] < 1e-2 and ORTHO_TOL[torch.bfloat16] < 5e-2


@pytest.mark.parametrize("gain", [1.0, 2.5, 0.1, -1.5, 0.0])
@pytest.mark.parametrize(("rows", "cols"), [(30, 30), (12, 50), (50, 12)])
def test_gain_scaling(rows, cols, gain, make_generator):
    W, M = eoi_ext.sparse_orthogonal(
        rows, cols, 0.35, gain=gain, dtype=torch.float64, generator=make_generator(5)
    )
    W1, M1 = eoi_ext.sparse_orthogonal(
        rows, cols, 0.35, dtype=torch.float64, generator=make_generator(5)
    )
    assert torch.equal(M, M1), "the mask must not depend on the gain"
    assert torch.allclose(W, gain * W1, atol=1e-14, rtol=0), "W must be gain times the gain-1 W"
    error = orthogonality_error(W, gain)
    assert error <= 1e-12 * max(1.0, gain**2), f"W W^T != gain^2 I (error {error:.2e})"


def test_gain_scaling_float32():
    W, M = eoi_ext.sparse_orthogonal(40, 90, 0.2, gain=3.0, generator=torch.Generator())
    assert_orthogonal(W, gain=3.0)
    assert_zero_outside_mask(W, M)


# ---------------------------------------------------------------------------------------
# Achieved density: the published stopping rule, exactly
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("density", [*DENSITIES, 0.123, 0.999])
@pytest.mark.parametrize(("rows", "cols"), [*SHAPES[:5], (33, 47), (47, 33), (128, 128)])
def test_published_stopping_rule(rows, cols, density):
    """The plan's R is the first count reaching the target (or full), or one less when that is
    strictly closer, replayed independently from each seed's rotation stream."""
    d = resolve(density, rows, cols)
    plan = givens.sample_plan(rows, cols, d, count=3, generator=torch.Generator().manual_seed(3))
    check_plan_rule(plan, d)


@pytest.mark.parametrize(("rows", "cols", "density"), [(20, 20, 0.3), (17, 60, 0.25)])
def test_api_mask_is_the_plan_mask(rows, cols, density):
    """sparse_orthogonal uses the plan that sample_plan draws from the same generator."""
    plan = givens.sample_plan(rows, cols, density, generator=torch.Generator().manual_seed(8))
    W, M = eoi_ext.sparse_orthogonal(
        rows, cols, density, generator=torch.Generator().manual_seed(8)
    )
    assert torch.equal(M, givens.support_mask(plan)[0])
    assert torch.equal(W, givens.apply_plan(plan)[0])
    nnz = int(M.sum())
    target = density * rows * cols
    step = 2 * min(rows, cols)
    assert abs(nnz - target) <= step, f"mask count {nnz} more than one rotation from {target}"


def test_full_density_gives_full_mask(make_generator):
    for rows, cols in [(8, 8), (5, 40), (40, 5), (1, 6)]:
        W, M = eoi_ext.sparse_orthogonal(rows, cols, 1.0, generator=make_generator(1))
        assert bool(M.all()), f"{rows}x{cols} at density 1.0: the mask is not full"
        assert_orthogonal(W)


@pytest.mark.parametrize("m", [2, 7, 10, 64, 101])
def test_single_row_or_column_hits_nearest_count(m):
    """For 1 x m (and m x 1) every rotation adds 0 or 1 entries, so the published rule lands
    on the integer nearest to d * m; an exact tie (x.5) goes up: R - 1 is used only when
    strictly closer."""
    for k in range(1, 2 * m):
        density = k / (2 * m)  # targets 0.5, 1, 1.5, ... (ties at odd k)
        target = density * m
        expected = max(1, int(target + 0.5))
        for rows, cols in ((1, m), (m, 1)):
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message=".*below the minimum.*")
                plan = givens.sample_plan(
                    rows, cols, density, generator=torch.Generator().manual_seed(k)
                )
            nnz = int(givens.support_mask(plan).sum())
            assert nnz == expected, f"{rows}x{cols} target {target}: mask count {nnz}"


def test_minimum_density_is_identity_like(make_generator):
    """At 1 / max(rows, cols) no rotation is applied: W = [I | 0] (or its transpose)."""
    for rows, cols in [(6, 6), (4, 9), (9, 4)]:
        W, M = eoi_ext.sparse_orthogonal(
            rows, cols, 1 / max(rows, cols), generator=make_generator()
        )
        assert torch.equal(W, torch.eye(rows, cols)), f"{rows}x{cols}: W is not [I | 0]"
        assert torch.equal(M, torch.eye(rows, cols, dtype=torch.bool))


# ---------------------------------------------------------------------------------------
# exact_density
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("density", [0.05, 0.123, 0.37, 0.5, 0.9, 0.999, 1.0])
@pytest.mark.parametrize(
    ("rows", "cols"), [(1, 1), (1, 9), (9, 1), (10, 10), (23, 71), (71, 23), (3, 1000), (128, 128)]
)
def test_exact_density(rows, cols, density, dtype, make_generator):
    W, M = quiet_sparse_orthogonal(
        rows, cols, density, exact_density=True, dtype=dtype, generator=make_generator(4)
    )
    expected = expected_exact_count(rows, cols, density)
    assert int(M.sum()) == expected, (
        f"{rows}x{cols} d={density}: mask holds {int(M.sum())}, expected exactly {expected}"
    )
    assert_orthogonal(W)
    assert_zero_outside_mask(W, M)


@pytest.mark.parametrize(
    ("rows", "cols", "density"), [(30, 30, 0.3), (20, 64, 0.41), (64, 20, 0.41), (1, 50, 0.5)]
)
def test_exact_density_top_up(rows, cols, density):
    """exact_density: the plan stops at the last rotation count <= target (replayed), the
    mask is that support plus zero-valued positions, and W is the plan's W."""
    plan = givens.sample_plan(
        rows, cols, density, count=2, exact_density=True, generator=torch.Generator().manual_seed(6)
    )
    check_plan_rule(plan, density, exact_density=True)
    Ws, Ms = eoi_ext.sparse_orthogonal_batch(
        2, rows, cols, density, exact_density=True, generator=torch.Generator().manual_seed(6)
    )
    support = givens.support_mask(plan)
    assert torch.equal(Ws, givens.apply_plan(plan))
    assert bool((Ms | support).eq(Ms).all()), "the topped-up mask must contain the support"
    added = Ms & ~support
    assert int(added.sum()) == 2 * round(density * rows * cols) - int(support.sum())
    assert bool((Ws[added] == 0).all()), "top-up positions must hold zeros"


def test_top_up_positions_are_uniform():
    """Top-up positions are uniformly random free positions drawn from each matrix's seed
    (not, e.g., the first free positions): each quadrant of an empty 40x40 mask receives
    about a quarter of 400 added positions, and different seeds pick different positions."""
    plans = [
        givens.sample_plan(40, 40, 0.5, generator=torch.Generator().manual_seed(s)) for s in (1, 2)
    ]
    masks = [
        givens.top_up_(torch.zeros(1, 40, 40, dtype=torch.bool), plan.seeds, 400)[0]
        for plan in plans
    ]
    for mask in masks:
        assert int(mask.sum()) == 400
        quadrants = [int(mask[r : r + 20, c : c + 20].sum()) for r in (0, 20) for c in (0, 20)]
        assert all(60 <= q <= 140 for q in quadrants), f"top-up is not uniform: {quadrants}"
    assert not torch.equal(masks[0], masks[1]), "top-up positions do not depend on the seed"


def test_exact_density_top_up_not_first_free(make_generator):
    """Through the public API: the added positions are not simply the first free ones."""
    _, M = eoi_ext.sparse_orthogonal(32, 32, 0.6, exact_density=True, generator=make_generator(3))
    plan = givens.sample_plan(32, 32, 0.6, exact_density=True, generator=make_generator(3))
    support = givens.support_mask(plan)[0].reshape(-1)
    added = (M.reshape(-1) & ~support).nonzero().flatten()
    first_free = (~support).nonzero().flatten()[: added.numel()]
    assert added.numel() > 0
    assert not torch.equal(added, first_free), "top-up took the first free positions"


# ---------------------------------------------------------------------------------------
# Reproducibility
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("exact_density", [False, True])
def test_same_seed_same_result(exact_density):
    kwargs = dict(exact_density=exact_density)
    a = eoi_ext.sparse_orthogonal(40, 60, 0.3, generator=torch.Generator().manual_seed(9), **kwargs)
    b = eoi_ext.sparse_orthogonal(40, 60, 0.3, generator=torch.Generator().manual_seed(9), **kwargs)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    torch.manual_seed(9)
    c = eoi_ext.sparse_orthogonal(40, 60, 0.3, **kwargs)
    torch.manual_seed(9)
    d = eoi_ext.sparse_orthogonal(40, 60, 0.3, **kwargs)
    assert torch.equal(c[0], d[0]) and torch.equal(c[1], d[1])


def test_independent_of_thread_count():
    """Parallel kernels must not change the numbers: 1 thread gives the same matrices."""

    def run():
        return eoi_ext.sparse_orthogonal_batch(
            6, 90, 140, 0.2, exact_density=True, generator=torch.Generator().manual_seed(0)
        )

    threads = torch.get_num_threads()
    many = run()
    try:
        torch.set_num_threads(1)
        one = run()
    finally:
        torch.set_num_threads(threads)
    assert torch.equal(many[0], one[0]) and torch.equal(many[1], one[1])


def test_different_seeds_differ():
    results = [
        eoi_ext.sparse_orthogonal(40, 60, 0.3, generator=torch.Generator().manual_seed(s))
        for s in (1, 2)
    ]
    assert not torch.equal(results[0][0], results[1][0]), "different seeds gave the same W"
    assert not torch.equal(results[0][1], results[1][1]), "different seeds gave the same mask"


def test_global_generator_is_used_and_advanced():
    torch.manual_seed(21)
    state = torch.get_rng_state()
    W1, M1 = eoi_ext.sparse_orthogonal(30, 30, 0.3)
    assert not torch.equal(state, torch.get_rng_state()), "the global generator did not advance"
    W2, _ = eoi_ext.sparse_orthogonal(30, 30, 0.3)
    assert not torch.equal(W1, W2), "consecutive calls on the global generator gave the same W"
    # The global generator seeded with 21 behaves like a fresh generator seeded with 21.
    W3, M3 = eoi_ext.sparse_orthogonal(30, 30, 0.3, generator=torch.Generator().manual_seed(21))
    assert torch.equal(W1, W3) and torch.equal(M1, M3)


def test_explicit_generator_leaves_global_state_alone(generator):
    state = torch.get_rng_state()
    eoi_ext.sparse_orthogonal(30, 30, 0.3, generator=generator)
    assert torch.equal(state, torch.get_rng_state()), "generator= must not touch the global one"


def test_explicit_generator_advances(generator):
    W1, _ = eoi_ext.sparse_orthogonal(30, 30, 0.3, generator=generator)
    W2, _ = eoi_ext.sparse_orthogonal(30, 30, 0.3, generator=generator)
    assert not torch.equal(W1, W2)


# ---------------------------------------------------------------------------------------
# Batches
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("exact_density", [False, True])
@pytest.mark.parametrize(("rows", "cols"), [(24, 24), (10, 35), (35, 10), (1, 1), (1, 5)])
def test_batch_equals_consecutive_calls(rows, cols, exact_density):
    k = 4
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*below the minimum.*")
        Ws, Ms = eoi_ext.sparse_orthogonal_batch(
            k,
            rows,
            cols,
            0.4,
            exact_density=exact_density,
            generator=torch.Generator().manual_seed(3),
        )
    assert Ws.shape == (k, rows, cols) and Ms.shape == (k, rows, cols)
    assert Ms.dtype == torch.bool
    g = torch.Generator().manual_seed(3)
    for b in range(k):
        W, M = quiet_sparse_orthogonal(rows, cols, 0.4, exact_density=exact_density, generator=g)
        assert torch.equal(Ws[b], W), f"batch entry {b} differs from call {b}"
        assert torch.equal(Ms[b], M), f"batch mask {b} differs from call {b}"
    # The generator is left where k single calls would leave it.
    after_batch = torch.Generator().manual_seed(3)
    eoi_ext.sparse_orthogonal_batch(k, rows, cols, 1.0, generator=after_batch)
    assert torch.equal(after_batch.get_state(), g.get_state())


def test_batch_global_generator():
    torch.manual_seed(4)
    Ws, Ms = eoi_ext.sparse_orthogonal_batch(3, 16, 16, 0.5)
    torch.manual_seed(4)
    for b in range(3):
        W, M = eoi_ext.sparse_orthogonal(16, 16, 0.5)
        assert torch.equal(Ws[b], W) and torch.equal(Ms[b], M)


def test_batch_matrices_are_independent_and_orthogonal():
    Ws, Ms = eoi_ext.sparse_orthogonal_batch(
        5, 32, 48, 0.3, dtype=torch.float64, generator=torch.Generator().manual_seed(1)
    )
    for b in range(5):
        assert_orthogonal(Ws[b])
        assert_zero_outside_mask(Ws[b], Ms[b])
        for c in range(b):
            assert not torch.equal(Ws[b], Ws[c]), f"batch matrices {c} and {b} are equal"
            assert not torch.equal(Ms[b], Ms[c]), f"batch masks {c} and {b} are equal"


def test_batch_count_zero():
    Ws, Ms = eoi_ext.sparse_orthogonal_batch(0, 4, 7, 0.5, dtype=torch.float64)
    assert Ws.shape == (0, 4, 7) and Ms.shape == (0, 4, 7)
    assert Ws.dtype == torch.float64 and Ms.dtype == torch.bool


def test_batch_gain_and_dtype():
    Ws, Ms = eoi_ext.sparse_orthogonal_batch(
        2, 8, 12, 0.5, gain=2.0, dtype=torch.float64, generator=torch.Generator()
    )
    assert Ws.dtype == torch.float64 and Ms.dtype == torch.bool
    for b in range(2):
        assert_orthogonal(Ws[b], gain=2.0)
        assert_zero_outside_mask(Ws[b], Ms[b])


# ---------------------------------------------------------------------------------------
# Devices and keyword arguments
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.float64])
def test_meta_device(dtype):
    W, M = eoi_ext.sparse_orthogonal(30, 70, 0.2, dtype=dtype, device="meta")
    assert W.device.type == "meta" and M.device.type == "meta"
    assert W.shape == (30, 70) and M.shape == (30, 70)
    assert W.dtype == dtype and M.dtype == torch.bool
    Ws, Ms = eoi_ext.sparse_orthogonal_batch(
        3, 70, 30, 0.2, dtype=dtype, device=torch.device("meta")
    )
    assert Ws.shape == (3, 70, 30) and Ws.is_meta and Ms.is_meta and Ms.dtype == torch.bool


@pytest.mark.parametrize("device", ["cpu", torch.device("cpu"), None])
def test_device_kwarg(device, make_generator):
    W, M = eoi_ext.sparse_orthogonal(
        10, 20, 0.3, device=device, dtype=torch.float64, generator=make_generator(2)
    )
    assert W.device == torch.device("cpu") and M.device == torch.device("cpu")
    assert W.dtype == torch.float64
    assert_orthogonal(W)


def test_integer_like_arguments():
    """Integer-like sizes (e.g. from numpy or tensors' shapes) are accepted."""
    t = torch.empty(6, 10)
    W, M = eoi_ext.sparse_orthogonal(t.shape[0], t.shape[1], 0.5, generator=torch.Generator())
    assert W.shape == M.shape == (6, 10)
    assert_orthogonal(W)
