"""Blocks of W and of its mask built alone (row_range= / col_range= of
eoi_ext.givens.apply_plan / support_mask / top_up_, of the API and of the construction
pipeline eoi_ext.build): equal to slices of the whole matrix, on every backend, for row
and column shards of any world size, exact density and conv kernels included."""

from __future__ import annotations

import pytest
import torch

import eoi_ext
from eoi_ext import givens
from eoi_ext.backends import kernels
from eoi_ext.build import build
from eoi_ext.spec import WeightSpec

SHAPES = [(70, 130), (130, 70), (64, 64), (1, 40), (40, 1), (200, 33)]


def generator(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def spans(size: int) -> list[tuple[int, int]]:
    candidates = {(0, size), (0, 1), (size - 1, size), (size // 3, size - size // 4), (0, 0)}
    return sorted((b, e) for b, e in candidates if 0 <= b <= e <= size)


def shards(size: int, world: int) -> list[tuple[int, int]]:
    """Uneven contiguous shards like torch.chunk / DTensor Shard: ceil-sized, last short."""
    step = -(-size // world)
    return [(min(i * step, size), min((i + 1) * step, size)) for i in range(world)]


@pytest.mark.parametrize(("rows", "cols"), SHAPES, ids=str)
def test_blocks_equal_slices(rows, cols):
    plan = givens.sample_plan(rows, cols, 0.2, count=3, generator=generator(1))
    full, mask = givens.apply_plan(plan), givens.support_mask(plan)
    for r in spans(rows):
        for c in spans(cols):
            block = givens.apply_plan(plan, row_range=r, col_range=c, gain=1.5)
            assert block.shape == (3, r[1] - r[0], c[1] - c[0])
            expected = 1.5 * full[:, r[0] : r[1], c[0] : c[1]]
            assert torch.allclose(block, expected, atol=1e-6, rtol=0), (r, c)
            assert torch.equal(
                givens.support_mask(plan, row_range=r, col_range=c),
                mask[:, r[0] : r[1], c[0] : c[1]],
            )


def test_column_blocks_use_the_adjoint_plan():
    """A narrow block of a wide matrix's columns is computed from rows of B = G^T (fewer
    rows than A has): values agree to rounding, and the adjoint plan is the transpose."""
    plan = givens.sample_plan(64, 64, 0.3, count=2, generator=generator(2))
    offsets, pairs, cos_sin = givens.adjoint_rotations(plan)
    b = torch.empty(2, 64, 64, dtype=torch.float64)
    kernels("cpu").apply_plans(offsets, pairs, cos_sin, 64, 0, 64, False, 1.0, b)
    a = givens.apply_plan(plan, dtype=torch.float64)
    assert torch.allclose(b, a.transpose(1, 2), atol=1e-12, rtol=0)
    block = givens.apply_plan(plan, col_range=(10, 12), dtype=torch.float64)
    assert torch.allclose(block, a[:, :, 10:12], atol=1e-12, rtol=0)


@pytest.mark.parametrize(("rows", "cols"), [(96, 160), (160, 96)])
@pytest.mark.parametrize("world", [1, 2, 3, 4])
def test_shards_reassemble_the_matrix(rows, cols, world):
    seeds = givens.draw_seeds(2, generator(3))
    plan = givens.plan_from_seeds(seeds, rows, cols, 0.1)
    full, mask = givens.apply_plan(plan), givens.support_mask(plan)
    for dim, size in ((1, rows), (2, cols)):
        parts, mask_parts = [], []
        for shard in shards(size, world):
            # Every rank derives the same plan from the same seeds: nothing is communicated.
            own = givens.plan_from_seeds(seeds.clone(), rows, cols, 0.1)
            kwargs = {"row_range": shard} if dim == 1 else {"col_range": shard}
            parts.append(givens.apply_plan(own, **kwargs))
            mask_parts.append(givens.support_mask(own, **kwargs))
        assert torch.allclose(torch.cat(parts, dim), full, atol=1e-6, rtol=0)
        assert torch.equal(torch.cat(mask_parts, dim), mask)


@pytest.mark.parametrize(("rows", "cols"), [(70, 130), (130, 70), (40, 1)])
def test_exact_density_blocks(rows, cols):
    plan = givens.sample_plan(rows, cols, 0.2, count=3, exact_density=True, generator=generator(4))
    target = round(0.2 * rows * cols)
    support = givens.support_mask(plan)
    full = givens.top_up_(support.clone(), plan.seeds, target)  # whole masks: the op
    assert bool((full | support).eq(full).all()), "the top-up removed support positions"
    for b in range(3):
        assert int(full[b].sum()) == max(target, int(support[b].sum()))
    for r in spans(rows):
        for c in spans(cols):
            # A block: the stream replayed against the plan's support bitsets.
            block = givens.support_mask(plan, row_range=r, col_range=c)
            givens.top_up_(block, plan.seeds, target, held=plan, row_range=r, col_range=c)
            assert torch.equal(block, full[:, r[0] : r[1], c[0] : c[1]])
    with pytest.raises(ValueError, match="held"):
        givens.top_up_(block, plan.seeds, target, row_range=(0, 1))


@pytest.mark.parametrize("exact_density", [False, True])
def test_api_ranges(exact_density):
    kwargs = {"exact_density": exact_density, "gain": 2.0, "dtype": torch.float64}
    w, m = eoi_ext.sparse_orthogonal(90, 50, 0.3, generator=generator(5), **kwargs)
    block, block_mask = eoi_ext.sparse_orthogonal(
        90, 50, 0.3, generator=generator(5), row_range=(10, 47), col_range=(3, 50), **kwargs
    )
    assert torch.allclose(block, w[10:47, 3:50], atol=1e-12, rtol=0)
    assert torch.equal(block_mask, m[10:47, 3:50])
    ws, ms = eoi_ext.sparse_orthogonal_batch(3, 20, 30, 0.4, generator=generator(6))
    part, part_mask = eoi_ext.sparse_orthogonal_batch(
        3, 20, 30, 0.4, generator=generator(6), col_range=(5, 9)
    )
    assert torch.allclose(part, ws[:, :, 5:9], atol=1e-6) and torch.equal(part_mask, ms[:, :, 5:9])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"row_range": (5, 3)}, "row_range"),
        ({"row_range": (0, 91)}, "row_range"),
        ({"col_range": (-1, 4)}, "col_range"),
        ({"col_range": (0, 2, 3)}, "col_range"),
        ({"row_range": "all"}, "row_range"),
    ],
)
def test_bad_ranges(kwargs, match):
    with pytest.raises((TypeError, ValueError), match=match):
        eoi_ext.sparse_orthogonal(90, 50, 0.3, **kwargs)


