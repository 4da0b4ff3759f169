"""`eoi report DIR [DIR ...]`: the paper-style tables and figures of one or more sweeps
(eoi run's record directories; slices written apart merge): the markdown
(eoi_ext/lab/report_tables.py) on stdout and in a file, the figures
(eoi_ext/lab/report_plots.py) as PNGs beside it, linked from it; with --json, the
numbers for machines (eoi_ext.lab.report_records.summarize)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

__all__ = ["add_report_parser", "run_report_command"]


def add_report_parser(commands: Any) -> None:
    """Adds the `report` subcommand to an argparse subparsers object."""
    report = commands.add_parser("report", help="tables and figures of eoi run's records")
    report.add_argument("dirs", nargs="+", help="record directories (eoi run --out)")
    report.add_argument("--out", default=None, help="markdown file (<first DIR>/report.md)")
    report.add_argument("--plots", default=None, help="PNG directory (beside --out)")
    report.add_argument("--no-plots", action="store_true", help="tables only")
    report.add_argument("--json", default=None, help="the numbers as JSON (for machines)")


def run_report_command(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    """Reads the records, prints the markdown, writes it and the figures."""
    from .output import write_json
    from .report_records import load_records, summarize
    from .report_tables import report_markdown

    try:
        records = load_records(args.dirs)
    except FileNotFoundError as error:
        parser.error(str(error))
    out = Path(args.out or Path(args.dirs[0]) / "report.md")
    text = report_markdown(records, "Results of " + ", ".join(args.dirs))
    if not args.no_plots:
        from .report_plots import save_plots

        plots = save_plots(records, args.plots or out.parent)
        links = [f"![{p.stem}]({Path(os.path.relpath(p, out.parent)).as_posix()})" for p in plots]
        text += "\n## Figures\n\n" + "\n\n".join(links) + "\n"
    print(text, end="")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    if args.json:
        write_json({"schema": "eoi-report/1", "entries": summarize(records)}, args.json)
