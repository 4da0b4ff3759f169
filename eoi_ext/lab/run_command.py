"""`eoi run SPEC`: a spec's grid (eoi_ext/lab/spec_files.py), run by run
(eoi_ext/lab/run_cell.py), with a bar over the runs; records already written are
skipped, so a killed sweep resumes, and `--only k/N` runs one of N disjoint slices, so a
scheduler spreads a sweep (a SLURM job array of N tasks, or one process per GPU:
docs/experiments.md)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from .arguments import device_value, positive_int
from .spec_scales import SCALES

__all__ = ["add_run_parser", "run_run_command"]


def add_run_parser(commands: Any) -> None:
    """Adds the `run` subcommand to an argparse subparsers object."""
    run = commands.add_parser("run", help="a paper experiment from its spec, run by run")
    run.add_argument("spec", help="a spec name (eoi_ext/lab/specs) or a .toml file")
    run.add_argument("--scale", choices=SCALES, default="paper")
    run.add_argument("--seeds", type=positive_int, default=None, help="the first N seeds")
    run.add_argument("--only", default=None, help="k/N: the k-th of N slices of the grid")
    run.add_argument("--root", default=None, help="local dataset root (no downloads)")
    run.add_argument("--device", type=device_value, default="cpu", help="cpu or cuda")
    run.add_argument("--out", default=None, help="records directory (runs/<spec>-<scale>)")
    run.add_argument("--no-jacobian", action="store_true", help="skip the init's Jacobian")
    run.add_argument("--no-progress", action="store_true", help="no progress bars")


def run_run_command(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    """Checks the flags, expands the grid, runs every run not yet recorded."""
    from .output import progress_bar
    from .run_cell import record_path, run_cell
    from .spec_files import expand, load_spec
    from .spec_grid import parse_slice, take_slice

    try:
        spec = load_spec(args.spec)
        only = parse_slice(args.only) if args.only else (1, 1)
    except (FileNotFoundError, ValueError) as error:
        parser.error(str(error))
    cells = expand(spec, args.scale)
    if args.seeds is not None:
        keep = sorted({cell.seed for cell in cells})[: args.seeds]
        cells = [cell for cell in cells if cell.seed in keep]
    cells = take_slice(cells, *only)
    out = Path(args.out or f"runs/{spec.name}-{args.scale}")
    todo = [cell for cell in cells if not record_path(out, cell).exists()]
    print(f"{spec.name} ({spec.title}), {args.scale} scale: {len(cells)} runs in slice "
          f"{only[0]}/{only[1]}, {len(cells) - len(todo)} already recorded in {out}")  # fmt: skip
    bar = progress_bar(len(todo), "runs", enabled=not args.no_progress, unit="run")
    for cell in todo:
        record = run_cell(cell, out, root=args.root, device=args.device,
                          jacobian=not args.no_jacobian, progress=bar is not None)  # fmt: skip
        if bar is not None:
            accuracy = record["test_accuracy"]
            shown = "failed" if accuracy is None else f"{accuracy:.1%}"
            bar.set_postfix(last=f"{cell.key} {shown}", refresh=False)
            bar.update(1)
    if bar is not None:
        bar.close()
    print(f"done: {len(cells)} records in {out}")
