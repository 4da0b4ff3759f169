"""A spec's scales (eoi_ext/lab/spec_files.py). "paper" is the published values. A
spec's `[smoke]` table makes every run take seconds on a laptop (CI runs every spec so),
and an optional `[cpu]` table sizes a sweep for a 2-core CPU within the hour (the sweeps
of benchmarks/RESULTS.md). A scale table changes `model`, `data` and `recipe`; its `grid`
replaces axes in every block (dense blocks keep density 1); its `only` keeps the runs
whose axes take one of the listed values (e.g. one mask source of five).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["AXES", "SCALES", "ScaleSettings", "check_scale_table", "no_unknown", "scale_settings"]

SCALES = ("paper", "smoke", "cpu")
AXES = ("seed", "density", "masks", "init", "activation")
_KEYS = {"model", "data", "recipe", "grid", "only"}


@dataclass(frozen=True)
class ScaleSettings:
    """A spec's tables at one scale.

    Attributes:
        model, data, recipe: the spec's tables with the scale's changes.
        grid: axis -> values that replace the blocks' (dense blocks keep density 1).
        only: axis -> the values a run must take to be kept.
    """

    model: dict[str, Any]
    data: dict[str, Any]
    recipe: dict[str, Any]
    grid: dict[str, list[Any]]
    only: dict[str, list[Any]]

    def block_axes(self, axes: dict[str, Any]) -> dict[str, Any]:
        """A block's axes with the scale's `grid` in place of its own."""
        replaced = dict(axes)
        for axis, values in self.grid.items():
            if not (axis == "density" and axes["masks"] == ["dense"]):
                replaced[axis] = values
        return replaced

    def keeps(self, run: dict[str, Any]) -> bool:
        """Whether a run, given as axis -> value, is at this scale."""
        return all(run[axis] in values for axis, values in self.only.items())


def check_scale_table(table: dict[str, Any], where: str) -> None:
    """Raises ValueError, naming `where`, unless `table` is a scale table: known keys,
    and `grid` and `only` mapping known axes to non-empty lists.

    Args:
        table: the scale's table as read from TOML.
        where: the file and table, for the message.

    Examples:
        >>> from eoi_ext.lab.spec_scales import check_scale_table
        >>> check_scale_table({"only": {"masks": "uniform"}}, "x.toml [cpu]")
        Traceback (most recent call last):
        ValueError: x.toml [cpu] only: masks must be a non-empty list
    """
    no_unknown(table, _KEYS, where)
    for key in ("grid", "only"):
        for axis, values in table.get(key, {}).items():
            if axis not in AXES:
                raise ValueError(f"{where} {key}: unknown axis {axis}")
            if not isinstance(values, list) or not values:
                raise ValueError(f"{where} {key}: {axis} must be a non-empty list")


def scale_settings(spec: Any, scale: str) -> ScaleSettings:
    """`spec`'s tables at `scale`.

    Args:
        spec: an eoi_ext.lab.spec_files.ExperimentSpec.
        scale: one of SCALES that the spec has ("paper" always).

    Returns:
        The ScaleSettings.

    Raises:
        ValueError: an unknown scale, or one the spec has no table for.

    Examples:
        >>> from eoi_ext.lab.spec_files import load_spec
        >>> from eoi_ext.lab.spec_scales import scale_settings
        >>> scale_settings(load_spec("deep-mlp"), "smoke").model["depth"]
        20
    """
    if scale not in SCALES:
        raise ValueError(f"scale must be one of {', '.join(SCALES)}, got {scale!r}")
    if scale != "paper" and scale not in spec.scales:
        have = ", ".join(["paper", *spec.scales])
        raise ValueError(f"scale {scale!r}: spec {spec.name} has no [{scale}] table "
                         f"(its scales: {have})")  # fmt: skip
    table = spec.scales.get(scale, {})
    return ScaleSettings(
        {**spec.model, **table.get("model", {})},
        {**spec.data, **table.get("data", {})},
        {**spec.recipe, **table.get("recipe", {})},
        dict(table.get("grid", {})),
        dict(table.get("only", {})),
    )


def no_unknown(table: dict[str, Any], known: set[str], where: str) -> None:
    """Raises ValueError, naming `where`, if `table` has keys outside `known`."""
    unknown = sorted(set(table) - known)
    if unknown:
        raise ValueError(f"{where}: unknown keys {', '.join(unknown)}")
