"""Every zero an apply writes in float32 or float64 is +0, on every backend (issue 16,
item 7). A rotation of two zero coordinates can leave -0, and the backends rotate
different zeros (the CPU core skips coordinates that are zero in its whole tile, the GPU
and the fallback do not), so equal matrices used to differ in the sign bit (10389 of
65536 entries of 4 x 128 x 128 were -0 on cpu-ext, 12866 on the fallback). The GPU tile
logic's own check against the core is bitwise (csrc/cuda/tests/test_rotation_tile.cpp)."""

from __future__ import annotations

import pytest
import torch
from conftest import extension_loaded

from eoi_ext import fallback, givens

IMPLS = [fallback]
if extension_loaded():
    from eoi_ext import ops

    IMPLS.append(ops)


@pytest.mark.parametrize("impl", IMPLS, ids=lambda impl: impl.__name__.rsplit(".", 1)[-1])
# float16 and bfloat16 outputs keep the -0 of a tiny negative value's underflow in the
# conversion, which every backend rounds alike (to nearest even) from the same float.
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize(("n", "m", "density", "gain"), [(128, 128, 0.125, 1.0),
                                                         (70, 130, 0.2, -2.0)])  # fmt: skip
def test_zeros_are_positive(impl, dtype, n, m, density, gain):
    plan = givens.sample_plan(n, m, density, count=4, generator=torch.Generator().manual_seed(1))
    for transposed in (False, True):
        out = torch.full((4, m, n) if transposed else (4, n, m), float("nan"), dtype=dtype)
        impl.apply_plans(plan.offsets, plan.pairs, plan.cos_sin, m, 0, n, transposed, gain,
                         out, 0, -1)  # fmt: skip
        zeros = out == 0
        assert zeros.sum() > out.numel() // 2  # sparse: most entries are zeros
        assert not torch.signbit(out[zeros]).any()


def test_whole_init_has_no_negative_zero():
    weight = torch.empty(256, 256)
    from eoi_ext.init import sparse_orthogonal_

    sparse_orthogonal_(weight, 0.1, generator=torch.Generator().manual_seed(0))
    assert not torch.signbit(weight[weight == 0]).any()
