"""The library's two warnings, pointed at the user's line (docs/algorithm.md, "Stopping
rule"): a density no orthogonal matrix reaches, and modules sparsify leaves dense. Each
warning's stacklevel is the first frame outside eoi_ext, whichever public entry point
was called.
"""

from __future__ import annotations

import sys
import warnings

__all__ = ["caller_stacklevel", "warn_if_unreachable", "warn_left_dense"]

_LISTED = 8  # modules named in the "left dense" warning; the rest are counted


def caller_stacklevel() -> int:
    """The warnings.warn stacklevel of the first frame outside eoi_ext, as seen from the
    function calling this one, so a warning points at the user's line whichever public
    entry point was used."""
    frame = sys._getframe(2)  # the caller of the warning function: stacklevel 2
    level = 2
    while frame is not None and _in_package(frame.f_globals.get("__name__", "")):
        frame = frame.f_back
        level += 1
    return level


def _in_package(module: str) -> bool:
    return module == "eoi_ext" or module.startswith("eoi_ext.")


def warn_if_unreachable(density: float, rows: int, cols: int, label: str = "") -> None:
    """Densities below 1/max(rows, cols) (a scaled partial permutation, no rotation) cannot
    be reached by an orthogonal matrix: the minimum-density matrix is returned. `label`
    names the weights (sparsify: their layers)."""
    minimum = 1.0 / max(rows, cols)
    if density < minimum:
        warnings.warn(
            (f"{label}: " if label else "")
            + f"density {density:g} is below the minimum {minimum:g} reachable by an exactly "
            f"orthogonal {rows}x{cols} matrix; returning the minimum-density matrix "
            f"(achieved density {minimum:g})",
            UserWarning,
            stacklevel=caller_stacklevel(),
        )


def warn_left_dense(unsupported: list[str], supported: str) -> None:
    """Names (the first few of) the modules with weights sparsify does not support."""
    if not unsupported:
        return
    shown = ", ".join(unsupported[:_LISTED]) + (
        f" and {len(unsupported) - _LISTED} more" if len(unsupported) > _LISTED else ""
    )
    warnings.warn(
        f"sparsify left these modules dense (unsupported types; supported: {supported}): " + shown,
        UserWarning,
        stacklevel=caller_stacklevel(),
    )
