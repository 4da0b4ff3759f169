"""Experiment specs: the paper's experiments as TOML files (eoi_ext/lab/specs/), each
transcribing a published spec (specs/ of the published code) into eoi_ext's names.

A spec has tables `model`, `data`, `recipe` (and `measure`), an array `grid` of blocks
(the published params_grid: each block's list-valued axes seed, density, masks, init,
activation expand as a product; scalar keys are the block's own settings), and the
tables of its smaller scales, `[smoke]` and optionally `[cpu]` (eoi_ext/lab/spec_scales.py).
Everything is checked at load, with errors naming the file and the key.
"""

from __future__ import annotations

import itertools
import sys
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from .networks import NETWORKS
from .recipe import Recipe
from .spec_grid import RunCell, cell_recipe, check_cell
from .spec_scales import AXES, SCALES, check_scale_table, no_unknown, scale_settings

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - the lab extra installs tomli there
    import tomli as tomllib

__all__ = ["SCALES", "SPEC_DIR", "ExperimentSpec", "expand", "load_spec", "spec_names"]

SPEC_DIR = Path(__file__).with_name("specs")
_TABLES = {
    "model": {"network", "depth", "width", "activation", "gain", "bias_std", "conv_mode"},
    "data": {"dataset"},
    # The Recipe's fields, and the init's own settings (eoi_ext/lab/run_init.py).
    "recipe": {f.name for f in fields(Recipe)} | {"ai_iterations", "synflow_rounds"},
    "measure": {"jacobian"},
}
_BLOCK_SETTINGS = {"label", "double_precision", "learning_rate", "weight_decay"}


@dataclass(frozen=True)
class ExperimentSpec:
    """A loaded spec: its name, title, the published file it transcribes, and its tables
    as plain dicts (see the module docstring).

    Attributes:
        name, title, published: as the file says.
        model, data, recipe, measure: the tables.
        grid: the blocks.
        scales: scale name -> its table ("smoke", and "cpu" where the spec has one).
        path: the file.
    """

    name: str
    title: str
    published: str
    model: dict[str, Any]
    data: dict[str, Any]
    recipe: dict[str, Any]
    measure: dict[str, Any]
    grid: list[dict[str, Any]]
    scales: dict[str, dict[str, Any]]
    path: Path


def spec_names() -> list[str]:
    """The specs that ship with eoi_ext, by name.

    Returns:
        Sorted names, e.g. "res32".

    Examples:
        >>> "res32" in eoi_ext.lab.spec_files.spec_names()
        True
    """
    return sorted(path.stem for path in SPEC_DIR.glob("*.toml"))


def load_spec(spec: str | Path) -> ExperimentSpec:
    """Reads and checks a spec: a name of spec_names() or a path to a TOML file.

    Args:
        spec: the spec's name or file.

    Returns:
        The ExperimentSpec.

    Raises:
        FileNotFoundError: no such spec. ValueError: a key or value the format does not
            allow, naming the file and the key.

    Examples:
        >>> spec = eoi_ext.lab.spec_files.load_spec("res32")
        >>> spec.model["network"], spec.published
        ('cifar_resnet', 'specs/contemporary-networks/res32.py')
    """
    path = Path(spec) if str(spec).endswith(".toml") else SPEC_DIR / f"{spec}.toml"
    if not path.is_file():
        raise FileNotFoundError(f"spec {spec!r} not found: give a .toml file or one of "
                                f"{', '.join(spec_names())}")  # fmt: skip
    raw = tomllib.loads(path.read_text())
    where = path.name
    known = {"name", "title", "published", "grid", *SCALES[1:], *_TABLES}
    no_unknown(raw, known, where)
    tables = {table: dict(raw.get(table, {})) for table in _TABLES}
    for table, keys in _TABLES.items():
        no_unknown(tables[table], keys, f"{where} [{table}]")
    if tables["model"].get("network") not in NETWORKS:
        raise ValueError(f"{where} [model] network must be one of {', '.join(NETWORKS)}")
    grid = raw.get("grid")
    if not isinstance(grid, list) or not grid:
        raise ValueError(f"{where}: grid must hold at least one [[grid]] block")
    scales = {scale: dict(raw[scale]) for scale in SCALES[1:] if scale in raw}
    for scale, table in scales.items():
        check_scale_table(table, f"{where} [{scale}]")
    loaded = ExperimentSpec(
        str(raw.get("name", path.stem)), str(raw.get("title", "")), str(raw.get("published", "")),
        tables["model"], tables["data"], tables["recipe"], tables["measure"],
        [dict(block) for block in grid], scales, path,
    )  # fmt: skip
    for scale in ["paper", *scales]:  # every cell and recipe of every scale is checked now
        for cell in {(c.recipe, c.options): c for c in expand(loaded, scale)}.values():
            try:
                cell_recipe(cell)
            except (TypeError, ValueError) as error:
                raise ValueError(f"{where} [{scale}] recipe: {error}") from None
    return loaded


def expand(spec: ExperimentSpec, scale: str = "paper") -> list[RunCell]:
    """Every run of `spec` at `scale`, in grid order.

    Args:
        spec: a loaded spec.
        scale: "paper" (the published values), "smoke" (seconds per run) or "cpu" (a
            sweep for a 2-core CPU), where the spec has that scale.

    Returns:
        The cells; their keys are unique.

    Raises:
        ValueError: a scale the spec lacks, a block that names a value the vocabulary
            lacks or pairs dense and sparse settings, or a scale that keeps no run.

    Examples:
        >>> spec = eoi_ext.lab.spec_files.load_spec("res32")
        >>> len(eoi_ext.lab.spec_files.expand(spec, "paper"))  # 40 dense, 150, 225
        415
    """
    scaled = scale_settings(spec, scale)
    model, data = scaled.model, scaled.data
    recipe = {k: tuple(v) if isinstance(v, list) else v for k, v in scaled.recipe.items()}
    cells: dict[str, RunCell] = {}
    for index, block in enumerate(spec.grid):
        where = f"{spec.path.name} grid block {index + 1}"
        no_unknown(block, {*AXES, *_BLOCK_SETTINGS}, where)
        axes = {axis: block.get(axis) for axis in AXES}
        axes["activation"] = axes["activation"] or [model.get("activation", "relu")]
        axes = scaled.block_axes(axes)
        for axis, values in axes.items():
            if not isinstance(values, list) or not values:
                raise ValueError(f"{where}: {axis} must be a non-empty list")
        options = tuple(sorted((k, v) for k, v in block.items() if k not in (*AXES, "label")))
        for run in itertools.product(*axes.values()):
            seed, density, masks, init, act = run
            check_cell(where, density, masks, init, act)
            if not scaled.keeps(dict(zip(AXES, run, strict=True))):
                continue
            cell = RunCell(
                spec.name, str(block.get("label", index + 1)), model["network"],
                model.get("depth"), model.get("width"), act, float(model.get("gain", 1.0)),
                float(model.get("bias_std", 0.0)), model.get("conv_mode"), data["dataset"],
                float(density), masks, init, int(seed), tuple(sorted(recipe.items())), options,
            )  # fmt: skip
            earlier = cells.setdefault(cell.key, cell)
            # A smaller scale's narrower axes can fold blocks onto one another: the same
            # run twice is one run there; anything else twice is a spec's mistake.
            folded = scale != "paper" and replace(earlier, block=cell.block) == cell
            if earlier is not cell and not folded:
                raise ValueError(f"{where}: run {cell.key} is in an earlier block too")
    if not cells:
        raise ValueError(f"{spec.path.name} [{scale}]: keeps no run of the grid")
    return list(cells.values())
