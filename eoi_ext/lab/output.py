"""What the lab writes for people and machines: JSON files, figures, progress bars.

matplotlib and tqdm come with the lab extra and are imported only here, when used.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

__all__ = ["progress_bar", "pyplot", "save_figure", "write_json"]


def write_json(data: dict[str, Any], path: str | Path) -> None:
    """Writes `data` as indented JSON to `path`."""
    Path(path).write_text(json.dumps(data, indent=2))


def pyplot() -> Any:
    """matplotlib.pyplot on the Agg backend (files only, no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(figure: Any, path: str | Path) -> None:
    """Saves a matplotlib figure as a PNG and frees it."""
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    pyplot().close(figure)


def progress_bar(
    total: int | None, desc: str, *, enabled: bool = True, unit: str = "it", leave: bool = True
) -> Any:
    """A tqdm bar, or None when disabled (callers then skip .update / .close); one that
    does not `leave` is erased when done (a run's bar under a sweep's)."""
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit=unit, leave=leave)
