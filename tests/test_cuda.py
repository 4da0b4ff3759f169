"""CUDA: results on a GPU equal the CPU's for the same generator state
(docs/backends.md, "Reproducibility across backends").

Skipped without a GPU. With EOI_EXT_BACKEND=ext these test the CUDA kernels
(csrc/cuda, csrc/ops_cuda.cpp) against the CPU extension; with EOI_EXT_BACKEND=python,
the fallback on the GPU against the fallback on the CPU. The kernels' logic also runs
without a GPU in the ctest csrc/cuda/tests/test_rotation_tile.cpp.
"""

from __future__ import annotations

import os

import pytest
import torch
from conftest import assert_orthogonal, extension_loaded

import eoi_ext
from eoi_ext import givens
from eoi_ext.backends import kernels
from eoi_ext.init import sparse_orthogonal_

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")

COMPILED = extension_loaded()
requires_cuda_ext = pytest.mark.skipif(
    not COMPILED or "cuda-ext" not in eoi_ext.build_info().get("backends", ()),
    reason="the extension was built without CUDA kernels",
)

DTYPES = [torch.float32, torch.float64, torch.float16, torch.bfloat16]
# (rows, cols, density): square, wide, tall, degenerate, several support words, and
# shapes that are not multiples of the tile height.
SHAPES = [
    (1, 1, 1.0),
    (1, 13, 0.5),
    (13, 1, 0.5),
    (16, 16, 0.3),
    (33, 10, 0.25),
    (70, 130, 0.2),
    (130, 70, 0.2),
    (128, 128, 0.125),
    (1024, 1024, 0.1),
    (300, 2000, 0.05),
]
SHAPE_IDS = [f"{r}x{c}@{d}" for r, c, d in SHAPES]


