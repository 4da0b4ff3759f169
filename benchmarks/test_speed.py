"""Speed of eoi_ext against its floors and anchors, each measured in the same run.

Groups (read the ratios printed at the end of the run, see ratios.py):
- published: eoi_ext vs the published algorithm (eoi_ext.reference), N x N at d = 0.1
  (N = 1024; 256 in quick mode).
- dense-1024: eoi_ext vs dense torch.nn.init.orthogonal_ and vs the output floor.
- batch: sparse_orthogonal_batch of many 128 x 128 layers at d = 0.125 vs the floor
  (1000 layers; 100 in quick mode).
- large-4096: 4096 x 4096 at d = 0.1 vs the floor.
- isometry: the approximate-isometry baselines (svd_ai, 10 iterations; ai, 100 steps) on
  N x N at d = 0.1 (N = 512; 256 in quick mode) against eoi_ext on the same shape.
- sparsify: eoi_ext.sparsify of a 1000-layer, 128-wide MLP (dense ends, 0.125) against
  sparse_orthogonal_batch of the same 998 inner layers (the parametrization overhead).
The floor allocates and zeroes the same output: float32 weights plus a bool mask.
No timing assertions: only sanity checks of the outputs.
"""

from __future__ import annotations

import os

import pytest
import torch

import eoi_ext
from eoi_ext.reference import published_sparse_orthogonal

QUICK = os.environ.get("EOI_BENCH_QUICK", "") not in ("", "0")  # as in conftest.py
PUBLISHED_N = 256 if QUICK else 1024
PUBLISHED_ROUNDS = 3  # about 1.5-2 s per round at 1024^2
BATCH_LAYERS = 100 if QUICK else 1000
SEED = 0


def generator() -> torch.Generator:
    return torch.Generator().manual_seed(SEED)


def floor(*shape: int) -> tuple[torch.Tensor, torch.Tensor]:
    return torch.zeros(*shape), torch.zeros(*shape, dtype=torch.bool)


def check(result: tuple[torch.Tensor, torch.Tensor], shape: tuple[int, ...]) -> None:
    weights, mask = result[0], result[1]
    assert weights.shape == shape and weights.dtype == torch.float32
    assert mask.shape == shape and mask.dtype == torch.bool


# --- eoi_ext vs the published algorithm --------------------------------------------------


@pytest.mark.benchmark(group=f"published: {PUBLISHED_N}x{PUBLISHED_N} d=0.1")
def test_eoi_single(measure) -> None:
    g = generator()
    n = PUBLISHED_N
    result = measure(
        "eoi_single",
        f"eoi_ext.sparse_orthogonal {n}x{n} d=0.1",
        lambda: eoi_ext.sparse_orthogonal(n, n, 0.1, generator=g),
    )
    check(result, (n, n))


@pytest.mark.benchmark(group=f"published: {PUBLISHED_N}x{PUBLISHED_N} d=0.1")
def test_published_single(measure) -> None:
    g = generator()
    n = PUBLISHED_N
    result = measure(
        "published_single",
        f"published algorithm {n}x{n} d=0.1 float32",
        lambda: published_sparse_orthogonal(n, n, 0.1, dtype=torch.float32, generator=g),
        rounds=PUBLISHED_ROUNDS,
    )
    check(result, (n, n))


# --- 1024 x 1024: dense orthogonal_ and the floor -----------------------------------------


@pytest.mark.benchmark(group="dense-1024: 1024x1024")
def test_eoi_1024(measure) -> None:
    g = generator()
    result = measure(
        "eoi_1024",
        "eoi_ext.sparse_orthogonal 1024x1024 d=0.1",
        lambda: eoi_ext.sparse_orthogonal(1024, 1024, 0.1, generator=g),
    )
    check(result, (1024, 1024))


@pytest.mark.benchmark(group="dense-1024: 1024x1024")
def test_dense_orthogonal_1024(measure) -> None:
    weight = torch.empty(1024, 1024)
    g = generator()
    result = measure(
        "dense_orthogonal_1024",
        "torch.nn.init.orthogonal_ 1024x1024 (dense)",
        lambda: torch.nn.init.orthogonal_(weight, generator=g),
    )
    assert result.shape == (1024, 1024)


