"""What `eoi demo` shows (eoi_ext/lab/demo.py): its table and its figure."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import torch

from .output import pyplot, save_figure

if TYPE_CHECKING:
    from .demo import DemoConfig, MethodResult

__all__ = ["VANISHED", "duration", "print_table", "save_plot"]

VANISHED = 1e-12  # the plot's floor for a Jacobian's largest singular value


def duration(seconds: float) -> str:
    """A wall time in the unit a person reads it in: ms, s or min."""
    if seconds < 1:
        return f"{seconds * 1e3:.0f} ms"
    return f"{seconds:.1f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


def print_table(results: list[MethodResult]) -> None:
    print("\n| method | init | orthogonality error | Jacobian singular values | test accuracy |")
    print("|---|---|---|---|---|")
    for r in results:
        print(
            f"| {r.method} | {duration(r.init_seconds)} | {r.orthogonality_error:.2e} | "
            f"{r.jacobian_summary()} | {r.training.test_accuracy:.1%} |"
        )


def save_plot(results: list[MethodResult], path: str, config: DemoConfig) -> None:
    """Loss curves and the Jacobian's singular-value histograms of every method."""
    figure, (losses, spectra) = pyplot().subplots(1, 2, figsize=(11, 4))
    window = max(1, config.steps // 20)
    # A signal that vanished through the depth (largest singular value below VANISHED,
    # often exactly 0 in float64) gets a legend entry instead of a bar hundreds of
    # decades away that would squeeze every other histogram into one bin.
    logs = {
        r.method: torch.log10(r.singular_values.clamp_min(1e-300))
        for r in results
        if float(r.singular_values.max()) >= VANISHED
    }
    low = min((float(v.min()) for v in logs.values()), default=0.0)
    high = max((float(v.max()) for v in logs.values()), default=0.0)
    bins = torch.linspace(low - 0.5, high + 0.5, 50).numpy()  # shared, so widths compare
    for r in results:
        values = torch.tensor(r.training.losses)
        smooth = values.unfold(0, window, 1).mean(dim=1) if len(values) >= window else values
        losses.plot(range(window - 1, window - 1 + len(smooth)), smooth, label=r.method)
        if r.method in logs:
            spectra.hist(logs[r.method].numpy(), bins=bins, alpha=0.6, label=r.method)
        else:
            largest = float(r.singular_values.max())
            spectra.plot([], [], " ", label=f"{r.method}: vanished (max {largest:.2g})")
    losses.set(xlabel="step", ylabel=f"training loss (mean of {window})", title="training")
    losses.axhline(math.log(10), color="grey", linestyle=":", linewidth=1)
    losses.legend()
    spectra.set(
        xlabel="log10 singular value", ylabel="count", title="input-output Jacobian at init"
    )
    spectra.legend()
    title = f"{config.depth}-layer tanh MLP at density {config.density:g} ({config.distribution})"
    figure.suptitle(f"{title} on digits")
    save_figure(figure, path)