@pytest.mark.parametrize(
    ("shape", "groups", "conv_mode", "exact"),
    [
        ((8, 6, 3, 3), 2, "delta", False),
        ((8, 6, 3), 1, "delta_more", True),
        ((6, 8, 3, 3), 1, "structured", True),
        ((10, 4, 2, 3), 1, "delta", True),
        ((12, 4), 3, "delta", False),
        ((4, 8, 2, 2, 2), 2, "delta", True),
    ],
)
def test_weight_blocks_equal_slices(shape, groups, conv_mode, exact):
    """Blocks of whole weights (conv kernels with their top-up replayed, RNN-style
    groups, several weights per call) from the same generator state as the whole ones."""
    spec = WeightSpec(shape, 0.3, gain=1.1, conv_mode=conv_mode, groups=groups, exact_density=exact)
    w, m = build(spec, count=2, generator=generator(3))
    for rows in [None, (1, min(5, shape[0])), (0, 0), (shape[0] - 1, shape[0])]:
        for cols in [None, (2, 4), (0, 1)]:
            bw, bm = build(spec, count=2, generator=generator(3), row_range=rows, col_range=cols)
            r0, r1 = rows or (0, shape[0])
            c0, c1 = cols or (0, shape[1])
            assert torch.allclose(bw, w[:, r0:r1, c0:c1], atol=1e-6, rtol=0), (rows, cols)
            assert torch.equal(bm, m[:, r0:r1, c0:c1]), (rows, cols)
