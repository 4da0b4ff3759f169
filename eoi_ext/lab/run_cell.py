"""One run of an experiment spec (eoi_ext/lab/spec_grid.py, RunCell), start to record:
the network built for the dataset, initialized as the cell says (run_init.py), measured
at init, trained with the spec's recipe (fit.py: per-epoch checkpoints, so a killed run
resumes), and its record written as JSON, atomically, as `<out>/<key>.json`. A run whose
record exists is done and is not run again: a killed sweep resumes where it stopped.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import json
import os
import shutil
from pathlib import Path
from typing import Any

import torch

from ..metrics import jacobian_singular_values, orthogonality_errors
from .data import Dataset, load_dataset
from .experiment import spectrum_summary
from .fit import fit
from .networks import build_network
from .run_init import initialize
from .spec_grid import RunCell, cell_recipe

__all__ = ["SCHEMA", "record_path", "run_cell"]

SCHEMA = "eoi-run/1"
_DATA: dict[tuple[str, str | None], Dataset] = {}  # one load per dataset per process


def record_path(out_dir: str | Path, cell: RunCell) -> Path:
    """Where `cell`'s record is written: `<out_dir>/<cell.key>.json`.

    Args:
        out_dir: the sweep's output directory.
        cell: the run.

    Returns:
        The path.

    Examples:
        >>> from eoi_ext.lab.spec_grid import RunCell
        >>> cell = RunCell("t", "b", "mlp", 3, 8, "tanh", 1.0, 0.0, None, "digits",
        ...                0.5, "uniform", "eoi", 1)
        >>> eoi_ext.lab.run_cell.record_path("out", cell).name
        'uniform-eoi-d0.5-tanh-s1.json'
    """
    return Path(out_dir) / f"{cell.key}.json"


def run_cell(
    cell: RunCell,
    out_dir: str | Path,
    *,
    root: str | None = None,
    device: str | torch.device = "cpu",
    jacobian: bool = True,
    progress: bool = False,
) -> dict[str, Any]:
    """Runs `cell` and writes its record, or reads the record of a finished run.

    Args:
        cell: the run.
        out_dir: the sweep's directory (records, and checkpoints while a run is going).
        root: the local dataset root (MNIST, CIFAR, Tiny ImageNet; none for digits and
            synthetic data).
        device: where to train.
        jacobian: record the input-output Jacobian's singular values at init (4 test
            inputs, in float64).
        progress: a bar over the run's minibatches.

    Returns:
        The record (schema "eoi-run/1"): the cell, its init, the fit; or, where the
        init cannot be built (a density SAO cannot reach, a SynFlow flow that
        underflowed), the cell and the error, with test_accuracy None.

    Examples:
        >>> import tempfile
        >>> from eoi_ext.lab.spec_files import expand, load_spec
        >>> cells = expand(load_spec("deep-mlp"), "smoke")
        >>> cell = next(c for c in cells if c.key.startswith("uniform-base"))
        >>> record = eoi_ext.lab.run_cell.run_cell(cell, tempfile.mkdtemp(), jacobian=False)
        >>> record["cell"]["init"], len(record["fit"]["test_accuracies"])
        ('base', 1)
    """
    path = record_path(out_dir, cell)
    if path.exists():
        return json.loads(path.read_text())
    data = _dataset(cell.dataset, root)
    generator = torch.Generator().manual_seed(cell.seed)
    torch.manual_seed(cell.seed)  # dropout and anything else on the global generator
    model = build_network(cell.network, cell.depth, cell.width, cell.activation,
                          data.input_shape, data.num_classes)[0]  # fmt: skip
    try:
        init = initialize(model, cell, data, generator)
    except ValueError as error:  # an init this cell cannot build: recorded, not retried
        record = {"schema": SCHEMA, "cell": _cell(cell), "error": str(error),
                  "test_accuracy": None}  # fmt: skip
        _write_atomically(path, record)
        return record
    errors = orthogonality_errors(model, gain=cell.gain)
    init["orthogonality_error"] = max(errors.values(), default=0.0)
    if jacobian:
        twin = copy.deepcopy(model).double()  # float64: 1000 layers underflow float32
        values = jacobian_singular_values(twin, data.x_test[:4].double()).flatten()
        # The values too: the report's histograms (eoi_ext/lab/report_plots.py).
        init["jacobian"] = {**spectrum_summary(values), "values": values.tolist()}
    checkpoints = Path(out_dir) / "checkpoints" / cell.key
    result = fit(model.to(device), data, cell_recipe(cell), generator=generator,
                 checkpoint_dir=checkpoints, progress=cell.key if progress else None)  # fmt: skip
    record = {
        "schema": SCHEMA,
        "cell": _cell(cell),
        "init": init,
        "fit": dataclasses.asdict(result),
        "test_accuracy": result.test_accuracies[-1],
    }
    _write_atomically(path, record)
    shutil.rmtree(checkpoints, ignore_errors=True)
    with contextlib.suppress(OSError):  # the last run's: the directory is empty then
        checkpoints.parent.rmdir()
    return record


def _cell(cell: RunCell) -> dict[str, Any]:
    return {**dataclasses.asdict(cell), "key": cell.key}


def _dataset(name: str, root: str | None) -> Dataset:
    """The test split is fixed across a sweep's seeds (as published); digits' split
    is seed 0's."""
    if (name, root) not in _DATA:
        _DATA[name, root] = load_dataset(name, root, seed=0)
    return _DATA[name, root]


def _write_atomically(path: Path, record: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(record, indent=1, default=str))
    os.replace(temporary, path)
