"""`eoi bench`: EOI against every alternative, measured in one run on one machine."""

from .run import BenchConfig, BenchResult, available_methods, format_table, run_bench, save_plot

__all__ = [
    "BenchConfig",
    "BenchResult",
    "available_methods",
    "format_table",
    "run_bench",
    "save_plot",
]