@pytest.mark.benchmark(group="dense-1024: 1024x1024")
def test_floor_1024(measure) -> None:
    check(
        measure("floor_1024", "zeros float32 + bool 1024x1024", lambda: floor(1024, 1024)),
        (1024, 1024),
    )


# --- many layers in one call --------------------------------------------------------------


@pytest.mark.benchmark(group=f"batch: {BATCH_LAYERS} x 128x128 d=0.125")
def test_eoi_batch(measure) -> None:
    g = generator()
    result = measure(
        "eoi_batch",
        f"eoi_ext.sparse_orthogonal_batch {BATCH_LAYERS} x 128x128 d=0.125",
        lambda: eoi_ext.sparse_orthogonal_batch(BATCH_LAYERS, 128, 128, 0.125, generator=g),
    )
    check(result, (BATCH_LAYERS, 128, 128))


@pytest.mark.benchmark(group=f"batch: {BATCH_LAYERS} x 128x128 d=0.125")
def test_floor_batch(measure) -> None:
    result = measure(
        "floor_batch",
        f"zeros float32 + bool {BATCH_LAYERS} x 128x128",
        lambda: floor(BATCH_LAYERS, 128, 128),
    )
    check(result, (BATCH_LAYERS, 128, 128))


# --- one large layer ----------------------------------------------------------------------


@pytest.mark.benchmark(group="large-4096: 4096x4096 d=0.1")
def test_eoi_4096(measure) -> None:
    g = generator()
    result = measure(
        "eoi_4096",
        "eoi_ext.sparse_orthogonal 4096x4096 d=0.1",
        lambda: eoi_ext.sparse_orthogonal(4096, 4096, 0.1, generator=g),
    )
    check(result, (4096, 4096))


@pytest.mark.benchmark(group="large-4096: 4096x4096 d=0.1")
def test_floor_4096(measure) -> None:
    check(
        measure("floor_4096", "zeros float32 + bool 4096x4096", lambda: floor(4096, 4096)),
        (4096, 4096),
    )


@pytest.mark.benchmark(group="large-4096: 4096x4096 d=0.1")
def test_eoi_4096_exact_density(measure) -> None:
    g = generator()
    result = measure(
        "eoi_4096_exact",
        "eoi_ext.sparse_orthogonal 4096x4096 d=0.1 exact_density=True",
        lambda: eoi_ext.sparse_orthogonal(4096, 4096, 0.1, exact_density=True, generator=g),
    )
    check(result, (4096, 4096))
    assert int(result[1].sum()) == round(0.1 * 4096 * 4096)


# --- a whole model ------------------------------------------------------------------------


@pytest.mark.benchmark(group=f"sparsify: {BATCH_LAYERS}-layer MLP, width 128, d=0.125")
def test_sparsify_mlp(measure) -> None:
    from eoi_ext.models import deep_mlp

    def run() -> eoi_ext.SparseModel:
        model = deep_mlp(BATCH_LAYERS, 128, "tanh", in_features=64, out_features=10)
        return eoi_ext.sparsify(
            model, 0.125, distribution="uniform_dense_ends", generator=generator()
        )

    sparse = measure(
        "sparsify_mlp",
        f"eoi_ext.sparsify deep_mlp({BATCH_LAYERS}, 128), model construction included",
        run,
        rounds=3,
    )
    assert len(sparse.masks) == BATCH_LAYERS


# --- approximate isometry baselines ---------------------------------------------------------

ISOMETRY_N = 256 if QUICK else 512


@pytest.mark.benchmark(group=f"isometry: {ISOMETRY_N}x{ISOMETRY_N} d=0.1")
@pytest.mark.parametrize("method", ["eoi", "svd_ai", "ai"])
def test_isometry_baselines(measure, method) -> None:
    from eoi_ext import baselines

    n = ISOMETRY_N
    g = generator()

    def run():
        if method == "eoi":
            return eoi_ext.sparse_orthogonal(n, n, 0.1, generator=g)
        w, m = baselines.random_sparse((n, n), 0.1, generator=g)
        if method == "svd_ai":
            return baselines.svd_isometry(w, m)[0][0], m[0]
        return baselines.approximate_isometry(w, m)[0][0], m[0]

    check(measure(f"isometry_{method}", f"{method} {n}x{n} d=0.1", run, rounds=3), (n, n))
