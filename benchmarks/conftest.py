"""Shared pieces of the benchmark suite: run sizes, the `measure` and `measure_case`
fixtures, the ratio report.

Run: ``pytest benchmarks/`` (full) or ``EOI_BENCH_QUICK=1 pytest benchmarks/`` (CI smoke
run: smaller anchor cases, few rounds, every code path still runs). The normal test run
(``pytest``, testpaths = tests) does not collect this folder.

The cases are registry cases (eoi_ext.lab.bench: a contender on a workload, the same
cells `eoi bench` measures), timed through the same synchronized call; pytest-benchmark
does the rounds.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch

from eoi_ext.lab.bench import Case, prepare, synchronized

QUICK = os.environ.get("EOI_BENCH_QUICK", "") not in ("", "0")

_spec = importlib.util.spec_from_file_location(
    "eoi_bench_ratios", Path(__file__).with_name("ratios.py")
)
assert _spec is not None and _spec.loader is not None
ratios = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ratios)

# Median seconds and case descriptions of the cases measured in this run, by key.
_MEDIANS: dict[str, float] = {}
_LABELS: dict[str, str] = {}


@pytest.fixture
def measure(benchmark: Any) -> Callable[..., Any]:
    """measure(key, case, fn, *, rounds=None) -> fn's result.

    Benchmarks ``fn`` (no arguments) and records its median under ``key``. ``rounds``
    fixes the number of rounds (for slow anchors); otherwise pytest-benchmark calibrates.
    In quick mode every case runs one warm-up and two rounds.
    """

    def run(key: str, case: str, fn: Callable[[], Any], *, rounds: int | None = None) -> Any:
        benchmark.extra_info["key"] = key
        benchmark.extra_info["case"] = case
        benchmark.extra_info["quick"] = QUICK
        if QUICK:
            result = benchmark.pedantic(fn, rounds=2, warmup_rounds=1, iterations=1)
        elif rounds is not None:
            result = benchmark.pedantic(fn, rounds=rounds, warmup_rounds=0, iterations=1)
        else:
            result = benchmark(fn)
        if benchmark.stats is not None:  # None with --benchmark-disable
            _MEDIANS[key] = float(benchmark.stats.stats.median)
            _LABELS[key] = case
        return result

    return run


@pytest.fixture
def measure_case(measure: Callable[..., Any], benchmark: Any) -> Callable[..., dict[str, Any]]:
    """measure_case(key, case, device="cpu") -> the figures of the registry cell.

    Prepares `case` (registry.prepare, outside the timing), measures its synchronized
    call under `key`, and checks the outputs: no timing assertions, but an EOI result
    must be orthogonal at the density asked for, or the timing would mean nothing.
    """

    def run(key: str, case: Case, device: str = "cpu") -> dict[str, Any]:
        where = torch.device(device)
        cell = prepare(case.contender, case.workload, where)
        if cell.call is None:
            pytest.skip(f"{case.contender}: {cell.skipped}")
        benchmark.group = f"{case.group}: {case.workload.label}"
        label = f"{case.contender} {case.workload.label}"
        result = measure(key, label, synchronized(cell.call, where), rounds=case.rounds)
        figures = cell.figures(result)
        if case.contender.startswith("eoi"):
            assert figures["orthogonality_error"] < 1e-5, figures
            exact = getattr(case.workload, "exact_density", False)
            tolerance = 1e-6 if exact else 0.02
            assert abs(figures["achieved_density"] - case.workload.density) < tolerance
        return figures

    return run


@pytest.hookimpl(trylast=True)
def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _MEDIANS:
        return
    mode = "quick (EOI_BENCH_QUICK=1)" if QUICK else "full"
    terminalreporter.section(f"eoi_ext benchmark ratios, {mode} run")
    for line in ratios.format_report(_MEDIANS, _LABELS):
        terminalreporter.write_line(line)
