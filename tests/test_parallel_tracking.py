"""The sample_plans op tracks one large matrix on several threads (csrc/ops.cpp; the core's
csrc/core/parallel_tracker.h, whose ctest checks it against the sequential tracker): the
plan must not depend on the thread count, for both stopping rules and for calls with
fewer matrices than threads."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import requires_extension

pytestmark = requires_extension


@pytest.fixture
def restore_threads():
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


@pytest.mark.parametrize("at_most", [False, True])
@pytest.mark.parametrize(
    ("n", "m", "density", "count"), [(4096, 4096, 0.1, 1), (4096, 4100, 0.02, 2)]
)
def test_plan_does_not_depend_on_threads(restore_threads, n, m, density, count, at_most):
    from eoi_ext import ops

    seeds = torch.arange(11, 11 + count, dtype=torch.long)
    torch.set_num_threads(1)
    one = ops.sample_plans(seeds, n, m, density, at_most)
    for threads in (2, 4):  # 4 on a 2-core machine still runs 4 workers
        torch.set_num_threads(threads)
        many = ops.sample_plans(seeds, n, m, density, at_most)
        for name, a, b in zip(("offsets", "pairs", "cos_sin", "support"), one, many, strict=True):
            assert torch.equal(a, b), f"{name} differs on {threads} threads"
    # The rule stopped at the target, so the supports compared above are not trivial.
    entries = np.unpackbits(one[3].numpy().view(np.uint8)).reshape(count, -1).sum(axis=1)
    target = density * n * m
    assert all(abs(int(e) - target) < 0.01 * target for e in entries)
    assert not at_most or all(e <= target for e in entries)
