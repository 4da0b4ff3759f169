"""The records `eoi report` reads (eoi_ext/lab/run_cell.py writes them, schema
"eoi-run/1"): found under one or more sweep directories, so slices written apart merge,
and grouped into the rows (init x masks) and columns (spec, density) of the paper's
tables."""

from __future__ import annotations

import json
import statistics
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .run_cell import SCHEMA

__all__ = [
    "INIT_NAMES",
    "column_of",
    "load_records",
    "mean_std",
    "row_of",
    "rows_in_order",
    "summarize",
]

INIT_NAMES = {"base": "base", "ai": "AI", "eoi": "EOI", "sao": "SAO"}
_INIT_ORDER = ("dense", "base", "ai", "sao", "eoi")  # EOI last: the row read against


def load_records(dirs: Iterable[str | Path]) -> list[dict[str, Any]]:
    """Every run record under `dirs` (recursively; checkpoints and files of other
    schemas are passed over), one per (spec, run key): the slices of a sweep merge.

    Args:
        dirs: sweep directories (`eoi run --out`).

    Returns:
        The records, ordered by spec and key.

    Raises:
        FileNotFoundError: a directory that does not exist, or no record at all.

    Examples:
        >>> eoi_ext.lab.report_records.load_records(["no-such-dir"])
        Traceback (most recent call last):
        FileNotFoundError: dirs: no-such-dir is not a directory
    """
    records: dict[tuple[str, str], dict[str, Any]] = {}
    dirs = [Path(d) for d in dirs]
    for directory in dirs:
        if not directory.is_dir():
            raise FileNotFoundError(f"dirs: {directory} is not a directory")
        for path in sorted(directory.rglob("*.json")):
            if "checkpoints" in path.parts:
                continue
            try:
                record = json.loads(path.read_text())
            except (OSError, ValueError):
                continue
            if isinstance(record, dict) and record.get("schema") == SCHEMA:
                cell = record["cell"]
                records.setdefault((cell["spec"], cell["key"]), record)
    if not records:
        names = ", ".join(str(d) for d in dirs)
        raise FileNotFoundError(f"dirs: no {SCHEMA} records under {names} (eoi run writes them)")
    return [records[key] for key in sorted(records)]


def row_of(record: dict[str, Any]) -> str:
    """A record's table row: its init and masks, as the paper's tables name them.

    Examples:
        >>> row = eoi_ext.lab.report_records.row_of
        >>> row({"cell": {"masks": "erk", "init": "eoi"}}), row({"cell": {"masks": "dense",
        ...     "init": "orthogonal"}})
        ('EOI, erk', 'dense, orthogonal')
    """
    cell = record["cell"]
    if cell["masks"] == "dense":
        return f"dense, {cell['init']}"
    return f"{INIT_NAMES[cell['init']]}, {cell['masks']}"


def column_of(record: dict[str, Any]) -> tuple[str, float]:
    """A record's table column: (spec, density)."""
    return record["cell"]["spec"], record["cell"]["density"]


def rows_in_order(records: list[dict[str, Any]]) -> list[str]:
    """The rows of `records`: dense first, then by init (base, AI, SAO, EOI), each by
    mask source in the order met."""
    first: dict[str, tuple[int, int]] = {}
    for index, record in enumerate(records):
        cell = record["cell"]
        rank = _INIT_ORDER.index("dense" if cell["masks"] == "dense" else cell["init"])
        first.setdefault(row_of(record), (rank, index))
    return sorted(first, key=first.__getitem__)


def mean_std(values: list[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (0 for one value).

    Examples:
        >>> eoi_ext.lab.report_records.mean_std([1.0, 2.0, 3.0])
        (2.0, 1.0)
    """
    mean = statistics.fmean(values)
    return mean, statistics.stdev(values) if len(values) > 1 else 0.0


def summarize(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The report's numbers for machines (`eoi report --json`): one entry per spec,
    activation, density, masks and init, over its seeds.

    Args:
        records: run records.

    Returns:
        Entries with the cell's names, `runs`, `failed`, and the mean and std over the
        seeds that ran of `test_accuracy` and of the Jacobian's spectrum `mean`, and the
        median `init_seconds` (None where no seed ran).

    Examples:
        >>> cell = {"spec": "s", "activation": "tanh", "density": 0.5, "masks": "uniform",
        ...         "init": "eoi"}
        >>> runs = [{"cell": cell, "test_accuracy": a, "init": {"init_seconds": 1.0}}
        ...         for a in (0.5, 0.7)]
        >>> entry = eoi_ext.lab.report_records.summarize(runs)[0]
        >>> entry["runs"], round(entry["test_accuracy"][0], 3), entry["jacobian_mean"]
        (2, 0.6, None)
    """
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    names = ("spec", "activation", "density", "masks", "init")
    for record in records:
        groups.setdefault(tuple(record["cell"][n] for n in names), []).append(record)
    entries = []
    for key, runs in groups.items():
        ran = [r for r in runs if r["test_accuracy"] is not None]
        spectra = [r["init"]["jacobian"]["mean"] for r in ran if "jacobian" in r["init"]]
        entries.append({
            **dict(zip(names, key, strict=True)),
            "runs": len(runs),
            "failed": len(runs) - len(ran),
            "test_accuracy": mean_std([r["test_accuracy"] for r in ran]) if ran else None,
            "jacobian_mean": mean_std(spectra) if spectra else None,
            "init_seconds": statistics.median(r["init"]["init_seconds"] for r in ran)
            if ran else None,
        })  # fmt: skip
    return entries
