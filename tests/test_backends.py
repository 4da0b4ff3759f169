"""Backends (docs/backends.md): the compiled ops agree with the pure-PyTorch fallback, the
lower-level eoi_ext.givens API (levels, blocks), eoi_ext.backend(), the thread-safe
override, opcheck and torch.compile of the ops.

Not parametrized over backends: CI runs the suite once with EOI_EXT_BACKEND=ext and once
with EOI_EXT_BACKEND=python. Tests calling eoi_ext.ops directly skip without the extension.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import threading

import pytest
import torch
from conftest import extension_loaded, requires_extension

import eoi_ext
from eoi_ext import fallback, givens

# (rows, cols, density): square, wide, tall, degenerate, more than 64 rows of A (several
# support words), and shapes not multiples of the CPU tile width.
CASES = [
    (1, 1, 1.0),
    (1, 13, 0.5),
    (13, 1, 0.5),
    (16, 16, 0.3),
    (10, 33, 0.25),
    (33, 10, 0.25),
    (70, 130, 0.2),
    (130, 70, 0.2),
    (3, 200, 0.9),
    (64, 64, 1.0),
    (128, 200, 0.05),
]
CASE_IDS = [f"{r}x{c}@{d}" for r, c, d in CASES]
SEEDS = [0, 1, 2**40 + 3]


def seeds_for(seed: int, count: int = 3) -> torch.Tensor:
    return givens.draw_seeds(count, torch.Generator().manual_seed(seed))


def row_block(result: torch.Tensor, plan, begin: int, end: int) -> torch.Tensor:
    """Rows begin..end-1 of A in the layout of a full apply / support result."""
    return result[:, :, begin:end] if plan.transposed else result[:, begin:end, :]


def row_ranges(n: int) -> list[tuple[int, int]]:
    ranges = {(0, n), (0, 0), (n, n), (0, 1), (n - 1, n), (n // 3, (2 * n) // 3 + 1)}
    if n > 70:
        ranges |= {(5, 69), (64, n), (63, 65)}
    return sorted((b, min(e, n)) for b, e in ranges)


# ---------------------------------------------------------------------------------------
# eoi_ext.backend()
# ---------------------------------------------------------------------------------------


def test_backend_name():
    requested = os.environ.get("EOI_EXT_BACKEND", "auto").strip().lower()
    if requested == "python":
        assert eoi_ext.backend() == "python"
        assert not extension_loaded()
    elif requested == "ext":
        assert eoi_ext.backend() == "cpu-ext", "EOI_EXT_BACKEND=ext must load the extension"
    if extension_loaded():
        assert eoi_ext.backend() == "cpu-ext"
        assert eoi_ext.backend("cpu") == "cpu-ext"
        assert eoi_ext.backend(torch.device("cpu")) == "cpu-ext"
        assert eoi_ext.backend(None) == "cpu-ext"
    else:
        assert eoi_ext.backend() == "python"


def test_backend_for_other_devices():
    assert eoi_ext.backend("meta") == "python"
    assert eoi_ext.backend(torch.device("meta")) == "python"
    # CPU-only builds leave CUDA tensors to the fallback.
    if "cuda-ext" in eoi_ext.build_info().get("backends", ()):
        assert eoi_ext.backend("cuda") == "cuda-ext"
    else:
        assert eoi_ext.backend("cuda") == "python"


def test_build_info():
    info = eoi_ext.build_info()
    if info["loaded"]:
        assert info["torch_version"] == torch.__version__
        assert "cpu-ext" in info["backends"]
        # cuda_version / cuda_archs say what the CUDA kernels were built with (None / ""
        # in CPU-only builds).
        has_cuda = "cuda-ext" in info["backends"]
        assert (info["cuda_version"] is not None) == has_cuda
        assert bool(info["cuda_archs"]) == has_cuda
    else:
        assert isinstance(info["reason"], str) and info["reason"]


def test_kernels_follow_the_backend():
    from eoi_ext import fallback, ops
    from eoi_ext.backends import kernels

    assert kernels("meta") is fallback
    assert kernels("cpu") is (ops if extension_loaded() else fallback)
    with eoi_ext.use_python_backend():
        assert kernels("cpu") is fallback
        with eoi_ext.use_python_backend():  # nested blocks restore the outer state
            pass
        assert eoi_ext.backend("cpu") == "python"
    assert eoi_ext.backend("cpu") == ("cpu-ext" if extension_loaded() else "python")


def test_python_backend_override_is_per_thread():
    """A thread inside use_python_backend() leaves other threads on their backend."""
    entered, release = threading.Event(), threading.Event()
    seen = {}

    def forced() -> None:
        with eoi_ext.use_python_backend():
            seen["forced"] = eoi_ext.backend("cpu")
            entered.set()
            release.wait(timeout=30)

    thread = threading.Thread(target=forced)
    thread.start()
    try:
        assert entered.wait(timeout=30)
        seen["other"] = eoi_ext.backend("cpu")
    finally:
        release.set()
        thread.join()
    assert seen["forced"] == "python"
    assert seen["other"] == ("cpu-ext" if extension_loaded() else "python")


@requires_extension
def test_fake_kernels_are_registered_at_import():
    """`import eoi_ext` alone registers the fake kernels: the ops run on meta tensors in a
    fresh process that never touched eoi_ext.givens."""
    code = (
        "import torch, eoi_ext\n"
        "offsets = torch.empty(3, dtype=torch.int64, device='meta')\n"
        "pairs = torch.empty(5, 2, dtype=torch.int32, device='meta')\n"
        "levels = torch.ops.eoi_ext.rotation_levels(offsets, pairs, 9)\n"
        "assert levels.shape == (5,) and levels.device.type == 'meta', levels\n"
        "print('ok')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=os.environ.copy()
    )
    assert result.returncode == 0 and "ok" in result.stdout, result.stderr


# ---------------------------------------------------------------------------------------
# Compiled ops vs. the fallback, op by op
# ---------------------------------------------------------------------------------------


@requires_extension
@pytest.mark.parametrize("at_most", [False, True], ids=["nearest", "at_most"])
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(("rows", "cols", "density"), CASES, ids=CASE_IDS)
def test_sample_plans_agree(rows, cols, density, seed, at_most):
    from eoi_ext import ops

    n, m = min(rows, cols), max(rows, cols)
    seeds = seeds_for(seed)
    ext = ops.sample_plans(seeds, n, m, density, at_most)
    ref = fallback.sample_plans(seeds, n, m, density, at_most)
    for name, a, b in zip(("offsets", "pairs", "cos_sin", "support"), ext, ref, strict=True):
        assert a.dtype == b.dtype, f"{name}: dtype {a.dtype} vs {b.dtype}"
        assert a.shape == b.shape, f"{name}: shape {tuple(a.shape)} vs {tuple(b.shape)}"
        if name == "cos_sin":
            diff = (a - b).abs().max().item() if a.numel() else 0.0
            assert diff <= 1e-15, f"cos_sin differs by {diff:.2e}"
        else:
            assert torch.equal(a, b), f"{name} differs between cpu-ext and python"


@requires_extension
def test_sample_plans_edge_seeds():
    """Seeds at the ends of the int64 range (the stream works on their uint64 bits)."""
    from eoi_ext import ops

    seeds = torch.tensor([0, 1, -1, 2**63 - 1, -(2**63)], dtype=torch.int64)
    ext = ops.sample_plans(seeds, 12, 20, 0.4, False)
    ref = fallback.sample_plans(seeds, 12, 20, 0.4, False)
    assert torch.equal(ext[0], ref[0]) and torch.equal(ext[1], ref[1])
    assert torch.equal(ext[3], ref[3])
    assert torch.allclose(ext[2], ref[2], atol=1e-15, rtol=0)


@requires_extension
def test_sample_plans_empty_batch():
    from eoi_ext import ops

    seeds = torch.zeros(0, dtype=torch.int64)
    ext = ops.sample_plans(seeds, 5, 9, 0.5, False)
    ref = fallback.sample_plans(seeds, 5, 9, 0.5, False)
    for a, b in zip(ext, ref, strict=True):
        assert a.shape == b.shape and a.dtype == b.dtype
    assert ext[0].tolist() == [0]


@requires_extension
@pytest.mark.parametrize(("rows", "cols", "density"), CASES, ids=CASE_IDS)
def test_rotation_levels_agree(rows, cols, density):
    from eoi_ext import ops

    plan = givens.sample_plan(
        rows, cols, density, count=3, generator=torch.Generator().manual_seed(5)
    )
    ext = ops.rotation_levels(plan.offsets, plan.pairs, plan.m)
    ref = fallback.rotation_levels(plan.offsets, plan.pairs, plan.m)
    assert ext.dtype == ref.dtype == torch.int32
    assert torch.equal(ext, ref)


@requires_extension
@pytest.mark.parametrize(
    ("dtype", "tol"),
    [(torch.float32, 1e-6), (torch.float64, 1e-12), (torch.float16, 1e-3), (torch.bfloat16, 1e-2)],
    ids=["f32", "f64", "f16", "bf16"],
)
@pytest.mark.parametrize(("rows", "cols", "density"), CASES, ids=CASE_IDS)
def test_apply_plans_agree(rows, cols, density, dtype, tol):
    from eoi_ext import ops

    plan = givens.sample_plan(
        rows, cols, density, count=2, generator=torch.Generator().manual_seed(6)
    )
    for gain in (1.0, -2.0):
        for begin, end in row_ranges(plan.n):
            k = end - begin
            shape = (plan.count, plan.m, k) if plan.transposed else (plan.count, k, plan.m)
            ext = torch.full(shape, float("nan"), dtype=dtype)
            ref = torch.full(shape, float("nan"), dtype=dtype)
            args = (
                plan.offsets,
                plan.pairs,
                plan.cos_sin,
                plan.m,
                begin,
                end,
                plan.transposed,
                gain,
            )
            ops.apply_plans(*args, ext)
            fallback.apply_plans(*args, ref)
            assert not ext.isnan().any(), f"rows {begin}:{end}: ext left entries unwritten"
            diff = (ext.double() - ref.double()).abs().max().item() if ext.numel() else 0.0
            assert diff <= tol * abs(gain), (
                f"rows {begin}:{end} gain {gain}: cpu-ext and python differ by {diff:.2e}"
            )


@requires_extension
@pytest.mark.parametrize(("rows", "cols", "density"), CASES, ids=CASE_IDS)
def test_support_masks_agree(rows, cols, density):
    from eoi_ext import ops

    plan = givens.sample_plan(
        rows, cols, density, count=3, generator=torch.Generator().manual_seed(7)
    )
    for begin, end in row_ranges(plan.n):
        k = end - begin
        shape = (plan.count, plan.m, k) if plan.transposed else (plan.count, k, plan.m)
        ext = torch.zeros(shape, dtype=torch.bool)
        ref = torch.ones(shape, dtype=torch.bool)
        args = (plan.support, plan.n, plan.m, begin, end, plan.transposed)
        ops.support_masks(*args, ext)
        fallback.support_masks(*args, ref)
        assert torch.equal(ext, ref), f"rows {begin}:{end}: masks differ"


@requires_extension
@pytest.mark.parametrize("fraction", [0.0, 0.3, 0.5, 0.99, 1.0, 1.5])
@pytest.mark.parametrize(("rows", "cols", "density"), CASES, ids=CASE_IDS)
def test_top_up_masks_agree(rows, cols, density, fraction):
    from eoi_ext import ops

    plan = givens.sample_plan(
        rows, cols, density, count=3, exact_density=True, generator=torch.Generator().manual_seed(8)
    )
    base = givens.support_mask(plan)
    target = round(fraction * rows * cols)
    ext, ref = base.clone(), base.clone()
    ops.top_up_masks(plan.seeds, target, ext)
    fallback.top_up_masks(plan.seeds, target, ref)
    assert torch.equal(ext, ref), f"target {target}: top-up masks differ"
    expected = max(min(target, rows * cols), int(base[0].sum()))
    assert int(ext[0].sum()) == expected
    assert bool((ext | base).eq(ext).all()), "top-up removed a support position"


@requires_extension
@pytest.mark.parametrize("exact_density", [False, True])
@pytest.mark.parametrize(("rows", "cols", "density"), CASES, ids=CASE_IDS)
def test_givens_pipeline_agrees(rows, cols, density, exact_density):
    """The whole public pipeline, forced onto each backend, gives the same matrices."""

    def build():
        weights, masks = eoi_ext.sparse_orthogonal_batch(
            2,
            rows,
            cols,
            density,
            exact_density=exact_density,
            generator=torch.Generator().manual_seed(9),
        )
        plan = givens.sample_plan(
            rows,
            cols,
            density,
            count=2,
            exact_density=exact_density,
            generator=torch.Generator().manual_seed(9),
        )
        return weights, masks, plan

    ext_W, ext_M, ext_plan = build()
    with eoi_ext.use_python_backend():
        py_W, py_M, py_plan = build()
    assert torch.equal(ext_plan.offsets, py_plan.offsets)
    assert torch.equal(ext_M, py_M), "masks differ between cpu-ext and python"
    diff = (ext_W - py_W).abs().max().item()
    assert diff <= 1e-6, f"weights differ by {diff:.2e} between cpu-ext and python"


# ---------------------------------------------------------------------------------------
# Levels (docs/levels.md)
# ---------------------------------------------------------------------------------------


def asap_levels(offsets: torch.Tensor, pairs: torch.Tensor, m: int) -> list[int]:
    """Independent ASAP schedule: level(k) = max(last[i], last[j]), 0-based."""
    levels = []
    bounds = offsets.tolist()
    flat = pairs.tolist()
    for begin, end in itertools.pairwise(bounds):
        last = [0] * m
        for i, j in flat[begin:end]:
            level = max(last[i], last[j])
            levels.append(level)
            last[i] = last[j] = level + 1
    return levels


@pytest.mark.parametrize(("rows", "cols", "density"), CASES, ids=CASE_IDS)
def test_rotation_levels_are_disjoint_asap(rows, cols, density):
    plan = givens.sample_plan(
        rows, cols, density, count=3, generator=torch.Generator().manual_seed(10)
    )
    levels = givens.rotation_levels(plan)
    assert levels.dtype == torch.int32 and levels.shape == (plan.pairs.shape[0],)
    assert levels.tolist() == asap_levels(plan.offsets, plan.pairs, plan.m)
    offsets = plan.offsets.tolist()
    for b in range(plan.count):
        lv = levels[offsets[b] : offsets[b + 1]].tolist()
        pairs = plan.pairs[offsets[b] : offsets[b + 1]].tolist()
        touched: dict[int, set[int]] = {}
        for level, (i, j) in zip(lv, pairs, strict=True):
            coords = touched.setdefault(level, set())
            assert i != j, f"rotation on ({i}, {i})"
            assert i not in coords and j not in coords, (
                f"matrix {b}: level {level} touches coordinate {i} or {j} twice"
            )
            coords.update((i, j))
        if lv:
            assert sorted(set(lv)) == list(range(max(lv) + 1)), "levels are not contiguous"


def test_levels_are_few():
    """1024x1024 at 0.1: about 2,400 rotations in a few dozen levels (docs/levels.md)."""
    plan = givens.sample_plan(1024, 1024, 0.1, generator=torch.Generator().manual_seed(0))
    R = int(plan.rotation_counts[0])
    depth = int(givens.rotation_levels(plan).max()) + 1
    assert 2000 <= R <= 3000, f"R = {R}"
    assert depth <= 40, f"{R} rotations fall into {depth} levels"


def sequential_apply(plan, b: int) -> torch.Tensor:
    """A_b = [I_n | 0] G_1 ... G_R in float64, one rotation at a time (no levels)."""
    A = torch.eye(plan.n, plan.m, dtype=torch.float64)
    offsets = plan.offsets.tolist()
    for k in range(offsets[b], offsets[b + 1]):
        i, j = plan.pairs[k].tolist()
        c, s = plan.cos_sin[k].tolist()
        ci, cj = A[:, i].clone(), A[:, j].clone()
        A[:, i] = c * ci - s * cj
        A[:, j] = s * ci + c * cj
    return A


@pytest.mark.parametrize(
    ("rows", "cols", "density"), [(16, 16, 0.3), (10, 33, 0.25), (33, 10, 0.25), (1, 13, 0.5)]
)
def test_apply_plan_equals_sequential_rotations(rows, cols, density):
    plan = givens.sample_plan(
        rows, cols, density, count=2, generator=torch.Generator().manual_seed(11)
    )
    W = givens.apply_plan(plan, dtype=torch.float64, gain=1.5)
    for b in range(plan.count):
        A = sequential_apply(plan, b)
        expected = 1.5 * (A.T if plan.transposed else A)
        diff = (W[b] - expected).abs().max().item()
        assert diff <= 1e-13, f"matrix {b}: differs from sequential application by {diff:.2e}"


# ---------------------------------------------------------------------------------------
# The givens API: blocks of rows of A (W's rows, or W's columns when tall)
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize(("rows", "cols", "density"), CASES, ids=CASE_IDS)
def test_rows_of_a_are_slices_of_full(rows, cols, density, dtype):
    """A block of whole rows of A is computed from the same rows as the whole matrix:
    bit-identical to the slice."""
    plan = givens.sample_plan(
        rows, cols, density, count=2, generator=torch.Generator().manual_seed(12)
    )
    full_W = givens.apply_plan(plan, dtype=dtype, gain=0.5)
    full_M = givens.support_mask(plan)
    assert full_W.shape == (2, rows, cols) and full_M.shape == (2, rows, cols)
    for begin, end in row_ranges(plan.n):
        span = {"col_range" if plan.transposed else "row_range": (begin, end)}
        part_W = givens.apply_plan(plan, dtype=dtype, gain=0.5, **span)
        part_M = givens.support_mask(plan, **span)
        expected_shape = (2, rows, end - begin) if plan.transposed else (2, end - begin, cols)
        assert part_W.shape == expected_shape and part_M.shape == expected_shape
        assert torch.equal(part_W, row_block(full_W, plan, begin, end)), (
            f"apply_plan rows {begin}:{end} differ from the full result"
        )
        assert torch.equal(part_M, row_block(full_M, plan, begin, end)), (
            f"support_mask rows {begin}:{end} differ from the full result"
        )


@pytest.mark.parametrize("name", ["row_range", "col_range"])
@pytest.mark.parametrize(("rows", "cols"), [(10, 30), (30, 10)])
def test_bad_block(rows, cols, name):
    plan = givens.sample_plan(rows, cols, 0.3, generator=torch.Generator().manual_seed(0))
    size = rows if name == "row_range" else cols
    for span in [(-1, 2), (3, 2), (0, size + 1), (size + 1, size + 1)]:
        with pytest.raises(ValueError, match=name):
            givens.apply_plan(plan, **{name: span})
        with pytest.raises(ValueError, match=name):
            givens.support_mask(plan, **{name: span})
    with pytest.raises(TypeError, match=name):
        givens.apply_plan(plan, **{name: (0, 1.5)})


def test_plan_properties():
    plan = givens.sample_plan(30, 12, 0.3, count=4, generator=torch.Generator().manual_seed(0))
    assert (plan.n, plan.m, plan.transposed, plan.count) == (12, 30, True, 4)
    assert plan.seeds.dtype == torch.int64 and plan.seeds.shape == (4,)
    assert plan.offsets.dtype == torch.int64 and plan.offsets.shape == (5,)
    assert plan.offsets[0] == 0 and plan.offsets[-1] == plan.pairs.shape[0]
    assert plan.pairs.dtype == torch.int32 and plan.cos_sin.dtype == torch.float64
    assert plan.support.shape == (4, 30, 1) and plan.support.dtype == torch.int64
    assert torch.equal(plan.rotation_counts, plan.offsets.diff())
    assert bool((plan.pairs >= 0).all() and (plan.pairs < plan.m).all())
    assert bool((plan.pairs[:, 0] != plan.pairs[:, 1]).all())
    norms = plan.cos_sin.pow(2).sum(dim=1)
    assert torch.allclose(norms, torch.ones_like(norms), atol=1e-15, rtol=0)


def test_draw_seeds_contract():
    """Seed b is draw number b of torch.randint(0, 2**63 - 1, (count,), generator=g)."""
    seeds = givens.draw_seeds(5, torch.Generator().manual_seed(3))
    expected = torch.randint(0, 2**63 - 1, (5,), generator=torch.Generator().manual_seed(3))
    assert torch.equal(seeds, expected)
    g = torch.Generator().manual_seed(3)
    one_by_one = torch.cat([givens.draw_seeds(1, g) for _ in range(5)])
    assert torch.equal(seeds, one_by_one)


def test_plan_from_seeds_matches_sample_plan():
    g = torch.Generator().manual_seed(4)
    plan = givens.sample_plan(20, 25, 0.3, count=3, generator=g)
    again = givens.plan_from_seeds(plan.seeds, 20, 25, 0.3)
    for name in ("offsets", "pairs", "cos_sin", "support"):
        assert torch.equal(getattr(plan, name), getattr(again, name)), name


# ---------------------------------------------------------------------------------------
# opcheck and torch.compile (compiled extension only)
# ---------------------------------------------------------------------------------------

ALL_UTILS = (
    "test_schema",
    "test_autograd_registration",
    "test_faketensor",
    "test_aot_dispatch_static",
    "test_aot_dispatch_dynamic",
)


def opcheck_cases():
    plan = givens.sample_plan(6, 9, 0.5, count=2, generator=torch.Generator().manual_seed(0))
    tall = givens.sample_plan(9, 6, 0.5, count=2, generator=torch.Generator().manual_seed(1))
    ops = torch.ops.eoi_ext
    return [
        # sample_plans' number of rotations is data-dependent: without a ShapeEnv
        # (test_aot_dispatch_static) its fake kernel cannot allocate an unbacked size and
        # raises DynamicOutputShapeException by design. The dynamic AOT test covers it.
        (
            "sample_plans",
            ops.sample_plans.default,
            (plan.seeds, 6, 9, 0.5, False),
            tuple(u for u in ALL_UTILS if u != "test_aot_dispatch_static"),
        ),
        (
            "sample_plans_at_most",
            ops.sample_plans.default,
            (plan.seeds, 6, 9, 0.5, True),
            tuple(u for u in ALL_UTILS if u != "test_aot_dispatch_static"),
        ),
        ("rotation_levels", ops.rotation_levels.default, (plan.offsets, plan.pairs, 9), ALL_UTILS),
        (
            "apply_plans",
            ops.apply_plans.default,
            (plan.offsets, plan.pairs, plan.cos_sin, 9, 0, 6, False, 1.5, torch.empty(2, 6, 9)),
            ALL_UTILS,
        ),
        (
            "apply_plans_tall_rows",
            ops.apply_plans.default,
            (
                tall.offsets,
                tall.pairs,
                tall.cos_sin,
                9,
                1,
                4,
                True,
                1.0,
                torch.empty(2, 9, 3, dtype=torch.float64),
            ),
            ALL_UTILS,
        ),
        (
            "support_masks",
            ops.support_masks.default,
            (plan.support, 6, 9, 0, 6, False, torch.empty(2, 6, 9, dtype=torch.bool)),
            ALL_UTILS,
        ),
        (
            "support_masks_tall_rows",
            ops.support_masks.default,
            (tall.support, 6, 9, 2, 5, True, torch.empty(2, 9, 3, dtype=torch.bool)),
            ALL_UTILS,
        ),
        (
            "top_up_masks",
            ops.top_up_masks.default,
            (plan.seeds, 30, torch.zeros(2, 6, 9, dtype=torch.bool)),
            ALL_UTILS,
        ),
    ]


OPCHECK_NAMES = [
    "sample_plans",
    "sample_plans_at_most",
    "rotation_levels",
    "apply_plans",
    "apply_plans_tall_rows",
    "support_masks",
    "support_masks_tall_rows",
    "top_up_masks",
]


@requires_extension
@pytest.mark.parametrize("name", OPCHECK_NAMES)
def test_opcheck(name):
    cases = {case[0]: case[1:] for case in opcheck_cases()}
    op, args, test_utils = cases[name]
    torch.library.opcheck(op, args, test_utils=test_utils)


@requires_extension
def test_sample_plans_static_aot_is_data_dependent():
    """Documents the one excluded opcheck: the failure is the data-dependent output size."""
    plan = givens.sample_plan(6, 9, 0.5, generator=torch.Generator().manual_seed(0))
    with pytest.raises(Exception, match="test_aot_dispatch_static"):
        torch.library.opcheck(
            torch.ops.eoi_ext.sample_plans.default,
            (plan.seeds, 6, 9, 0.5, False),
            test_utils=("test_aot_dispatch_static",),
        )


@requires_extension
@pytest.mark.parametrize("compile_backend", ["eager", "aot_eager"])
@pytest.mark.parametrize(("rows", "cols"), [(12, 20), (20, 12)])
def test_torch_compile_fullgraph(rows, cols, compile_backend):
    plan = givens.sample_plan(rows, cols, 0.4, count=2, generator=torch.Generator().manual_seed(0))
    n, m, transposed = plan.n, plan.m, plan.transposed
    shape = (2, m, n) if transposed else (2, n, m)

    def build(offsets, pairs, cos_sin, support):
        out = torch.empty(shape, dtype=torch.float32)
        torch.ops.eoi_ext.apply_plans(offsets, pairs, cos_sin, m, 0, n, transposed, 2.0, out)
        mask = torch.empty(shape, dtype=torch.bool)
        torch.ops.eoi_ext.support_masks(support, n, m, 0, n, transposed, mask)
        return out * mask, mask

    torch._dynamo.reset()
    compiled = torch.compile(build, backend=compile_backend, fullgraph=True)
    args = (plan.offsets, plan.pairs, plan.cos_sin, plan.support)
    got_W, got_M = compiled(*args)
    want_W, want_M = build(*args)
    assert torch.equal(got_M, want_M)
    assert torch.equal(got_W, want_W)
    assert torch.equal(want_W, givens.apply_plan(plan, gain=2.0))


@requires_extension
def test_fake_tensor_shapes():
    """The fake kernels give the real kernels' shapes and dtypes under FakeTensorMode."""
    from torch._subclasses.fake_tensor import FakeTensorMode
    from torch.fx.experimental.symbolic_shapes import ShapeEnv

    plan = givens.sample_plan(6, 9, 0.5, count=2, generator=torch.Generator().manual_seed(0))
    with FakeTensorMode(shape_env=ShapeEnv()) as mode:
        seeds = mode.from_tensor(plan.seeds)
        offsets, pairs, cos_sin, support = torch.ops.eoi_ext.sample_plans(seeds, 6, 9, 0.5, False)
        assert offsets.shape == (3,) and offsets.dtype == torch.int64
        assert pairs.shape[1] == 2 and pairs.dtype == torch.int32
        assert cos_sin.shape[1] == 2 and cos_sin.dtype == torch.float64
        assert support.shape == (2, 9, 1) and support.dtype == torch.int64
        levels = torch.ops.eoi_ext.rotation_levels(
            mode.from_tensor(plan.offsets), mode.from_tensor(plan.pairs), 9
        )
        assert levels.shape == plan.pairs.shape[:1] and levels.dtype == torch.int32
