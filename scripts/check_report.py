"""Checks the structure of an `eoi report` (CI: scripts/smoke_specs.sh), no accuracy
thresholds: for the records under DIRS, the markdown REPORT has a line for each of SPECS,
per activation an accuracy table whose header names each (spec, density) column and whose
rows are each init x masks, each run's cell filled (a value or "failed"), a Jacobian table
where Jacobians were recorded, and each linked figure a PNG on disk.

    python scripts/check_report.py REPORT DIR [DIR ...] --specs a,b,c
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from eoi_ext.lab.report_records import column_of, load_records, row_of

PNG = b"\x89PNG\r\n\x1a\n"


def tables(text: str) -> dict[str, list[list[str]]]:
    """Each '## ' heading's first markdown table, as rows of cells (header first)."""
    found = {}
    for section in text.split("\n## ")[1:]:
        heading, _, body = section.partition("\n")
        lines = [line for line in body.splitlines() if line.startswith("|")]
        if lines:
            found[heading] = [[c.strip() for c in line.strip("|").split("|")]
                              for i, line in enumerate(lines) if i != 1]  # fmt: skip
    return found


def problems(report: Path, dirs: list[str], specs: list[str]) -> list[str]:
    text = report.read_text()
    records = load_records(dirs)
    found = tables(text)
    wrong = [f"no line for spec {s}" for s in specs if f"- **{s}**:" not in text]
    many = len({r["cell"]["spec"] for r in records}) > 1
    for activation in dict.fromkeys(r["cell"]["activation"] for r in records):
        group = [r for r in records if r["cell"]["activation"] == activation]
        names = [f"## {activation}: test accuracy (%), mean ± std over seeds"]
        if any("jacobian" in r.get("init", {}) for r in group):
            names.append(f"## {activation}: Jacobian singular values at init")
        for name in names:
            rows = found.get(name[3:])
            if rows is None:
                wrong.append(f"no table {name!r}")
                continue
            header = rows[0]
            if any(len(row) != len(header) for row in rows):
                wrong.append(f"{name}: rows of unequal length")
                continue
            for r in group:
                spec, density = column_of(r)
                column = f"{spec} {density:g}" if many else f"{density:g}"
                row = next((x for x in rows[1:] if x[0] == row_of(r)), None)
                if column not in header or row is None:
                    wrong.append(f"{name}: no cell for {spec} {r['cell']['key']}")
                elif not row[header.index(column)]:
                    wrong.append(f"{name}: empty cell for {spec} {r['cell']['key']}")
    for link in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text):
        path = report.parent / link
        if not path.is_file() or not path.read_bytes().startswith(PNG):
            wrong.append(f"figure {link} is not a PNG on disk")
    return wrong


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("report", type=Path)
    parser.add_argument("dirs", nargs="+")
    parser.add_argument("--specs", default="", help="comma-separated specs that must appear")
    args = parser.parse_args()
    wrong = problems(args.report, args.dirs, [s for s in args.specs.split(",") if s])
    for line in wrong:
        print(f"check_report: {line}", file=sys.stderr)
    verdict = f"has {len(wrong)} problems" if wrong else "ok"
    print(f"check_report: {args.report} {verdict}")
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
