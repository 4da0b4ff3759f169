"""The `eoi bench` harness: every method has a row for every workload (the paper's
baselines for every network), the JSON schema, the relations between rows (speedups,
floor ratios, slopes), the plot and the CLI; and the one registry: `eoi bench` and
benchmarks/ measure its contenders and nothing else."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest
import torch

import eoi_ext
from eoi_ext.lab import bench
from eoi_ext.lab.cli import main
from eoi_ext.lab.output import write_json

TINY = bench.BenchConfig(
    sizes=(32, 64, 96), densities=(0.1, 0.3), rectangles=((16, 80),),
    networks=(("mlp", 6, 16), ("cnn", 6, 8), ("resnet", 8, 16)), reference_max_side=64,
    isometry_max_side=64, reference_max_layers=6, ai_steps=5, ai_iterations=3,
    svd_iterations=2, max_repeats=2, min_seconds=0.0, sharding=((1, 48, 0.2), (3, 16, 0.3)),
    sharding_worlds=(1, 2), sharding_repeats=1,
)  # fmt: skip
CPU = torch.device("cpu")
PAPER_BASELINES = ("base", "ai", "sao")  # issue 14: timed per network only
CNN, RESNET = "cnn 6x8 (cifar_conv)", "resnet-8 (width 16)"
ROW_KEYS = {
    "case", "kind", "rows", "cols", "density", "method", "median_s", "min_s", "max_s",
    "repeats", "speedup_vs_reference", "floor_ratio", "orthogonality_error",
    "achieved_density", "iterations", "skipped", "note",
}  # fmt: skip


@pytest.fixture(scope="module")
def result() -> bench.BenchResult:
    return bench.run_bench(TINY, progress=False)


def test_every_method_has_a_row_per_workload(result):
    methods = bench.available_methods(CPU)
    assert "eoi[python]" in methods and "reference" in methods and "floor" in methods
    assert ("eoi[cpu-ext]" in methods) == (eoi_ext.backend("cpu") == "cpu-ext")
    assert set(PAPER_BASELINES) <= set(methods)
    on_matrices = [m for m in methods if m not in PAPER_BASELINES]
    workloads = {(r.case, r.density, r.kind) for r in result.rows}
    assert len(workloads) == len(TINY.sizes) * len(TINY.densities) + 1 + 3
    for case, density, kind in workloads:
        names = [r.method for r in result.rows if (r.case, r.density) == (case, density)]
        assert names == (methods if kind == "network" else on_matrices), case


def test_rows_are_consistent(result):
    for r in result.rows:
        if r.skipped:
            assert r.median_s is None and r.repeats == 0
            continue
        assert 0 < r.min_s <= r.median_s <= r.max_s and r.repeats >= 1
        if r.method not in ("floor",):
            assert r.floor_ratio == pytest.approx(r.median_s / _row(result, r, "floor").median_s)
        if r.method.startswith("eoi"):
            assert r.orthogonality_error < 1e-5
            if r.kind != "network":
                assert abs(r.achieved_density - r.density) < 0.1
        if r.kind == "network" and r.achieved_density is not None and r.method != "orthogonal":
            # uni_skip keeps some layers dense: every sparse method reaches base's total.
            base = _row(result, r, "base").achieved_density
            assert r.achieved_density == pytest.approx(base, abs=0.01), (r.case, r.method)
        if r.method in ("ai_kaiming", "svd_ai"):
            steps = TINY.ai_steps if r.method == "ai_kaiming" else TINY.svd_iterations
            assert r.iterations == steps
    # The reference runs up to its size limit and gives every row there a speedup.
    measured = [r for r in result.rows if r.method == "reference" and not r.skipped]
    assert {r.rows for r in measured if r.kind == "square"} == {32, 64}
    skipped = [r for r in result.rows if r.method == "reference" and r.skipped]
    assert {r.case for r in skipped} == {"96x96", "16x80", CNN, RESNET}
    for r in result.rows:
        reference = _row(result, r, "reference")
        if r.median_s and r.method != "reference" and not reference.skipped:
            assert r.speedup_vs_reference == pytest.approx(reference.median_s / r.median_s)


# (row, method, what it holds): measured with these iterations, or skipped for a reason
# that includes this text.
BASELINE_ROWS = [
    ("mlp 6x16", "base", {"iterations": None}),
    ("mlp 6x16", "ai", {"iterations": TINY.ai_iterations}),
    ("mlp 6x16", "sao", {"iterations": None}),
    (RESNET, "base", {"iterations": None}),
    (RESNET, "sao", {"iterations": None}),
    (CNN, "ai", {"iterations": TINY.ai_iterations}),
    (CNN, "sao", {"skipped": "2.weight (8, 8, 3, 3): density 0.125 is not reachable by SAO"}),
    (CNN, "reference", {"skipped": "the published code also builds convs"}),
]


@pytest.mark.parametrize(("case", "method", "expected"), BASELINE_ROWS)
def test_paper_baselines_per_network(result, case, method, expected):
    """The paper's baselines time whole networks through sparsify (issue 14): the density
    they reach, ai's iterations; sao skips a network with a layer it cannot build (at
    width 8, degree 1), the reference a conv network, each saying why."""
    row = next(r for r in result.rows if (r.case, r.method) == (case, method))
    if "skipped" in expected:
        assert expected["skipped"] in row.skipped and row.median_s is None
        return
    assert row.skipped is None and row.median_s > 0 and 0 < row.achieved_density < 1
    assert row.iterations == expected["iterations"]
    if method == "sao":  # orthogonal values on its masks, delta kernels for convs
        assert row.orthogonality_error < 1e-5
    if method == "ai":
        assert row.note.startswith("the paper's: 1000;")


def _row(result, row, method):
    return next(
        r for r in result.rows if (r.case, r.density, r.method) == (row.case, row.density, method)
    )


def test_json_schema_and_outputs(result, tmp_path):
    path = tmp_path / "bench.json"
    write_json(result.to_json(), str(path))
    data = json.loads(path.read_text())
    assert data["schema"] == "eoi-bench/1"
    assert set(data) == {"schema", "machine", "config", "rows", "slopes", "slope_density",
                         "sharding", "seconds"}  # fmt: skip
    assert {"platform", "processor", "torch", "eoi_ext", "build", "device"} <= set(data["machine"])
    assert data["config"]["sizes"] == list(TINY.sizes)
    # Methods measured at 2+ sizes have a slope; the reference ran at 32 and 64 only.
    assert data["slope_density"] == 0.1
    assert set(data["slopes"]) >= {"eoi[python]", "reference", "orthogonal", "floor"}
    assert all(set(row) == ROW_KEYS for row in data["rows"])
    assert [(r["case"], r["ranks"]) for r in data["sharding"]] == [
        ("48x48", 1), ("48x48", 2), ("3x(16x16)", 1), ("3x(16x16)", 2),
    ]  # fmt: skip
    assert {row["method"] for row in data["rows"]} == set(bench.available_methods(CPU))
    table = bench.format_table(result)
    for method in bench.available_methods(CPU):
        assert f"| {method} |" in table
    assert "skipped" in table and "log-log slope" in table
    assert "Sharded initialization" in table and "| 3x(16x16) | 0.3 | 2 |" in table
    plot = tmp_path / "bench.png"
    bench.save_plot(result, str(plot))
    assert plot.read_bytes()[:4] == b"\x89PNG"


def test_sharding_rows(result):
    """Strong scaling: every (workload, world size) measured by spawned gloo processes,
    with ratios to one rank."""
    assert [(r.case, r.density, r.ranks) for r in result.sharding] == [
        ("48x48", 0.2, 1), ("48x48", 0.2, 2), ("3x(16x16)", 0.3, 1), ("3x(16x16)", 0.3, 2),
    ]  # fmt: skip
    for one, two in (result.sharding[:2], result.sharding[2:]):
        assert one.skipped is None and two.skipped is None
        assert one.median_s > 0 and two.median_s > 0
        assert one.speedup == 1.0
        assert two.speedup == pytest.approx(one.median_s / two.median_s)
        assert one.peak_mib >= 0 and two.peak_mib >= 0
        assert two.floor_mib == pytest.approx(one.floor_mib / 2)  # float32 + bool per entry
        assert one.memory_ratio in (None, 1.0)
    assert result.sharding[0].floor_mib == pytest.approx(48 * 48 * 5 / 2**20)


def _benchmarks_module(name: str) -> ModuleType:
    path = Path(__file__).parents[1] / "benchmarks" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"eoi_benchmarks_{name}", path)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def test_registry_is_the_single_source(result):
    """Every contender is a row of `eoi bench` on this device, unavailable here, or a part
    of a call that a benchmarks/ case times; benchmarks/ times registry cases only (one
    parametrized test per file), and has a case for every key its ratios name."""
    cases: dict[str, bench.Case] = {}
    for name in ("test_speed", "test_speed_cuda"):
        module = _benchmarks_module(name)
        assert [n for n in vars(module) if n.startswith("test")] == [name]
        cases.update(module.CASES)
    for key, case in cases.items():
        assert case.contender in bench.CONTENDERS, key
        assert isinstance(case.workload, bench.MatrixWorkload | bench.NetworkWorkload), key
    ratio_keys = {key for _, *keys in _benchmarks_module("ratios").RATIOS for key in keys}
    assert ratio_keys <= set(cases), ratio_keys - set(cases)
    rows, timed = {r.method for r in result.rows}, {c.contender for c in cases.values()}
    for name, contender in bench.CONTENDERS.items():
        if not contender.in_bench:
            assert name in timed and name not in rows, name
        else:
            assert (name in rows) == contender.available(CPU), name


def test_cells_and_timing_core():
    """Workload options of the benchmarks/ cases (stacks, exact density, fresh models, a
    part of a call) and the timing loop: a cheap first call is a warm-up."""
    eoi, stack = bench.eoi_method(CPU), bench.MatrixWorkload(48, 48, 0.1, 3, exact_density=True)
    cell = bench.prepare(eoi, stack, CPU)
    timing, (weights, masks) = bench.repeat(cell.call, min_seconds=60.0, max_repeats=3)
    assert timing.repeats == 3 and weights.shape == (3, 48, 48)
    assert int(masks.sum()) == 3 * round(0.1 * 48 * 48)
    assert cell.figures((weights, masks))["orthogonality_error"] < 1e-5
    skipped = [bench.prepare(name, stack, CPU).skipped for name in ("reference", "eoi[cuda-ext]")]
    assert skipped == ["one matrix per call", "not available on cpu"]
    assert bench.prepare("sao", stack, CPU).skipped == "networks only"
    fresh = bench.NetworkWorkload("mlp", 4, 8, 0.5, "uniform", fresh_model=True)
    call = bench.prepare(eoi, fresh, CPU).call
    assert call().model is not call().model
    assert bench.prepare("floor", fresh, CPU).skipped
    part = bench.prepare("apply_plan", bench.MatrixWorkload(32, 64, 0.2), CPU)
    assert part.figures(part.call())["orthogonality_error"] < 1e-5
    calls: list[int] = []
    timing, last = bench.repeat(lambda: calls.append(1) or len(calls), min_seconds=0, max_repeats=5)
    assert (timing.repeats, last) == (1, 2)  # the warm-up, then one sample
    assert bench.synchronized(len, CPU) is len  # nothing to wait for on the CPU
    formatted = [bench.format_seconds(s) for s in (None, 2.5, 0.0123, 4.2e-5)]
    assert formatted == ["-", "2.50 s", "12.30 ms", "42 us"]


def test_cli_and_a_new_contender(tmp_path, monkeypatch, capsys):
    """`eoi bench --quick` end to end, with one contender added to the registry: that one
    entry gives it a row for every workload, floor ratios and a slope."""
    monkeypatch.setitem(bench.CONTENDERS, "floor again", bench.CONTENDERS["floor"])
    config = dataclasses.replace(TINY, sharding=())  # the fixture covers the sharding rows
    monkeypatch.setattr(bench.BenchConfig, "quick", classmethod(lambda cls, device="cpu": config))
    json_path, plot_path = tmp_path / "b.json", tmp_path / "b.png"
    argv = ["bench", "--quick", "--json", str(json_path), "--plot", str(plot_path)]
    assert main([*argv, "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "| workload |" in out and f"saved {json_path}" in out and "| floor again |" in out
    data = json.loads(json_path.read_text())
    assert data["schema"] == "eoi-bench/1" and "floor again" in data["slopes"]
    rows = [r for r in data["rows"] if r["method"] == "floor again"]
    assert len(rows) == len({(r["case"], r["density"]) for r in data["rows"]})
    assert all(r["median_s"] > 0 and r["floor_ratio"] > 0 for r in rows)
    assert plot_path.exists()
    with pytest.raises(SystemExit):
        main(["bench", "--device", "tpu", "--no-progress"])
