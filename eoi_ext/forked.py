"""eoi_ext in a process made by os.fork (docs/reliability.md, "After fork").

torch's CPU parallelism is an OpenMP pool; a child forked after the parent used it
hangs on its first parallel region (torch's own ops as well). eoi_ext's construction
(eoi_ext.build, sparsify) therefore runs with one thread in a forked child, and
restores the thread count afterwards. DataLoader workers already run with one thread;
for parallel work in children, use the "spawn" or "forkserver" start method.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

import torch

__all__ = ["in_forked_child", "single_threaded_if_forked"]

_forked = False
_warned = False


def _mark_forked() -> None:
    global _forked
    _forked = True


if hasattr(os, "register_at_fork"):  # POSIX only; elsewhere processes are spawned
    os.register_at_fork(after_in_child=_mark_forked)


def in_forked_child() -> bool:
    """Whether this process was made by os.fork from one that had imported eoi_ext.

    Returns:
        True in a forked child.

    Examples:
        >>> eoi_ext.forked.in_forked_child()
        False
    """
    return _forked


@contextmanager
def single_threaded_if_forked() -> Iterator[None]:
    """Runs the block with torch.set_num_threads(1) in a forked child (where OpenMP's
    pool would hang), and restores the thread count after; elsewhere does nothing.

    Examples:
        >>> with eoi_ext.forked.single_threaded_if_forked():
        ...     W, M = eoi_ext.sparse_orthogonal(8, 8, 0.5)
    """
    global _warned
    threads = torch.get_num_threads()
    if not _forked or threads == 1:
        yield
        return
    if not _warned:
        _warned = True
        warnings.warn(
            "eoi_ext runs single-threaded in this forked process (OpenMP's pool hangs after "
            "fork); use the 'spawn' start method for parallel work in child processes",
            RuntimeWarning,
            stacklevel=3,
        )
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)
