"""`eoi report` (eoi_ext/lab/report_*.py) on records written here by hand: the table's
rows, columns, mean ± std, bold best, failed cells, init times, slices that merge; and the
command: markdown on stdout and in the file, figures written and linked, usage errors."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from eoi_ext.lab.cli import main
from eoi_ext.lab.report_records import load_records, rows_in_order
from eoi_ext.lab.report_tables import report_markdown
from eoi_ext.lab.run_cell import SCHEMA

PNG = b"\x89PNG\r\n\x1a\n"


def record(spec="s", density=0.1, masks="uniform", init="eoi", seed=1, accuracy=0.5,
           activation="tanh", seconds=0.002, values=(0.5, 1.0)):  # fmt: skip
    cell = {"spec": spec, "network": "mlp", "depth": 3, "width": 8, "dataset": "digits",
            "density": density, "masks": masks, "init": init, "seed": seed,
            "activation": activation,
            "recipe": [["epochs", 2], ["learning_rate", 0.01]]}  # fmt: skip
    cell["key"] = f"{masks}-{init}-d{density:g}-{activation}-s{seed}"
    if accuracy is None:
        return {"schema": SCHEMA, "cell": cell, "error": "no", "test_accuracy": None}
    spectrum = {"mean": sum(values) / len(values), "std": 0.25, "values": list(values)}
    return {"schema": SCHEMA, "cell": cell, "test_accuracy": accuracy,
            "init": {"init_seconds": seconds, "jacobian": spectrum},
            "fit": {"losses": [2.3, 2.0, 1.5, 1.0], "test_accuracies": [accuracy]}}  # fmt: skip


def write(directory: Path, records: list[dict]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for r in records:
        (directory / f"{r['cell']['key']}.json").write_text(json.dumps(r))
    return directory


def table(text: str, heading: str) -> list[list[str]]:
    """The markdown table after `heading`, as rows of cells (header first)."""
    block = text.split(heading, 1)[1].split("\n\n## ", 1)[0]
    lines = [line for line in block.splitlines() if line.startswith("|")]
    return [[c.strip() for c in line.strip("|").split("|")] for i, line in
            enumerate(lines) if i != 1]  # fmt: skip


def test_table_rows_columns_and_best():
    records = [record(init=i, seed=s, accuracy=a, density=d)
               for i, base in (("eoi", 0.8), ("base", 0.2)) for d in (0.1, 0.5)
               for s, a in ((1, base), (2, base + 0.1))]  # fmt: skip
    records += [record(masks="dense", init="orthogonal", density=1.0, accuracy=0.9),
                record(masks="uni_skip", init="sao", accuracy=None)]  # fmt: skip
    rows = table(report_markdown(records, "t"), "## tanh: test accuracy")
    assert rows[0] == ["init, masks", "0.1", "0.5", "1", "init time"]
    assert [r[0] for r in rows[1:]] == ["dense, orthogonal", "base, uniform", "SAO, uni_skip",
                                        "EOI, uniform"]  # fmt: skip
    assert rows[1] == ["dense, orthogonal", "", "", "**90.0**", "2 ms"]
    assert rows[2][1:3] == ["25.0 ± 7.1", "25.0 ± 7.1"]
    assert rows[3] == ["SAO, uni_skip", "failed", "", "", ""]
    assert rows[4][1:3] == ["**85.0 ± 7.1**", "**85.0 ± 7.1**"]


def test_partly_failed_cells_and_jacobian_table():
    records = [record(seed=1, values=(1.0, 1.0)), record(seed=2, accuracy=None),
               record(seed=3, values=(0.5, 0.5))]  # fmt: skip
    text = report_markdown(records, "t")
    assert table(text, "## tanh: test accuracy")[1][1] == "**50.0 ± 0.0 (1 failed)**"
    assert table(text, "## tanh: Jacobian")[1] == ["EOI, uniform", "0.75 (0.25)"]
    assert "3 runs (1 failed at init), seeds 1, 2, 3" in text


def test_specs_become_column_groups_and_activations_tables():
    records = [record(spec="res32", accuracy=0.6), record(spec="res56", accuracy=0.7),
               record(spec="res32", activation="relu")]  # fmt: skip
    text = report_markdown(records, "t")
    assert table(text, "## tanh: test accuracy")[0] == [
        "init, masks",
        "res32 0.1",
        "res56 0.1",
        "init time (res32)",
        "init time (res56)",
    ]
    assert table(text, "## relu: test accuracy")[0] == ["init, masks", "res32 0.1",
                                                        "init time (res32)"]  # fmt: skip


def test_slices_merge_and_duplicates_count_once(tmp_path: Path):
    write(tmp_path / "a", [record(seed=1)])
    write(tmp_path / "b", [record(seed=2), record(seed=1, accuracy=0.1)])
    (tmp_path / "a" / "checkpoints").mkdir()
    (tmp_path / "a" / "checkpoints" / "x.json").write_text("{}")
    (tmp_path / "a" / "other.json").write_text('{"schema": "other"}')
    records = load_records([tmp_path / "a", tmp_path / "b"])
    assert [r["cell"]["seed"] for r in records] == [1, 2]
    assert records[0]["test_accuracy"] == 0.5  # the first directory's copy
    assert rows_in_order(records) == ["EOI, uniform"]


def test_report_command_writes_markdown_and_figures(tmp_path: Path, capsys):
    runs = [record(density=d, init=i, seed=s) for d in (0.1, 0.5) for i in ("base", "eoi")
            for s in (1, 2)]  # fmt: skip
    write(tmp_path / "runs", runs)
    out = tmp_path / "report" / "r.md"
    assert main(["report", str(tmp_path / "runs"), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert out.read_text() == text
    links = re.findall(r"!\[([\w-]+)\]\(([^)]+)\)", text)
    assert [name for name, _ in links] == ["s-loss", "s-singular-values", "s-accuracy",
                                           "s-jacobian"]  # fmt: skip
    for _, link in links:
        assert (out.parent / link).read_bytes().startswith(PNG)


def test_report_without_plots_defaults_beside_the_records(tmp_path: Path, capsys):
    write(tmp_path, [record()])
    assert main(["report", str(tmp_path), "--no-plots"]) == 0
    assert "## Figures" not in (tmp_path / "report.md").read_text()
    assert not list(tmp_path.glob("*.png"))


@pytest.mark.parametrize(
    ("setup", "match"),
    [("missing", "is not a directory"), ("empty", "no eoi-run/1 records under")],
)
def test_report_usage_errors_name_the_argument(tmp_path: Path, capsys, setup, match):
    if setup == "empty":
        (tmp_path / "empty").mkdir()
    with pytest.raises(SystemExit) as exit_info:
        main(["report", str(tmp_path / setup)])
    assert exit_info.value.code == 2
    assert re.search(f"dirs: .*{match}", capsys.readouterr().err)


def test_report_json_has_the_table_numbers(tmp_path: Path, capsys):
    write(tmp_path, [record(seed=1, accuracy=0.4), record(seed=2, accuracy=0.6),
                     record(seed=3, accuracy=None)])  # fmt: skip
    out = tmp_path / "numbers.json"
    assert main(["report", str(tmp_path), "--no-plots", "--json", str(out)]) == 0
    numbers = json.loads(out.read_text())
    assert numbers["schema"] == "eoi-report/1"
    (entry,) = numbers["entries"]
    assert (entry["masks"], entry["init"], entry["density"]) == ("uniform", "eoi", 0.1)
    assert (entry["runs"], entry["failed"], entry["init_seconds"]) == (3, 1, 0.002)
    assert entry["test_accuracy"] == pytest.approx([0.5, 0.1414], abs=1e-4)
    assert entry["jacobian_mean"] == pytest.approx([0.75, 0.0])
