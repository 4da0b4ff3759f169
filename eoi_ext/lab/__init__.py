"""The eoi_ext lab: everything that runs experiments, beside the library.

The `eoi` command (eoi_ext.lab.cli: demo, train, info, bench), the paper's networks
(models), datasets that ship with a package or sit in a local root (data), a small
training loop (training), the demo and one-experiment runner (demo, experiment), and
the benchmark harness (bench). The library never imports it.

Data, plots and progress bars need the extra ``pip install "eoi_ext[lab]"``
(scikit-learn, matplotlib, tqdm), imported only where used: the models and `eoi info`
work with the library alone, and the commands that need the extra say so.
"""

from __future__ import annotations

import importlib.util

__all__ = ["EXTRA_PACKAGES", "INSTALL_EXTRA", "missing_extra"]

# import name -> distribution name of every package of the "lab" extra (pyproject.toml)
EXTRA_PACKAGES = {"sklearn": "scikit-learn", "matplotlib": "matplotlib", "tqdm": "tqdm"}
INSTALL_EXTRA = 'pip install "eoi_ext[lab]"'


def missing_extra() -> list[str]:
    """Distribution names of the lab extra's packages that are not installed."""
    return [
        distribution
        for module, distribution in EXTRA_PACKAGES.items()
        if importlib.util.find_spec(module) is None
    ]
