"""eoi_ext samples from the same distribution as the published EOI algorithm.

The package draws its rotations from a counter-based stream, the published algorithm
(``eoi_ext.reference``) straight from a ``torch.Generator``, so single matrices differ;
the *distributions* must not. Over a few hundred independent matrices per shape, two-sample
tests compare: the rotation counts R, the nonzero values of W, the row support sizes and
the achieved density. Seeds are fixed, so every test is deterministic; ALPHA is small, and
the ``*_has_power`` tests show that each comparison does reject a real difference.

This file is not parametrized over backends: CI runs the suite once normally and once with
``EOI_EXT_BACKEND=python``.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import pytest
import torch
from scipy import stats

from eoi_ext.reference import draw_published_rotation, published_sparse_orthogonal

ALPHA = 1e-3
COUNT = 300
OURS_SEED = 20240601
REFERENCE_SEED = 17
# (rows, cols, density): square, wide (W = A) and tall (W = A^T).
CASES = [(24, 24, 0.3), (16, 40, 0.25), (40, 16, 0.25)]
CASE_IDS = [f"{r}x{c}@{d}" for r, c, d in CASES]


# ---------------------------------------------------------------------------------------
# Samples
# ---------------------------------------------------------------------------------------


class Sample:
    """Per-matrix statistics of ``count`` independent matrices of one shape.

    Every field holds one number per matrix, so the samples are i.i.d. and the two-sample
    tests are valid. (Pooling all entries of all matrices is not: entries of one
    orthogonal matrix are dependent -- row norms are fixed, the nonzero count nearly so --
    and tests on pooled entries reject far more often than ALPHA under the null.)
    """

    def __init__(
        self, weights: torch.Tensor, masks: torch.Tensor, rotations: np.ndarray, seed: int
    ):
        # weights, masks: (count, rows, cols); rotations: (count,) int
        count, rows, cols = masks.shape
        rng = np.random.default_rng(seed)  # picks entries and rows, independent of the data
        w = weights.double().numpy()
        m = masks.numpy()
        self.rotations = np.asarray(rotations, dtype=np.int64)
        self.nnz = m.sum(axis=(1, 2))
        self.density = self.nnz / (rows * cols)
        values = [w[k][m[k]] for k in range(count)]
        self.value_pick = np.array([v[rng.integers(len(v))] for v in values])
        self.value_mean_abs = np.array([np.abs(v).mean() for v in values])
        self.value_max_abs = np.array([np.abs(v).max() for v in values])
        row_support = m.sum(axis=2)  # (count, rows)
        self.row_pick = row_support[np.arange(count), rng.integers(rows, size=count)]
        self.row_max = row_support.max(axis=1)
        self.row_min = row_support.min(axis=1)
        self.row_spread = row_support.std(axis=1)


@functools.cache
def reference_sample(rows: int, cols: int, density: float, seed: int = REFERENCE_SEED):
    generator = torch.Generator().manual_seed(seed)
    results = [
        published_sparse_orthogonal(rows, cols, density, generator=generator) for _ in range(COUNT)
    ]
    weights = torch.stack([w for w, _, _ in results])
    masks = torch.stack([m for _, m, _ in results])
    return Sample(weights, masks, np.array([r for _, _, r in results]), seed)


@functools.cache
def ours_sample(rows: int, cols: int, density: float, seed: int = OURS_SEED):
    import eoi_ext
    import eoi_ext.givens

    generator = torch.Generator().manual_seed(seed)
    weights, masks = eoi_ext.sparse_orthogonal_batch(
        COUNT, rows, cols, density, dtype=torch.float64, generator=generator
    )
    assert weights.shape == (COUNT, rows, cols) and masks.shape == (COUNT, rows, cols)
    assert masks.dtype == torch.bool
    # R comes from an independently seeded plan (a plan does not return the matrices).
    plan_generator = torch.Generator().manual_seed(seed + 1)
    plan = eoi_ext.givens.sample_plan(rows, cols, density, count=COUNT, generator=plan_generator)
    rotations = plan.rotation_counts.cpu().numpy()
    assert rotations.shape == (COUNT,)
    return Sample(weights.cpu(), masks.cpu(), rotations, seed)


# ---------------------------------------------------------------------------------------
# Two-sample tests
# ---------------------------------------------------------------------------------------


def chi2_two_sample(x: np.ndarray, y: np.ndarray, min_expected: float = 5.0) -> float:
    """p-value of a chi-square test that two integer samples share one distribution.

    Adjacent values (in sorted order) are merged into bins until every cell of the 2 x k
    contingency table expects at least ``min_expected`` counts.
    """
    x = np.asarray(x)
    y = np.asarray(y)
    values = np.union1d(x, y)
    cx = np.array([np.count_nonzero(x == v) for v in values])
    cy = np.array([np.count_nonzero(y == v) for v in values])
    share = min(len(x), len(y)) / (len(x) + len(y))
    bins: list[list[int]] = []
    current = [0, 0]
    for a, b in zip(cx, cy, strict=True):
        current[0] += a
        current[1] += b
        if (current[0] + current[1]) * share >= min_expected:
            bins.append(current)
            current = [0, 0]
    if current[0] + current[1] > 0:
        if bins:
            bins[-1][0] += current[0]
            bins[-1][1] += current[1]
        else:
            bins.append(current)
    if len(bins) < 2:
        return 1.0
    table = np.array(bins).T
    return float(stats.chi2_contingency(table, correction=False).pvalue)


def discrete_pvalues(x: np.ndarray, y: np.ndarray) -> dict[str, float]:
    return {
        "chi2": chi2_two_sample(x, y),
        "mannwhitney": float(stats.mannwhitneyu(x, y).pvalue),
    }


def ks_pvalue(x: np.ndarray, y: np.ndarray) -> float:
    return float(stats.ks_2samp(x, y).pvalue)


def rotation_pvalues(a: Sample, b: Sample) -> dict[str, float]:
    return discrete_pvalues(a.rotations, b.rotations)


def value_pvalues(a: Sample, b: Sample) -> dict[str, float]:
    return {
        "ks(one value per matrix)": ks_pvalue(a.value_pick, b.value_pick),
        "ks(|one value per matrix|)": ks_pvalue(np.abs(a.value_pick), np.abs(b.value_pick)),
        "ks(mean |value|)": ks_pvalue(a.value_mean_abs, b.value_mean_abs),
        "ks(max |value|)": ks_pvalue(a.value_max_abs, b.value_max_abs),
    }


def row_support_pvalues(a: Sample, b: Sample) -> dict[str, float]:
    return {
        "chi2(one row per matrix)": chi2_two_sample(a.row_pick, b.row_pick),
        "chi2(max row)": chi2_two_sample(a.row_max, b.row_max),
        "chi2(min row)": chi2_two_sample(a.row_min, b.row_min),
        "ks(row std)": ks_pvalue(a.row_spread, b.row_spread),
    }


def density_pvalues(a: Sample, b: Sample) -> dict[str, float]:
    return discrete_pvalues(a.nnz, b.nnz)


def assert_same(pvalues: dict[str, float], what: str) -> None:
    """No test of the family rejects at level ALPHA (Bonferroni over the family)."""
    level = ALPHA / len(pvalues)
    failed = {name: p for name, p in pvalues.items() if p < level}
    assert not failed, f"{what}: distributions differ (p < {level:.1e}): {failed}"


def assert_differ(pvalues: dict[str, float], what: str) -> None:
    """Some test of the family rejects at the level assert_same uses."""
    level = ALPHA / len(pvalues)
    assert min(pvalues.values()) < level, f"{what}: no power, p-values {pvalues}"


# ---------------------------------------------------------------------------------------
# The published algorithm itself
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("rows, cols", [(24, 24), (16, 40), (40, 16), (1, 7), (7, 1)])
@pytest.mark.parametrize("gain", [1.0, 2.5])
def test_reference_is_orthogonal(rows: int, cols: int, gain: float) -> None:
    generator = torch.Generator().manual_seed(3)
    w, mask, rotations = published_sparse_orthogonal(
        rows, cols, 0.4, gain=gain, generator=generator
    )
    assert w.shape == (rows, cols) and w.dtype == torch.float64
    assert mask.shape == (rows, cols) and mask.dtype == torch.bool
    assert torch.equal(mask, w != 0)
    small = w @ w.T if rows <= cols else w.T @ w
    eye = torch.eye(min(rows, cols), dtype=torch.float64)
    assert (small - gain**2 * eye).abs().max().item() < 1e-12
    if max(rows, cols) > 1:
        assert rotations > 0


def replay_nnz(rows: int, cols: int, seed: int, steps: int) -> tuple[list[int], torch.Tensor]:
    """Nonzero counts of A after 0..steps rotations drawn from ``seed``, and A after each."""
    n, m = min(rows, cols), max(rows, cols)
    generator = torch.Generator().manual_seed(seed)
    a = torch.zeros(n, m, dtype=torch.float64)
    a[:, :n] = torch.eye(n, dtype=torch.float64)
    counts = [n]
    states = [a.clone()]
    for _ in range(steps):
        i, j, theta = draw_published_rotation(m, generator)
        g = torch.eye(m, dtype=torch.float64)
        g[i, i] = g[j, j] = math.cos(theta)
        g[j, i] = -math.sin(theta)
        g[i, j] = math.sin(theta)
        a = a @ g  # right-multiplication by the full Givens matrix
        counts.append(int((a != 0).sum()))
        states.append(a.clone())
    return counts, torch.stack(states)


@pytest.mark.parametrize("rows, cols, density", [(12, 12, 0.3), (8, 20, 0.5), (20, 8, 0.2)])
@pytest.mark.parametrize("seed", range(6))
def test_reference_stops_per_published_rule(rows: int, cols: int, density: float, seed: int):
    generator = torch.Generator().manual_seed(seed)
    w, mask, rotations = published_sparse_orthogonal(rows, cols, density, generator=generator)
    counts, states = replay_nnz(rows, cols, seed, rotations + 1)
    n, m = min(rows, cols), max(rows, cols)
    target = density * n * m
    first = next(k for k, c in enumerate(counts) if c >= target)  # first R with d_R >= d
    expected = first - 1 if target - counts[first - 1] < counts[first] - target else first
    assert rotations == expected
    a = states[rotations]
    assert torch.allclose(w, a if rows <= cols else a.T, rtol=0, atol=1e-12)
    assert int(mask.sum()) == counts[rotations]


def test_reference_no_rotation_at_or_below_start_density() -> None:
    for rows, cols in [(10, 10), (6, 15), (15, 6)]:
        m = max(rows, cols)
        w, mask, rotations = published_sparse_orthogonal(rows, cols, 1.0 / m)
        assert rotations == 0
        assert torch.equal(w, torch.eye(rows, cols, dtype=torch.float64))
        assert torch.equal(mask, torch.eye(rows, cols, dtype=torch.bool))


def test_reference_full_density_and_generator() -> None:
    w, mask, rotations = published_sparse_orthogonal(
        8, 8, 1.0, generator=torch.Generator().manual_seed(0)
    )
    assert bool(mask.all()) and rotations > 0
    # Same seed, same matrix; the global generator is used when none is given.
    again = published_sparse_orthogonal(8, 8, 1.0, generator=torch.Generator().manual_seed(0))
    assert torch.equal(w, again[0])
    torch.manual_seed(0)
    global_a = published_sparse_orthogonal(8, 8, 0.5)
    torch.manual_seed(0)
    global_b = published_sparse_orthogonal(8, 8, 0.5)
    assert torch.equal(global_a[0], global_b[0])


def test_reference_dtype_and_errors() -> None:
    w, _, _ = published_sparse_orthogonal(
        16, 16, 0.3, dtype=torch.float32, generator=torch.Generator().manual_seed(1)
    )
    assert w.dtype == torch.float32
    assert (w @ w.T - torch.eye(16)).abs().max().item() < 1e-5
    for bad in [0.0, -0.1, 1.5]:
        with pytest.raises(ValueError):
            published_sparse_orthogonal(4, 4, bad)
    with pytest.raises(ValueError):
        published_sparse_orthogonal(0, 4, 0.5)


# ---------------------------------------------------------------------------------------
# eoi_ext against the published algorithm
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("rows, cols, density", CASES, ids=CASE_IDS)
def test_rotation_counts_agree(rows: int, cols: int, density: float) -> None:
    ours, ref = ours_sample(rows, cols, density), reference_sample(rows, cols, density)
    assert_same(rotation_pvalues(ours, ref), "rotation counts")


@pytest.mark.parametrize("rows, cols, density", CASES, ids=CASE_IDS)
def test_nonzero_values_agree(rows: int, cols: int, density: float) -> None:
    ours, ref = ours_sample(rows, cols, density), reference_sample(rows, cols, density)
    assert_same(value_pvalues(ours, ref), "nonzero values")


@pytest.mark.parametrize("rows, cols, density", CASES, ids=CASE_IDS)
def test_row_support_sizes_agree(rows: int, cols: int, density: float) -> None:
    ours, ref = ours_sample(rows, cols, density), reference_sample(rows, cols, density)
    assert_same(row_support_pvalues(ours, ref), "row support sizes")


@pytest.mark.parametrize("rows, cols, density", CASES, ids=CASE_IDS)
def test_achieved_density_agrees(rows: int, cols: int, density: float) -> None:
    ours, ref = ours_sample(rows, cols, density), reference_sample(rows, cols, density)
    assert_same(density_pvalues(ours, ref), "achieved density")
    # Both stop at the nearest reachable density: close to the target on average.
    assert abs(ours.density.mean() - density) < 0.02
    assert abs(ref.density.mean() - density) < 0.02


def test_tests_have_power() -> None:
    """Each comparison rejects matrices of a deliberately different density (0.4 vs 0.3)."""
    ours, ref = ours_sample(24, 24, 0.4), reference_sample(24, 24, 0.3)
    assert_differ(rotation_pvalues(ours, ref), "rotation counts")
    assert_differ(value_pvalues(ours, ref), "nonzero values")
    assert_differ(row_support_pvalues(ours, ref), "row support sizes")
    assert_differ(density_pvalues(ours, ref), "achieved density")


def test_chi2_helper() -> None:
    rng = np.random.default_rng(0)
    same = chi2_two_sample(rng.poisson(20, 400), rng.poisson(20, 400))
    assert same > ALPHA
    assert chi2_two_sample(rng.poisson(20, 400), rng.poisson(24, 400)) < ALPHA
    assert chi2_two_sample(np.zeros(10, dtype=int), np.zeros(10, dtype=int)) == 1.0
