"""Speed on a GPU (skipped without one), each case measured in the same run as its anchor.

Every timed function ends with torch.cuda.synchronize(), so a median is the wall time
of the whole call, host work (sampling, tracking, scheduling) included. Groups:
- cuda-4096: sparse_orthogonal 4096 x 4096 at d = 0.1 end to end; apply_plan alone
  (plan sampled beforehand: schedule, copies and the kernel); the write floor (fill_ of
  the same float32 output, i.e. its bytes at the device's write bandwidth).
- cuda-batch: sparse_orthogonal_batch(1000, 128, 128, 0.125) end to end; dense
  torch.nn.init.orthogonal_ of the same 1000 layers on the GPU; allocate-and-zero floor.
- cuda-16384: 16384 x 16384 at d = 0.01 end to end (time and bandwidth).
benchmarks/profile_cuda.py splits one call into host and kernel time.
"""

from __future__ import annotations

import os

import pytest
import torch

import eoi_ext
from eoi_ext import givens

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")

QUICK = os.environ.get("EOI_BENCH_QUICK", "") not in ("", "0")  # as in conftest.py
BATCH_LAYERS = 100 if QUICK else 1000
LARGE = 4096 if QUICK else 16384
SEED = 0


def generator() -> torch.Generator:
    return torch.Generator().manual_seed(SEED)


def synchronized(fn):
    def run():
        result = fn()
        torch.cuda.synchronize()
        return result

    return run


@pytest.mark.benchmark(group="cuda-4096: 4096x4096 d=0.1")
def test_cuda_eoi_4096(measure) -> None:
    g = generator()
    weights, mask = measure(
        "cuda_eoi_4096",
        f"sparse_orthogonal 4096x4096 d=0.1 on {eoi_ext.backend('cuda')}",
        synchronized(
            lambda: eoi_ext.sparse_orthogonal(4096, 4096, 0.1, generator=g, device="cuda")
        ),
    )
    assert weights.is_cuda and mask.is_cuda and weights.shape == (4096, 4096)


@pytest.mark.benchmark(group="cuda-4096: 4096x4096 d=0.1")
def test_cuda_apply_4096(measure) -> None:
    plan = givens.sample_plan(4096, 4096, 0.1, generator=generator())
    weights = measure(
        "cuda_apply_4096",
        "givens.apply_plan 4096x4096 d=0.1 (schedule, copies, kernel)",
        synchronized(lambda: givens.apply_plan(plan, device="cuda")),
    )
    assert weights.shape == (1, 4096, 4096)


@pytest.mark.benchmark(group="cuda-4096: 4096x4096 d=0.1")
def test_cuda_write_floor_4096(measure) -> None:
    out = torch.empty(4096, 4096, device="cuda")
    measure(
        "cuda_write_4096", "fill_ of a 4096x4096 float32 tensor", synchronized(lambda: out.fill_(0))
    )


@pytest.mark.benchmark(group=f"cuda-batch: {BATCH_LAYERS} x 128x128 d=0.125")
def test_cuda_eoi_batch(measure) -> None:
    g = generator()
    weights, _ = measure(
        "cuda_eoi_batch",
        f"sparse_orthogonal_batch {BATCH_LAYERS} x 128x128 d=0.125 on {eoi_ext.backend('cuda')}",
        synchronized(
            lambda: eoi_ext.sparse_orthogonal_batch(
                BATCH_LAYERS, 128, 128, 0.125, generator=g, device="cuda"
            )
        ),
    )
    assert weights.shape == (BATCH_LAYERS, 128, 128)


@pytest.mark.benchmark(group=f"cuda-batch: {BATCH_LAYERS} x 128x128 d=0.125")
def test_cuda_dense_orthogonal_batch(measure) -> None:
    weights = torch.empty(BATCH_LAYERS, 128, 128, device="cuda")

    def dense() -> torch.Tensor:
        for layer in weights:
            torch.nn.init.orthogonal_(layer)
        return weights

    measure(
        "cuda_dense_orthogonal_batch",
        f"torch.nn.init.orthogonal_ on {BATCH_LAYERS} CUDA layers of 128x128 (dense)",
        synchronized(dense),
        rounds=3,
    )


@pytest.mark.benchmark(group=f"cuda-batch: {BATCH_LAYERS} x 128x128 d=0.125")
def test_cuda_floor_batch(measure) -> None:
    measure(
        "cuda_floor_batch",
        f"zeros float32 + bool {BATCH_LAYERS} x 128x128 on the GPU",
        synchronized(
            lambda: (
                torch.zeros(BATCH_LAYERS, 128, 128, device="cuda"),
                torch.zeros(BATCH_LAYERS, 128, 128, dtype=torch.bool, device="cuda"),
            )
        ),
    )


@pytest.mark.benchmark(group=f"cuda-large: {LARGE}x{LARGE} d=0.01")
def test_cuda_eoi_large(measure) -> None:
    g = generator()
    weights, _ = measure(
        "cuda_eoi_large",
        f"sparse_orthogonal {LARGE}x{LARGE} d=0.01 on {eoi_ext.backend('cuda')}",
        synchronized(
            lambda: eoi_ext.sparse_orthogonal(LARGE, LARGE, 0.01, generator=g, device="cuda")
        ),
        rounds=5,
    )
    assert weights.shape == (LARGE, LARGE)
