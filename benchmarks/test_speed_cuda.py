"""Speed on a GPU (skipped without one), each case measured in the same run as its anchor.

Every case is a registry contender on a workload (eoi_ext.lab.bench.CONTENDERS), timed
through timing.synchronized: a device synchronization before and after each call, so a
median is the wall time of the whole call, host work (sampling, tracking, scheduling)
included. `eoi` is EOI on the CUDA device's active backend. Groups:
- cuda-4096: sparse_orthogonal 4096 x 4096 at d = 0.1 end to end; apply_plan alone
  (plan sampled beforehand: schedule, copies and the kernel); the write floor (fill_ of
  the same float32 output, i.e. its bytes at the device's write bandwidth).
- cuda-batch: sparse_orthogonal_batch(1000, 128, 128, 0.125) end to end; dense
  torch.nn.init.orthogonal_ of the same 1000 layers on the GPU; allocate-and-zero floor.
- cuda-large: 16384 x 16384 at d = 0.01 end to end (time and bandwidth).
benchmarks/profile_cuda.py splits one call into host and kernel time.
"""

from __future__ import annotations

import os

import pytest
import torch

from eoi_ext.lab.bench import Case, MatrixWorkload, eoi_method

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")

QUICK = os.environ.get("EOI_BENCH_QUICK", "") not in ("", "0")  # as in conftest.py
BATCH_LAYERS = 100 if QUICK else 1000
LARGE = 4096 if QUICK else 16384

EOI = eoi_method("cuda")
SQUARE_4096 = MatrixWorkload(4096, 4096, 0.1)
BATCH = MatrixWorkload(128, 128, 0.125, count=BATCH_LAYERS)

# key (ratios.py names the keys): the registry case measured under it
CASES: dict[str, Case] = {
    "cuda_eoi_4096": Case("cuda-4096", EOI, SQUARE_4096),
    "cuda_apply_4096": Case("cuda-4096", "apply_plan", SQUARE_4096),
    "cuda_write_4096": Case("cuda-4096", "write_floor", SQUARE_4096),
    "cuda_eoi_batch": Case("cuda-batch", EOI, BATCH),
    "cuda_dense_orthogonal_batch": Case("cuda-batch", "orthogonal", BATCH, rounds=3),
    "cuda_floor_batch": Case("cuda-batch", "floor", BATCH),
    "cuda_eoi_large": Case("cuda-large", EOI, MatrixWorkload(LARGE, LARGE, 0.01), rounds=5),
}


@pytest.mark.parametrize("key", CASES)
def test_speed_cuda(measure_case, key: str) -> None:
    measure_case(key, CASES[key], "cuda")
