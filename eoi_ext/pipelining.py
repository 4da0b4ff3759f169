"""Chunks of a batch built one after another, so that the host's work on a chunk overlaps
the GPU's work on the previous one (issue 16, item 6).

A build's host work (sampling and tracking each plan, csrc/core/parallel_tracker.h; the
level schedule, csrc/ops_cuda.cpp) and its device work (the mask and apply kernels) are
sequential for one matrix but independent between matrices. The kernel launches return
at once, so a batch built chunk by chunk has the GPU write chunk k while the host plans
chunk k + 1: the host's time is hidden behind the device's except for the first chunk.

Every matrix is built from its own seeds (drawn for the whole batch first,
eoi_ext/build.py), so chunked and whole builds give the same bits
(tests/test_pipelining.py).
"""

from __future__ import annotations

import itertools

import torch

__all__ = ["build_chunks"]

# Chunks of a pipelined batch: the host work of all but the first is hidden; more chunks
# would only add launches (three kernels per chunk and group).
PIPELINE_CHUNKS = 4
# Below this many entries in a batch, a chunk's device work is shorter than its launches.
MIN_PIPELINED_ENTRIES = 1 << 22


def build_chunks(
    count: int, entries_per_weight: int, device: torch.device, into_out: bool
) -> list[tuple[int, int]]:
    """Spans [begin, end) of the `count` weights to build one after another: several
    for a large batch on a CUDA device, else one.

    A build into a caller's `out` stays whole: a failure after a first chunk would leave
    `out` half-written, and a build must leave it unwritten (docs/reliability.md,
    "Nothing half-changed"). Every front end that builds batches allocates its own.
    """
    pipelined = (
        device.type == "cuda"
        and not into_out
        and count >= 2
        and count * entries_per_weight >= MIN_PIPELINED_ENTRIES
    )
    chunks = min(count, PIPELINE_CHUNKS) if pipelined else 1
    bounds = [count * c // chunks for c in range(chunks + 1)]
    return list(itertools.pairwise(bounds))
