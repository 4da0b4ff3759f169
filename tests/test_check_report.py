"""scripts/check_report.py, CI's check of an `eoi report`, fails on each defect it names:
a missing spec line, a missing row, an emptied cell, a missing figure."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from test_report import record, write

from eoi_ext.lab.cli import main

SCRIPT = Path(__file__).parents[1] / "scripts" / "check_report.py"


def check_report():
    spec = importlib.util.spec_from_file_location("check_report", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def report(tmp_path: Path, capsys) -> tuple[Path, list[str]]:
    runs = [record(density=d, init=i, seed=s) for d in (0.1, 0.5) for i in ("base", "eoi")
            for s in (1, 2)] + [record(masks="uni_skip", init="sao", accuracy=None)]  # fmt: skip
    directory = write(tmp_path / "runs", runs)
    assert main(["report", str(directory)]) == 0
    capsys.readouterr()
    return directory / "report.md", [str(directory)]


@pytest.mark.parametrize(
    ("spoil", "problem"),
    [
        (None, None),
        (lambda t: t.replace("- **s**:", "- s:"), "no line for spec s"),
        (lambda t: t.replace("| EOI, uniform |", "| EOI |"), "no cell for s uniform-eoi"),
        (
            lambda t: t.replace("| SAO, uni_skip | failed |", "| SAO, uni_skip |  |"),
            "empty cell for s uni_skip-sao",
        ),
        (lambda t: t.replace("s-loss.png", "gone.png"), "figure gone.png is not a PNG"),
        (lambda t: t.split("## tanh: Jacobian")[0], "no table '## tanh: Jacobian"),
    ],
)
def test_each_defect_is_named(report, spoil, problem):
    path, dirs = report
    if spoil:
        path.write_text(spoil(path.read_text()))
    found = check_report().problems(path, dirs, ["s"])
    assert found == [] if problem is None else any(problem in p for p in found), found
