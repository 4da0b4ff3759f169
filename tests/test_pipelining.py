"""A batch built chunk by chunk (eoi_ext/pipelining.py, for GPU outputs) equals the
batch built whole: the chunking is forced on the CPU here, where the bits are checked,
since no GPU runs in CI."""

from __future__ import annotations

import itertools

import pytest
import torch

import eoi_ext
from eoi_ext import build as build_module
from eoi_ext.build import build
from eoi_ext.pipelining import MIN_PIPELINED_ENTRIES, PIPELINE_CHUNKS, build_chunks
from eoi_ext.spec import WeightSpec

CUDA, CPU = torch.device("cuda"), torch.device("cpu")


def test_chunks_only_for_large_batches_on_a_gpu_into_fresh_tensors() -> None:
    big = MIN_PIPELINED_ENTRIES
    assert build_chunks(1000, 128 * 128, CUDA, into_out=False) == [
        (0, 250),
        (250, 500),
        (500, 750),
        (750, 1000),
    ]
    assert build_chunks(3, big, CUDA, into_out=False) == [(0, 1), (1, 2), (2, 3)]
    assert build_chunks(1000, 128 * 128, CPU, into_out=False) == [(0, 1000)]
    assert build_chunks(1000, 128 * 128, CUDA, into_out=True) == [(0, 1000)]
    assert build_chunks(1, big, CUDA, into_out=False) == [(0, 1)]
    assert build_chunks(4, big // 8, CUDA, into_out=False) == [(0, 4)]  # too small


@pytest.mark.parametrize("count", [2, 7, 1000])
def test_chunks_cover_the_batch_in_order(count: int) -> None:
    chunks = build_chunks(count, MIN_PIPELINED_ENTRIES, CUDA, into_out=False)
    assert len(chunks) == min(count, PIPELINE_CHUNKS)
    assert chunks[0][0] == 0 and chunks[-1][1] == count
    assert all(a[1] == b[0] and a[0] < a[1] for a, b in itertools.pairwise(chunks))


SPECS = {
    "matrix": (WeightSpec((24, 40), 0.3), None, None),
    "tall exact": (WeightSpec((40, 24), 0.2, exact_density=True), None, None),
    "groups, row block": (WeightSpec((32, 16), 0.25, groups=4), (5, 27), None),
    "column block": (WeightSpec((24, 40), 0.3, exact_density=True), None, (7, 33)),
    "kernel": (WeightSpec((12, 8, 3, 3), 0.2), None, None),
    "kernel exact, block": (WeightSpec((12, 8, 3, 3), 0.2, exact_density=True), (2, 9), (1, 6)),
    "structured": (WeightSpec((12, 8, 3), 0.3, conv_mode="structured"), None, None),
    "delta_more": (WeightSpec((12, 8, 3, 3), 0.2, conv_mode="delta_more"), None, None),
}


def _forced(chunks: list[tuple[int, int]]):
    return lambda count, entries, device, into_out: chunks


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("name", list(SPECS))
def test_chunked_build_equals_whole(
    name: str, dtype: torch.dtype, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec, rows, cols = SPECS[name]
    whole_gen, chunked_gen = torch.Generator().manual_seed(5), torch.Generator().manual_seed(5)
    want_w, want_m = build(spec, count=7, generator=whole_gen, row_range=rows, col_range=cols,
                           dtype=dtype)  # fmt: skip
    monkeypatch.setattr(build_module, "build_chunks", _forced([(0, 1), (1, 4), (4, 7)]))
    got_w, got_m = build(spec, count=7, generator=chunked_gen, row_range=rows, col_range=cols,
                         dtype=dtype)  # fmt: skip
    assert got_w.dtype == dtype and got_m.dtype == torch.bool
    assert got_w.shape == want_w.shape and got_m.shape == want_m.shape
    assert torch.equal(got_w.view(-1).view(torch.uint8), want_w.view(-1).view(torch.uint8))
    assert torch.equal(got_m, want_m)
    assert torch.equal(chunked_gen.get_state(), whole_gen.get_state())  # same draws


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
@pytest.mark.parametrize("exact_density", [False, True])
def test_pipelined_gpu_batch_equals_cpu(exact_density: bool) -> None:
    count, rows, cols = 300, 128, 128  # 4.9M entries: built in chunks on a GPU
    assert len(build_chunks(count, rows * cols, CUDA, into_out=False)) == PIPELINE_CHUNKS
    args = (count, rows, cols, 0.125)
    cpu = eoi_ext.sparse_orthogonal_batch(
        *args, exact_density=exact_density, generator=torch.Generator().manual_seed(3)
    )
    gpu = eoi_ext.sparse_orthogonal_batch(
        *args, exact_density=exact_density, generator=torch.Generator().manual_seed(3),
        device="cuda",
    )  # fmt: skip
    assert torch.equal(gpu[1].cpu(), cpu[1])
    # Within float rounding, as in tests/test_cuda.py (the fallback on a GPU is not bitwise).
    assert (gpu[0].cpu().double() - cpu[0].double()).abs().max().item() <= 1e-6
