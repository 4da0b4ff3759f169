"""`eoi bench` and the benchmarks/ suite: one registry of contenders and workloads, one
timing core.

registry.CONTENDERS names everything timed (matrix_cells.py and network_cells.py say what
each runs), workloads.py what it runs on, timing.py how a call is timed and printed;
config.py, run.py and report.py are `eoi bench` itself, sharding.py its strong-scaling
rows. benchmarks/test_speed*.py time registry cases through the same core.
"""

from .config import BenchConfig, BenchResult, Row
from .registry import CONTENDERS, Case, Contender, available_methods, eoi_method, prepare
from .report import format_table, save_plot
from .run import measure_cell, run_bench
from .timing import format_seconds, repeat, synchronized
from .workloads import MatrixWorkload, NetworkWorkload

__all__ = [
    "CONTENDERS",
    "BenchConfig",
    "BenchResult",
    "Case",
    "Contender",
    "MatrixWorkload",
    "NetworkWorkload",
    "Row",
    "available_methods",
    "eoi_method",
    "format_seconds",
    "format_table",
    "measure_cell",
    "prepare",
    "repeat",
    "run_bench",
    "save_plot",
    "synchronized",
]
