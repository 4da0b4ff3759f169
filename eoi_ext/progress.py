"""Progress of the library's long loops, for whoever shows it.

The library shows nothing itself (it needs only torch and numpy); a caller that wants a
bar, a log line or a timeout registers a callback with :func:`reporting` around any
call, e.g. sparsify with method "ai", whose 1000 SGD steps take minutes on a 1000-layer
network (eoi_ext/baselines/published_isometry.py reports each). The lab's demo turns it
into a tqdm bar (eoi_ext/lab/demo.py). A context variable, so threads and async tasks
each see their own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

__all__ = ["Reporter", "report", "reporting"]

# (what, steps done, steps in all)
Reporter = Callable[[str, int, int], None]

_REPORTER: ContextVar[Reporter | None] = ContextVar("eoi_ext_progress", default=None)


@contextmanager
def reporting(callback: Reporter) -> Iterator[None]:
    """Within the block, the library's long loops call `callback(what, done, total)`
    after each step (`what` names the loop, e.g. "ai").

    Args:
        callback: called with (what, steps done, steps in all).

    Examples:
        >>> seen = []
        >>> w, m = eoi_ext.baselines.orthogonal_base((8, 8), 0.5, count=1)
        >>> with eoi_ext.progress.reporting(lambda what, done, total: seen.append(done)):
        ...     _ = eoi_ext.baselines.published_isometry(w, m, iterations=3)
        >>> seen
        [1, 2, 3]
    """
    token = _REPORTER.set(callback)
    try:
        yield
    finally:
        _REPORTER.reset(token)


def report(what: str, done: int, total: int) -> None:
    """Tells the callback of the enclosing :func:`reporting` block, if any, that `done`
    of `total` steps of `what` are done.

    Args:
        what: the loop's name.
        done: steps done.
        total: steps in all.

    Examples:
        >>> eoi_ext.progress.report("ai", 1, 10)  # outside reporting(): nothing happens
    """
    callback = _REPORTER.get()
    if callback is not None:
        callback(what, done, total)
