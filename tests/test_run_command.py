"""`eoi run` (eoi_ext/lab/run_command.py, run_cell.py): a spec's smoke grid runs run by
run into JSON records; a rerun skips what is recorded, so a killed sweep resumes; slices
are disjoint and cover the grid; a run is deterministic for its seed on the CPU; an init
that cannot be built is recorded with its error; bad flags are usage errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eoi_ext.lab import run_cell as run_cell_module
from eoi_ext.lab import run_command
from eoi_ext.lab.cli import main
from eoi_ext.lab.spec_files import expand, load_spec

pytest.importorskip("tqdm")  # the lab extra

SMOKE = ["run", "deep-mlp", "--scale", "smoke", "--no-progress", "--no-jacobian"]


def keys(out: Path) -> set[str]:
    return {path.stem for path in out.glob("*.json")}


def test_slices_cover_the_grid_and_a_rerun_skips(tmp_path, capsys):
    out = tmp_path / "runs"
    grid = {cell.key for cell in expand(load_spec("deep-mlp"), "smoke")}
    for k in (1, 2):  # two of three slices, as two scheduler tasks would
        assert main([*SMOKE, "--out", str(out), "--only", f"{k}/3", "--seeds", "1"]) == 0
    first_two = keys(out)
    assert first_two < grid and len(first_two) == len(grid) - len(grid) // 3
    records = [json.loads(path.read_text()) for path in out.glob("*.json")]
    assert {r["schema"] for r in records} == {"eoi-run/1"}
    done = [r for r in records if r["test_accuracy"] is not None]
    assert all(len(r["fit"]["losses"]) > 0 and r["init"]["density"] > 0 for r in done)
    failed = [r for r in records if r["test_accuracy"] is None]
    assert all("synflow_masks" in r["error"] for r in failed)  # the tanh flow underflows
    capsys.readouterr()
    assert main([*SMOKE, "--out", str(out), "--only", "1/3"]) == 0
    assert "already recorded" in capsys.readouterr().out
    assert keys(out) == first_two  # nothing new: slice 1 was done
    assert not (out / "checkpoints").exists()


class Killed(Exception):
    """A kill in the middle of a sweep (SIGKILL cannot be caught; this stands for it)."""


def test_a_killed_sweep_resumes(tmp_path, monkeypatch):
    out, calls, resumed = tmp_path / "runs", [], False
    real = run_cell_module.run_cell

    def dies_on_the_third(cell, *args, **kwargs):
        calls.append(cell.key)
        if len(calls) == 3 and not resumed:
            raise Killed
        return real(cell, *args, **kwargs)

    monkeypatch.setattr(run_cell_module, "run_cell", dies_on_the_third)
    with pytest.raises(Killed):
        main([*SMOKE, "--out", str(out), "--only", "1/4"])
    before, resumed = keys(out), True
    assert len(before) == 2
    calls.clear()
    assert main([*SMOKE, "--out", str(out), "--only", "1/4"]) == 0
    assert not set(calls) & before  # only the runs not yet recorded run
    assert len(calls) == len(keys(out)) - 2 > 0


def test_a_run_is_deterministic(tmp_path):
    cells = expand(load_spec("deep-mlp"), "smoke")
    cell = next(c for c in cells if c.key.startswith("uniform-eoi"))
    first = run_cell_module.run_cell(cell, tmp_path / "a", jacobian=True)
    second = run_cell_module.run_cell(cell, tmp_path / "b", jacobian=True)
    assert first["fit"]["losses"] == second["fit"]["losses"]
    assert first["init"]["jacobian"] == second["init"]["jacobian"]
    assert first["init"]["orthogonality_error"] < 1e-5


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["run", "no-such-spec"], "spec 'no-such-spec' not found"),
        (["run", "deep-mlp", "--only", "3/2"], "only must be k/N"),
        (["run", "deep-mlp", "--scale", "huge"], "invalid choice"),
        (["run", "deep-mlp", "--seeds", "0"], "argument --seeds: must be an integer >= 1"),
    ],
)
def test_bad_flags_are_usage_errors(argv, message, capsys):
    with pytest.raises(SystemExit) as raised:
        main(argv)
    assert raised.value.code == 2
    assert message in capsys.readouterr().err


def test_the_command_module_names_its_parts():
    assert run_command.__all__ == ["add_run_parser", "run_run_command"]
