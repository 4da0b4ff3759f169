"""The `eoi bench` harness: every method has a row for every workload, the JSON schema,
the relations between rows (speedups, floor ratios, slopes), the plot and the CLI."""

from __future__ import annotations

import dataclasses
import json

import pytest
import torch

import eoi_ext
from eoi_ext.lab import bench
from eoi_ext.lab.cli import main
from eoi_ext.lab.output import write_json

TINY = bench.BenchConfig(
    sizes=(32, 64, 96),
    densities=(0.1, 0.3),
    rectangles=((16, 80),),
    networks=(("mlp", 6, 16), ("cnn", 3, 8)),
    network_distribution="uniform",
    reference_max_side=64,
    isometry_max_side=64,
    reference_max_layers=6,
    ai_steps=5,
    svd_iterations=2,
    max_repeats=2,
    min_seconds=0.0,
    sharding=((1, 48, 0.2), (3, 16, 0.3)),
    sharding_worlds=(1, 2),
    sharding_repeats=1,
)

ROW_KEYS = {
    "case", "kind", "rows", "cols", "density", "method", "median_s", "min_s", "max_s",
    "repeats", "speedup_vs_reference", "floor_ratio", "orthogonality_error",
    "achieved_density", "iterations", "skipped", "note",
}  # fmt: skip


@pytest.fixture(scope="module")
def result() -> bench.BenchResult:
    return bench.run_bench(TINY, progress=False)


def test_every_method_has_a_row_per_workload(result):
    methods = bench.available_methods(torch.device("cpu"))
    assert "eoi[python]" in methods and "reference" in methods and "floor" in methods
    assert ("eoi[cpu-ext]" in methods) == (eoi_ext.backend("cpu") == "cpu-ext")
    workloads = {(r.case, r.density) for r in result.rows}
    assert len(workloads) == len(TINY.sizes) * len(TINY.densities) + 1 + 2
    for workload in workloads:
        names = [r.method for r in result.rows if (r.case, r.density) == workload]
        assert names == methods, workload


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
            assert abs(r.achieved_density - r.density) < 0.1
        if r.method in ("ai", "svd_ai"):
            assert r.iterations == (TINY.ai_steps if r.method == "ai" else TINY.svd_iterations)
    # The reference runs up to its size limit and gives every row there a speedup.
    measured = [r for r in result.rows if r.method == "reference" and not r.skipped]
    assert {r.rows for r in measured if r.kind == "square"} == {32, 64}
    skipped = [r for r in result.rows if r.method == "reference" and r.skipped]
    assert {r.case for r in skipped} == {"96x96", "16x80", "cnn 3x8"}
    for r in result.rows:
        reference = _row(result, r, "reference")
        if r.median_s and r.method != "reference" and not reference.skipped:
            assert r.speedup_vs_reference == pytest.approx(reference.median_s / r.median_s)


def _row(result, row, method):
    return next(
        r for r in result.rows if (r.case, r.density, r.method) == (row.case, row.density, method)
    )


def test_slopes(result):
    assert result.slope_density == 0.1
    # Methods measured at 2+ sizes have a slope; the reference ran at 32 and 64 only.
    assert set(result.slopes) >= {"eoi[python]", "reference", "orthogonal", "floor"}
    assert all(isinstance(s, float) for s in result.slopes.values())


def test_json_schema_and_outputs(result, tmp_path):
    path = tmp_path / "bench.json"
    write_json(result.to_json(), str(path))
    data = json.loads(path.read_text())
    assert data["schema"] == "eoi-bench/1"
    assert set(data) == {
        "schema",
        "machine",
        "config",
        "rows",
        "slopes",
        "slope_density",
        "sharding",
        "seconds",
    }
    assert {"platform", "processor", "torch", "eoi_ext", "build", "device"} <= set(data["machine"])
    assert data["config"]["sizes"] == list(TINY.sizes)
    assert all(set(row) == ROW_KEYS for row in data["rows"])
    assert [(r["case"], r["ranks"]) for r in data["sharding"]] == [
        ("48x48", 1), ("48x48", 2), ("3x(16x16)", 1), ("3x(16x16)", 2),
    ]  # fmt: skip
    assert {row["method"] for row in data["rows"]} == set(
        bench.available_methods(torch.device("cpu"))
    )
    table = bench.format_table(result)
    for method in bench.available_methods(torch.device("cpu")):
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


def test_python_backend_switch():
    g = lambda: torch.Generator().manual_seed(3)  # noqa: E731
    with eoi_ext.use_python_backend():
        assert eoi_ext.backend("cpu") == "python"
        w_python, m_python = eoi_ext.sparse_orthogonal(40, 70, 0.2, generator=g())
    w, m = eoi_ext.sparse_orthogonal(40, 70, 0.2, generator=g())
    assert torch.equal(m, m_python) and torch.allclose(w, w_python, atol=1e-6)


def test_cli(tmp_path, monkeypatch, capsys):
    config = dataclasses.replace(TINY, sharding=())  # the fixture covers the sharding rows
    monkeypatch.setattr(bench.BenchConfig, "quick", classmethod(lambda cls, device="cpu": config))
    json_path, plot_path = tmp_path / "b.json", tmp_path / "b.png"
    argv = ["bench", "--quick", "--json", str(json_path), "--plot", str(plot_path)]
    assert main([*argv, "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "| workload |" in out and f"saved {json_path}" in out
    assert json.loads(json_path.read_text())["schema"] == "eoi-bench/1"
    assert plot_path.exists()
    with pytest.raises(SystemExit):
        main(["bench", "--device", "tpu", "--no-progress"])
