"""The figures of `eoi report` (eoi_ext/lab/report_command.py), one set per spec, a
panel per activation: accuracy against density, the Jacobian's mean singular value at
init against density, training loss curves and singular-value histograms at the lowest
sparse density. A line's colour is its mask source, its style its init."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import torch

from .demo_report import VANISHED
from .output import pyplot, save_figure
from .report_records import mean_std, row_of, rows_in_order

__all__ = ["save_plots"]

Records = list[dict[str, Any]]
_TITLES = {
    "loss": "training loss",
    "singular-values": "input-output Jacobian's singular values at init",
    "accuracy": "test accuracy against density",
    "jacobian": "mean Jacobian singular value at init against density",
}
_FLOOR = 1e-16  # a histogram's left edge: a spectrum's tail can reach 0 in float64
_STYLES = {"dense": "-.", "base": ":", "ai": "--", "sao": (0, (1, 1, 5, 1)), "eoi": "-"}


def save_plots(records: Records, directory: str | Path) -> list[Path]:
    """Writes each spec's figures into `directory` as `<spec>-<figure>.png`.

    Args:
        records: run records (eoi_ext.lab.report_records.load_records).
        directory: where the PNGs go (made if missing).

    Returns:
        The files written.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for spec in dict.fromkeys(r["cell"]["spec"] for r in records):
        runs = [r for r in records if r["cell"]["spec"] == spec and "init" in r]
        if not runs:
            continue
        sparse = sorted({r["cell"]["density"] for r in runs if r["cell"]["masks"] != "dense"})
        lowest = sparse[0] if sparse else 1.0
        figures = {"loss": (_loss, lowest)}
        if any("jacobian" in r["init"] for r in runs):
            figures["singular-values"] = (_histogram, lowest)
        if len(sparse) > 1:
            figures["accuracy"] = (_accuracy_line, None)
            if any("jacobian" in r["init"] for r in runs):
                figures["jacobian"] = (_jacobian_line, None)
        for name, (draw, density) in figures.items():
            path = directory / f"{spec}-{name}.png"
            _figure(runs, draw, density, f"{spec}: {_TITLES[name]}", path)
            written.append(path)
    return written


def _figure(runs: Records, draw: Any, density: float | None, title: str, path: Path) -> None:
    activations = list(dict.fromkeys(r["cell"]["activation"] for r in runs))
    columns = min(len(activations), 2)
    rows = math.ceil(len(activations) / columns)
    figure, axes = pyplot().subplots(rows, columns, figsize=(5.5 * columns + 1.5, 4.2 * rows),
                                     squeeze=False)  # fmt: skip
    for axis in axes.flat[len(activations) :]:
        axis.set_visible(False)
    for axis, activation in zip(axes.flat, activations, strict=False):
        group = [r for r in runs if r["cell"]["activation"] == activation]
        draw(axis, group, density)
        axis.set_title(activation + ("" if density is None else f", density {density:g}"))
    axes[0][-1].legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1))
    figure.suptitle(title)
    save_figure(figure, path)


def _style(runs: Records, row: str, colours: dict[str, Any]) -> dict[str, Any]:
    cell = next(r["cell"] for r in runs if row_of(r) == row)
    init = "dense" if cell["masks"] == "dense" else cell["init"]
    colour = colours.setdefault(cell["masks"], f"C{len(colours) % 10}")
    return {"color": colour, "linestyle": _STYLES[init], "label": row}


def _by_density(runs: Records, row: str, value: Any) -> tuple[list[float], list, list]:
    densities = sorted({r["cell"]["density"] for r in runs if row_of(r) == row})
    means, stds = [], []
    for density in densities:
        values = [v for r in runs if row_of(r) == row and r["cell"]["density"] == density
                  if (v := value(r)) is not None]  # fmt: skip
        mean, std = mean_std(values) if values else (math.nan, 0.0)
        means.append(mean)
        stds.append(std)
    return densities, means, stds


def _accuracy_line(axis: Any, runs: Records, _: None) -> None:
    colours: dict[str, Any] = {}
    for row in rows_in_order(runs):
        style = _style(runs, row, colours)
        densities, means, stds = _by_density(runs, row, lambda r: r["test_accuracy"])
        if len(densities) == 1:  # dense: a level to compare against
            axis.axhline(100 * means[0], **style)
            continue
        axis.errorbar(densities, [100 * m for m in means], [100 * s for s in stds],
                      capsize=2, **style)  # fmt: skip
    axis.set(xscale="log", xlabel="density", ylabel="test accuracy (%)")


def _jacobian_line(axis: Any, runs: Records, _: None) -> None:
    colours: dict[str, Any] = {}
    for row in rows_in_order(runs):
        style = _style(runs, row, colours)
        densities, means, _ = _by_density(runs, row, lambda r: r["init"]["jacobian"]["mean"])
        axis.plot(densities, [max(m, VANISHED) for m in means], marker=".", **style)
    axis.axhline(1.0, color="grey", linewidth=0.8)
    axis.set(xscale="log", yscale="log", xlabel="density",
             ylabel=f"mean singular value (floor {VANISHED:g})")  # fmt: skip


def _at(runs: Records, density: float) -> Records:
    return [r for r in runs if r["cell"]["density"] == density or r["cell"]["masks"] == "dense"]


def _loss(axis: Any, runs: Records, density: float) -> None:
    colours: dict[str, Any] = {}
    runs = _at(runs, density)
    for row in rows_in_order(runs):
        curves = [r["fit"]["losses"] for r in runs if row_of(r) == row and r["fit"]["losses"]]
        if not curves:
            continue
        steps = min(len(c) for c in curves)
        mean = torch.tensor([c[:steps] for c in curves]).mean(dim=0)
        window = max(1, steps // 50)
        smooth = mean.unfold(0, window, 1).mean(dim=1)
        axis.plot(range(window - 1, steps), smooth, **_style(runs, row, colours))
    axis.set(xlabel="step", ylabel="training loss (mean over seeds)")


def _histogram(axis: Any, runs: Records, density: float) -> None:
    colours: dict[str, Any] = {}
    runs = [r for r in _at(runs, density) if "jacobian" in r["init"]]
    logs = {}
    for row in rows_in_order(runs):
        values = torch.tensor([v for r in runs if row_of(r) == row
                               for v in r["init"]["jacobian"].get("values", [])],
                              dtype=torch.float64)  # fmt: skip
        if len(values) and float(values.max()) >= VANISHED:
            logs[row] = torch.log10(values.clamp_min(_FLOOR))
        elif len(values):  # vanished: named in the legend, not drawn decades away
            axis.plot([], [], " ", label=f"{row}: vanished (max {float(values.max()):.2g})")
    if logs:
        low = min(float(v.min()) for v in logs.values())
        high = max(float(v.max()) for v in logs.values())
        bins = torch.linspace(low - 0.25, high + 0.25, 40).numpy()
        for row, values in logs.items():
            style = _style(runs, row, colours)
            axis.hist(values.numpy(), bins=bins, histtype="step", color=style["color"],
                      linestyle=style["linestyle"], label=row)  # fmt: skip
    axis.set(xlabel=f"log10 singular value (below {_FLOOR:g} at the left edge)", ylabel="count")
