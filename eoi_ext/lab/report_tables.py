"""The markdown of `eoi report` (eoi_ext/lab/report_command.py): the paper's tables from
run records (eoi_ext/lab/report_records.py). Per activation, rows are init x masks and
columns are (spec, density): test accuracy as mean ± std over seeds with the best of
each column in bold, each spec's median init time, and the Jacobian's singular values at
init."""

from __future__ import annotations

import statistics
from collections.abc import Callable
from typing import Any

from .demo_report import duration
from .report_records import column_of, mean_std, row_of, rows_in_order

__all__ = ["report_markdown"]

Records = list[dict[str, Any]]


def report_markdown(records: Records, title: str) -> str:
    """The report: what ran, then per activation the accuracy and Jacobian tables.

    Args:
        records: run records (eoi_ext.lab.report_records.load_records).
        title: the heading, e.g. the directories read.

    Returns:
        Markdown text.

    Examples:
        >>> from eoi_ext.lab.report_tables import report_markdown
        >>> cell = {"spec": "s", "network": "mlp", "depth": 3, "width": 8, "dataset":
        ...     "digits", "density": 0.5, "masks": "uniform", "init": "eoi", "seed": 1,
        ...     "activation": "tanh", "recipe": [["epochs", 1]], "key": "k"}
        >>> record = {"cell": cell, "test_accuracy": 0.5, "init": {"init_seconds": 0.01}}
        >>> print(report_markdown([record], "t").splitlines()[-1])
        | EOI, uniform | **50.0** | 10 ms |
    """
    lines = [f"# {title}", ""]
    specs = _group(records, lambda r: r["cell"]["spec"])
    for spec, group in specs.items():
        lines.append(_describe(spec, group))
    for activation, group in _group(records, lambda r: r["cell"]["activation"]).items():
        lines += ["", f"## {activation}: test accuracy (%), mean ± std over seeds", ""]
        lines += _table(group, _accuracy, len(specs) > 1, bold_best=True, init_times=True)
        if any("jacobian" in r.get("init", {}) for r in group):
            lines += ["", f"## {activation}: Jacobian singular values at init", "",
                      "The spectrum's mean (its std), averaged over seeds; an isometry "
                      "has mean 1 and std 0.", ""]  # fmt: skip
            lines += _table(group, _jacobian, len(specs) > 1, bold_best=False, init_times=False)
    return "\n".join(lines) + "\n"


def _describe(spec: str, group: Records) -> str:
    cell = group[0]["cell"]
    recipe = dict(cell["recipe"])
    size = "x".join(str(cell[k]) for k in ("depth", "width") if cell.get(k) is not None)
    seeds = ", ".join(str(s) for s in sorted({r["cell"]["seed"] for r in group}))
    failed = sum(r["test_accuracy"] is None for r in group)
    epochs = recipe.get("epochs", "?")
    training = f"{epochs} epoch{'' if epochs == 1 else 's'} of {recipe.get('optimizer', 'sgd')}"
    if "learning_rate" in recipe:
        training += f" at lr {recipe['learning_rate']:g}"
    network = f"{cell['network']} {size}".rstrip()
    return (f"- **{spec}**: {network} on {cell['dataset']}, {training}; "
            f"{len(group)} runs ({failed} failed at init), seeds {seeds}.")  # fmt: skip


def _accuracy(runs: Records) -> tuple[float, str] | None:
    done = [r["test_accuracy"] for r in runs if r["test_accuracy"] is not None]
    if not done:
        return None
    mean, std = mean_std([100 * a for a in done])
    text = f"{mean:.1f} ± {std:.1f}" if len(done) > 1 else f"{mean:.1f}"
    failed = len(runs) - len(done)
    return round(mean, 1), text + (f" ({failed} failed)" if failed else "")


def _jacobian(runs: Records) -> tuple[float, str] | None:
    spectra = [r["init"]["jacobian"] for r in runs if "jacobian" in r.get("init", {})]
    if not spectra:
        return None
    mean = statistics.fmean(s["mean"] for s in spectra)
    std = statistics.fmean(s["std"] for s in spectra)
    return mean, f"{mean:.3g} ({std:.2g})"


def _table(
    group: Records,
    measure: Callable[[Records], tuple[float, str] | None],
    many: bool,
    *,
    bold_best: bool,
    init_times: bool,
) -> list[str]:
    columns = sorted(_group(group, column_of), key=lambda c: (_first(group, c[0]), c[1]))
    specs = list(dict.fromkeys(spec for spec, _ in columns))
    names = [f"{spec} {density:g}" if many else f"{density:g}" for spec, density in columns]
    times = [f"init time ({spec})" if many else "init time" for spec in specs] * init_times
    rows = rows_in_order(group)
    cells = {(row, column): _runs(group, row, column) for row in rows for column in columns}
    measured = {key: measure(runs) if runs else None for key, runs in cells.items()}
    best = {
        column: max((m[0] for (_, c), m in measured.items() if c == column and m), default=None)
        for column in columns
    }
    lines = ["| init, masks | " + " | ".join(names + times) + " |"]
    lines.append("|---" * (1 + len(names) + len(times)) + "|")
    for row in rows:
        texts = []
        for column in columns:
            runs, value = cells[row, column], measured[row, column]
            text = value[1] if value else ("failed" if runs else "")
            texts.append(
                f"**{text}**" if bold_best and value and value[0] == best[column] else text
            )
        for spec in specs[: len(times)]:
            seconds = [r["init"]["init_seconds"] for r in group if row_of(r) == row
                       and r["cell"]["spec"] == spec and "init" in r]  # fmt: skip
            texts.append(duration(statistics.median(seconds)) if seconds else "")
        lines.append(f"| {row} | " + " | ".join(texts) + " |")
    return lines


def _runs(group: Records, row: str, column: tuple[str, float]) -> Records:
    return [r for r in group if row_of(r) == row and column_of(r) == column]


def _first(group: Records, spec: str) -> int:
    return next(i for i, r in enumerate(group) if r["cell"]["spec"] == spec)


def _group(records: Records, key: Callable[[dict[str, Any]], Any]) -> dict[Any, Records]:
    groups: dict[Any, Records] = {}
    for record in records:
        groups.setdefault(key(record), []).append(record)
    return groups
