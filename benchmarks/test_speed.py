"""Speed of eoi_ext against its floors and anchors, each measured in the same run.

Every case is a registry contender (eoi_ext.lab.bench.CONTENDERS) on a workload, the
cells `eoi bench` measures too; `eoi` is EOI on the active backend (EOI_EXT_BACKEND).
Groups (read the ratios printed at the end of the run, see ratios.py):
- published: eoi_ext vs the published algorithm (eoi_ext.reference), N x N at d = 0.1
  (N = 1024; 256 in quick mode).
- dense-1024: eoi_ext vs dense torch.nn.init.orthogonal_ and vs the output floor.
- batch: sparse_orthogonal_batch of many 128 x 128 layers at d = 0.125 vs the floor
  (1000 layers; 100 in quick mode).
- large-4096: 4096 x 4096 at d = 0.1 vs the floor, also with exact_density=True.
- sparsify: eoi_ext.sparsify of a 1000-layer, 128-wide MLP (dense ends, 0.125), model
  construction included, against sparse_orthogonal_batch of its inner layers (eoi_batch:
  the parametrization overhead).
- isometry: the approximate-isometry baselines (svd_ai, 10 iterations; ai_kaiming, 100 steps) on
  N x N at d = 0.1 (N = 512; 256 in quick mode) against eoi_ext on the same shape.
The floor allocates and zeroes the same output: float32 weights plus a bool mask.
No timing assertions: only sanity checks of the outputs (conftest.measure_case).
"""

from __future__ import annotations

import os

import pytest

from eoi_ext.lab.bench import Case, MatrixWorkload, NetworkWorkload, eoi_method

QUICK = os.environ.get("EOI_BENCH_QUICK", "") not in ("", "0")  # as in conftest.py
PUBLISHED_N = 256 if QUICK else 1024
PUBLISHED_ROUNDS = 3  # about 1.5-2 s per round at 1024^2
BATCH_LAYERS = 100 if QUICK else 1000
ISOMETRY_N = 256 if QUICK else 512

EOI = eoi_method("cpu")
PUBLISHED = MatrixWorkload(PUBLISHED_N, PUBLISHED_N, 0.1)
SQUARE_1024 = MatrixWorkload(1024, 1024, 0.1)
BATCH = MatrixWorkload(128, 128, 0.125, count=BATCH_LAYERS)
SQUARE_4096 = MatrixWorkload(4096, 4096, 0.1)
MLP = NetworkWorkload("mlp", BATCH_LAYERS, 128, 0.125, "uniform_dense_ends", fresh_model=True)
ISOMETRY = MatrixWorkload(ISOMETRY_N, ISOMETRY_N, 0.1)

# key (ratios.py names the keys): the registry case measured under it
CASES: dict[str, Case] = {
    "eoi_single": Case("published", EOI, PUBLISHED),
    "published_single": Case("published", "reference", PUBLISHED, PUBLISHED_ROUNDS),
    "eoi_1024": Case("dense-1024", EOI, SQUARE_1024),
    "dense_orthogonal_1024": Case("dense-1024", "orthogonal", SQUARE_1024),
    "floor_1024": Case("dense-1024", "floor", SQUARE_1024),
    "eoi_batch": Case("batch", EOI, BATCH),
    "floor_batch": Case("batch", "floor", BATCH),
    "eoi_4096": Case("large-4096", EOI, SQUARE_4096),
    "eoi_4096_exact": Case("large-4096", EOI, MatrixWorkload(4096, 4096, 0.1, exact_density=True)),
    "floor_4096": Case("large-4096", "floor", SQUARE_4096),
    "sparsify_mlp": Case("sparsify", EOI, MLP, rounds=3),
    "isometry_eoi": Case("isometry", EOI, ISOMETRY, rounds=3),
    "isometry_svd_ai": Case("isometry", "svd_ai", ISOMETRY, rounds=3),
    "isometry_ai_kaiming": Case("isometry", "ai_kaiming", ISOMETRY, rounds=3),
}


@pytest.mark.parametrize("key", CASES)
def test_speed(measure_case, key: str) -> None:
    measure_case(key, CASES[key])