def generator(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def both_devices(count, rows, cols, density, seed=0, **kwargs):
    """The same batch made on the CPU and on the GPU from the same generator state."""
    cpu = eoi_ext.sparse_orthogonal_batch(
        count, rows, cols, density, generator=generator(seed), **kwargs
    )
    gpu = eoi_ext.sparse_orthogonal_batch(
        count, rows, cols, density, generator=generator(seed), device="cuda", **kwargs
    )
    return cpu, gpu


def assert_same(cpu: tuple, gpu: tuple, atol: float = 1e-6) -> None:
    (w_cpu, m_cpu), (w_gpu, m_gpu) = cpu, gpu
    assert w_gpu.is_cuda and m_gpu.is_cuda
    assert w_gpu.dtype == w_cpu.dtype and m_gpu.dtype == torch.bool
    assert w_gpu.shape == w_cpu.shape and m_gpu.shape == m_cpu.shape
    assert torch.equal(m_gpu.cpu(), m_cpu), "masks differ between CPU and CUDA"
    diff = (w_gpu.cpu().double() - w_cpu.double()).abs().max().item() if w_cpu.numel() else 0.0
    assert diff <= atol, f"CUDA and CPU weights differ by {diff:.3e} (> {atol:g})"


def test_backend_names_cuda():
    requested = os.environ.get("EOI_EXT_BACKEND", "auto").strip().lower()
    if requested == "python":
        assert eoi_ext.backend("cuda") == "python"
    elif requested == "ext":
        # On a GPU machine the test run must exercise the CUDA kernels.
        assert eoi_ext.backend("cuda") == "cuda-ext", (
            "EOI_EXT_BACKEND=ext on a GPU machine, but the extension has no CUDA kernels: "
            "rebuild with EOI_EXT_CUDA=1 pip install --no-build-isolation -e ."
        )
        assert eoi_ext.backend(torch.device("cuda", 0)) == "cuda-ext"


@pytest.mark.parametrize(("rows", "cols", "density"), SHAPES, ids=SHAPE_IDS)
def test_cuda_equals_cpu(rows, cols, density):
    cpu, gpu = both_devices(3, rows, cols, density, seed=rows * 1000 + cols, gain=1.3)
    assert_same(cpu, gpu)
    for b in range(3):
        assert_orthogonal(gpu[0][b], gain=1.3)
        assert not gpu[0][b][~gpu[1][b]].any(), "nonzero weights outside the mask"


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize(("rows", "cols", "density"), SHAPES[4:8], ids=SHAPE_IDS[4:8])
def test_cuda_dtypes(rows, cols, density, dtype):
    cpu, gpu = both_devices(2, rows, cols, density, seed=5, dtype=dtype)
    # 16-bit outputs are rounded once from float32 results that agree to 1e-6.
    atol = 1e-6 if dtype in (torch.float32, torch.float64) else torch.finfo(dtype).eps
    assert_same(cpu, gpu, atol=atol)
    assert_orthogonal(gpu[0][0])


@requires_cuda_ext
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_cuda_kernels_round_like_the_cpu(dtype):
    """The kernels avoid fused multiply-adds (csrc/cuda/rotation_tile.h), so they round
    like the CPU kernel: equal values, not just within 1e-6."""
    cpu, gpu = both_devices(4, 200, 300, 0.15, seed=11, dtype=dtype)
    assert torch.equal(gpu[0].cpu(), cpu[0])
    assert torch.equal(gpu[1].cpu(), cpu[1])


@pytest.mark.parametrize(("rows", "cols", "density"), [(70, 130, 0.2), (500, 200, 0.1)])
def test_cuda_exact_density(rows, cols, density):
    cpu, gpu = both_devices(3, rows, cols, density, seed=3, exact_density=True)
    assert_same(cpu, gpu)
    target = round(density * rows * cols)
    assert gpu[1].flatten(1).sum(1).tolist() == [target] * 3


def test_cuda_batch_equals_single_calls():
    g = generator(21)
    weights, masks = eoi_ext.sparse_orthogonal_batch(5, 64, 96, 0.2, generator=g, device="cuda")
    g = generator(21)
    for b in range(5):
        w, m = eoi_ext.sparse_orthogonal(64, 96, 0.2, generator=g, device="cuda")
        assert torch.equal(w, weights[b]) and torch.equal(m, masks[b])


@pytest.mark.parametrize(
    ("rows", "cols", "density", "dtype"),
    [
        (8192, 8192, 0.01, torch.float32),
        (1, 65536, 0.5, torch.float32),  # a row longer than shared memory: global tile
        (65536, 1, 0.5, torch.float32),
        (1, 40000, 0.5, torch.float64),
        (64, 70000, 0.001, torch.float32),
    ],
    ids=["8192^2", "1x65536", "65536x1", "1x40000-f64", "64x70000"],
)
def test_cuda_large_shapes(rows, cols, density, dtype):
    cpu, gpu = both_devices(1, rows, cols, density, seed=8, dtype=dtype)
    assert_same(cpu, gpu)
    w = gpu[0][0]
    a = w if rows <= cols else w.T
    gram_diag = (a.double() ** 2).sum(1)
    assert torch.allclose(gram_diag, torch.ones_like(gram_diag), atol=1e-5)
    if min(rows, cols) > 1:
        assert_orthogonal(w.cpu() if rows * cols < 2**26 else w[:512].cpu())


@pytest.mark.parametrize(("rows", "cols"), [(130, 70), (70, 130)])
def test_cuda_row_ranges(rows, cols):
    plan = givens.sample_plan(rows, cols, 0.2, count=2, generator=generator(4))
    full = givens.apply_plan(plan)
    full_mask = givens.support_mask(plan)
    n = plan.n
    for begin, end in [(0, n), (0, 1), (5, 69), (63, 65), (n - 1, n), (3, 3)]:
        span = {"col_range" if plan.transposed else "row_range": (begin, end)}  # rows of A
        block = givens.apply_plan(plan, device="cuda", **span).cpu()
        mask = givens.support_mask(plan, device="cuda", **span).cpu()
        expected = full[:, :, begin:end] if plan.transposed else full[:, begin:end, :]
        expected_mask = full_mask[:, :, begin:end] if plan.transposed else full_mask[:, begin:end]
        assert torch.allclose(block, expected, atol=1e-6, rtol=0)
        assert torch.equal(mask, expected_mask)


def test_cuda_runs_on_the_current_stream():
    """Work is queued on the caller's stream: an output filled on a busy side stream is
    written after the fill, not before it on another stream."""
    plan = givens.sample_plan(256, 256, 0.1, count=2, generator=generator(6))
    expected = givens.apply_plan(plan)
    expected_mask = givens.support_mask(plan)
    side = torch.cuda.Stream()
    with torch.cuda.stream(side):
        out = torch.empty(2, 256, 256, device="cuda")
        mask = torch.empty(2, 256, 256, dtype=torch.bool, device="cuda")
        torch.cuda._sleep(50_000_000)  # keep the side stream busy
        out.fill_(float("nan"))
        mask.fill_(True)
        impl = kernels("cuda")
        impl.apply_plans(plan.offsets, plan.pairs, plan.cos_sin, 256, 0, 256, False, 1.0, out)
        impl.support_masks(plan.support, 256, 256, 0, 256, False, mask)
    side.synchronize()
    assert torch.allclose(out.cpu(), expected, atol=1e-6, rtol=0)
    assert torch.equal(mask.cpu(), expected_mask)


def test_cuda_public_api_on_a_side_stream():
    side = torch.cuda.Stream()
    with torch.cuda.stream(side):
        gpu = eoi_ext.sparse_orthogonal_batch(
            2, 100, 150, 0.2, generator=generator(9), device="cuda", exact_density=True
        )
    side.synchronize()
    cpu = eoi_ext.sparse_orthogonal_batch(
        2, 100, 150, 0.2, generator=generator(9), exact_density=True
    )
    assert_same(cpu, gpu)


def test_cuda_init_in_place():
    weight = torch.empty(96, 64, device="cuda")
    mask = sparse_orthogonal_(weight, 0.25, gain=2.0, generator=generator(2))
    expected = torch.empty(96, 64)
    expected_mask = sparse_orthogonal_(expected, 0.25, gain=2.0, generator=generator(2))
    assert mask.is_cuda and torch.equal(mask.cpu(), expected_mask)
    assert torch.allclose(weight.cpu(), expected, atol=1e-6, rtol=0)
    # A non-contiguous weight (a transposed view) is filled through copy_.
    base = torch.zeros(64, 96, device="cuda")
    mask_t = sparse_orthogonal_(base.T, 0.25, gain=2.0, generator=generator(2))
    assert torch.equal(mask_t.cpu(), expected_mask)
    assert torch.allclose(base.T.cpu(), expected, atol=1e-6, rtol=0)


def test_cuda_plan_support_is_pinned():
    """With pin_memory=True (what a CUDA build asks for, eoi_ext/build.py) the support is
    page-locked, so the mask kernels copy it without staging (issue 16, item 6), and holds
    the same bits as a pageable one."""
    seeds = givens.draw_seeds(3, generator(4))
    pinned = givens.plan_from_seeds(seeds, 300, 500, 0.1, pin_memory=True)
    pageable = givens.plan_from_seeds(seeds, 300, 500, 0.1)
    assert pinned.support.is_pinned() and not pageable.support.is_pinned()
    assert torch.equal(pinned.support, pageable.support)
    mask = givens.support_mask(pinned, device="cuda")
    assert torch.equal(mask.cpu(), givens.support_mask(pageable))


def test_cuda_generator_with_cuda_output():
    """A CUDA generator works too: the seeds are drawn on the GPU and brought back."""
    g = torch.Generator(device="cuda").manual_seed(3)
    w1, m1 = eoi_ext.sparse_orthogonal(128, 64, 0.2, generator=g, device="cuda")
    g = torch.Generator(device="cuda").manual_seed(3)
    w2, m2 = eoi_ext.sparse_orthogonal(128, 64, 0.2, generator=g, device="cuda")
    assert torch.equal(w1, w2) and torch.equal(m1, m2)
    assert_orthogonal(w1)


def test_cuda_default_generator_follows_manual_seed():
    torch.manual_seed(17)
    w_gpu, m_gpu = eoi_ext.sparse_orthogonal(50, 80, 0.3, device="cuda")
    torch.manual_seed(17)
    w_cpu, m_cpu = eoi_ext.sparse_orthogonal(50, 80, 0.3)
    assert_same((w_cpu, m_cpu), (w_gpu, m_gpu))


@requires_cuda_ext
def test_cuda_bad_input():
    ops = torch.ops.eoi_ext
    plan = givens.sample_plan(6, 9, 0.5, count=2, generator=generator(0))
    out = torch.empty(2, 6, 9, device="cuda")
    with pytest.raises(RuntimeError, match="offsets must be a CPU tensor"):
        ops.apply_plans(plan.offsets.cuda(), plan.pairs, plan.cos_sin, 9, 0, 6, False, 1.0, out)
    with pytest.raises(RuntimeError, match="pairs must be a CPU tensor"):
        ops.apply_plans(plan.offsets, plan.pairs.cuda(), plan.cos_sin, 9, 0, 6, False, 1.0, out)
    non_contiguous = torch.empty(2, 9, 6, device="cuda").transpose(1, 2)
    with pytest.raises(RuntimeError, match="out must be contiguous"):
        ops.apply_plans(plan.offsets, plan.pairs, plan.cos_sin, 9, 0, 6, False, 1.0, non_contiguous)
    with pytest.raises(RuntimeError, match="out must have shape"):
        ops.apply_plans(plan.offsets, plan.pairs, plan.cos_sin, 9, 0, 6, True, 1.0, out)
    with pytest.raises(RuntimeError, match="row_begin"):
        ops.apply_plans(plan.offsets, plan.pairs, plan.cos_sin, 9, 4, 2, False, 1.0, out)
    with pytest.raises(RuntimeError, match="float16, bfloat16, float32 or float64"):
        ops.apply_plans(
            plan.offsets, plan.pairs, plan.cos_sin, 9, 0, 6, False, 1.0, out.to(torch.int32)
        )
    mask = torch.empty(2, 6, 9, dtype=torch.bool, device="cuda")
    with pytest.raises(RuntimeError, match="mask must have dtype bool"):
        ops.support_masks(plan.support, 6, 9, 0, 6, False, mask.float())
    with pytest.raises(RuntimeError, match="mask must be contiguous"):
        transposed_view = torch.empty(2, 9, 6, dtype=torch.bool, device="cuda").mT
        ops.support_masks(plan.support, 6, 9, 0, 6, False, transposed_view)
    with pytest.raises(RuntimeError, match="seeds must be a CPU tensor"):
        ops.sample_plans(plan.seeds.cuda(), 6, 9, 0.5, False)
    with pytest.raises(RuntimeError, match="seeds must be a CPU tensor"):
        ops.top_up_masks(plan.seeds.cuda(), 30, mask)
    # Nothing was written by the failed calls' validation: out is still what it was.
    sentinel = torch.full((2, 6, 9), 7.0, device="cuda")
    with pytest.raises(RuntimeError):
        ops.apply_plans(plan.offsets, plan.pairs, plan.cos_sin[:1], 9, 0, 6, False, 1.0, sentinel)
    assert (sentinel == 7.0).all()


@requires_cuda_ext
@pytest.mark.parametrize("op_name", ["apply_plans", "support_masks", "top_up_masks"])
def test_cuda_opcheck(op_name):
    ops = torch.ops.eoi_ext
    plan = givens.sample_plan(6, 9, 0.5, count=2, generator=generator(0))
    out = torch.empty(2, 6, 9, device="cuda")
    mask = torch.empty(2, 6, 9, dtype=torch.bool, device="cuda")
    cases = {
        "apply_plans": (
            ops.apply_plans.default,
            (plan.offsets, plan.pairs, plan.cos_sin, 9, 0, 6, False, 1.5, out),
        ),
        "support_masks": (
            ops.support_masks.default,
            (plan.support, 6, 9, 0, 6, False, mask),
        ),
        "top_up_masks": (
            ops.top_up_masks.default,
            (plan.seeds, 30, mask.zero_()),
        ),
    }
    op, args = cases[op_name]
    torch.library.opcheck(op, args)


@requires_cuda_ext
@pytest.mark.parametrize("compile_backend", ["eager", "aot_eager"])
def test_cuda_torch_compile_fullgraph(compile_backend):
    plan = givens.sample_plan(20, 12, 0.4, count=2, generator=generator(0))
    n, m = plan.n, plan.m
    shape = (2, m, n)  # tall: transposed layout

    def build(offsets, pairs, cos_sin, support):
        out = torch.empty(shape, device="cuda")
        torch.ops.eoi_ext.apply_plans(offsets, pairs, cos_sin, m, 0, n, True, 2.0, out)
        mask = torch.empty(shape, dtype=torch.bool, device="cuda")
        torch.ops.eoi_ext.support_masks(support, n, m, 0, n, True, mask)
        return out * mask, mask

    torch._dynamo.reset()
    compiled = torch.compile(build, backend=compile_backend, fullgraph=True)
    args = (plan.offsets, plan.pairs, plan.cos_sin, plan.support)
    got_w, got_m = compiled(*args)
    want_w, want_m = build(*args)
    assert torch.equal(got_m, want_m) and torch.equal(got_w, want_w)
    assert torch.allclose(want_w.cpu(), givens.apply_plan(plan, gain=2.0), atol=1e-6, rtol=0)


def test_cuda_sparsify_equals_cpu():
    """A whole model (conv kernels with their top-up, gated RNN weights) on the GPU gets
    the CPU's masks and weights for the same generator state."""

    def net() -> torch.nn.Module:
        return torch.nn.Sequential(
            torch.nn.Conv2d(3, 8, 3, groups=1), torch.nn.Flatten(), torch.nn.Linear(8, 16)
        )

    cpu, gpu = net(), net().cuda()
    sparse_cpu = eoi_ext.sparsify(cpu, 0.3, distribution="erk", generator=generator(4))
    sparse_gpu = eoi_ext.sparsify(gpu, 0.3, distribution="erk", generator=generator(4))
    for name, mask in sparse_cpu.masks.items():
        assert sparse_gpu.masks[name].is_cuda
        assert torch.equal(sparse_gpu.masks[name].cpu(), mask)
    gpu_parameters = dict(gpu.named_parameters())
    for name, p_cpu in cpu.named_parameters():
        assert torch.allclose(gpu_parameters[name].detach().cpu(), p_cpu.detach(), atol=1e-6)
    lstm = torch.nn.LSTM(6, 8).cuda()
    eoi_ext.sparsify(lstm, 0.4, distribution="uniform", generator=generator(5))
    out, _ = lstm(torch.randn(5, 2, 6, device="cuda"))
    assert out.is_cuda and torch.isfinite(out).all()


def test_cuda_bench_rows():
    """`eoi bench --device cuda` measures the GPU backend next to the CPU ones."""
    from eoi_ext.lab import bench

    config = bench.BenchConfig(
        sizes=(64, 128), densities=(0.1,), rectangles=(), networks=(("mlp", 4, 16),),
        network_distribution="uniform", reference_max_side=64, isometry_max_side=64,
        reference_max_layers=4, ai_steps=3, svd_iterations=2, max_repeats=2,
        min_seconds=0.0, device="cuda",
    )  # fmt: skip
    result = bench.run_bench(config, progress=False)
    methods = {row.method for row in result.rows}
    if eoi_ext.backend("cuda") == "cuda-ext":
        assert "eoi[cuda-ext]" in methods
    assert result.machine["gpu"] == torch.cuda.get_device_name()
    for row in result.rows:
        if row.method.startswith("eoi") and not row.skipped:
            assert row.orthogonality_error < 1e-5


@pytest.mark.parametrize(("rows", "cols"), [(300, 500), (500, 300)])
def test_cuda_blocks_equal_cpu(rows, cols):
    """Row and column blocks on the GPU (the adjoint plan for narrow column blocks)."""
    plan = givens.sample_plan(rows, cols, 0.1, count=2, generator=generator(12))
    blocks = [
        {"row_range": (10, 250)},
        {"col_range": (7, 9)},
        {"row_range": (0, 3), "col_range": (100, 300)},
    ]
    for block in blocks:
        w = givens.apply_plan(plan, device="cuda", **block)
        m = givens.support_mask(plan, device="cuda", **block)
        assert torch.allclose(w.cpu(), givens.apply_plan(plan, **block), atol=1e-6, rtol=0)
        assert torch.equal(m.cpu(), givens.support_mask(plan, **block))
