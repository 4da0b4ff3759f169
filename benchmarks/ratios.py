"""Median ratios of the benchmark suite: how far eoi_ext is from its floors and anchors.

Every ratio compares two cases measured in the same run. The suite prints them at the end
of a run (benchmarks/conftest.py); for a saved run, use

    pytest benchmarks/ --benchmark-json=run.json
    python benchmarks/ratios.py run.json

Seconds are written by eoi_ext.lab.bench.timing.format_seconds, as in `eoi bench`.

The GPU ratios are end to end: a whole op call (checks, host schedule, pinned copies,
allocation, launch) over a fill_ that pays its own launch, so even a perfect kernel reads
several times its floor. The kernels alone, by CUDA events, beside a measured write kernel
of the same bytes: csrc/cuda/bench/kernel_timing.cu (scripts/gpu_check.sh, kernels step).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from eoi_ext.lab.bench.timing import format_seconds

# (label, numerator key, denominator key); keys name the CASES of test_speed.py and
# test_speed_cuda.py (tests/test_bench.py checks that every key has a case).
RATIOS: list[tuple[str, str, str]] = [
    ("published / eoi_ext (same shape, d=0.1)", "published_single", "eoi_single"),
    ("dense orthogonal_ / eoi_ext (1024^2)", "dense_orthogonal_1024", "eoi_1024"),
    ("eoi_ext / floor (1024^2)", "eoi_1024", "floor_1024"),
    ("eoi_ext batch / floor (layers of 128^2)", "eoi_batch", "floor_batch"),
    ("eoi_ext / floor (4096^2)", "eoi_4096", "floor_4096"),
    ("eoi_ext exact_density / floor (4096^2)", "eoi_4096_exact", "floor_4096"),
    ("sparsify MLP / batch of its layers", "sparsify_mlp", "eoi_batch"),
    ("svd_ai (10 iterations) / eoi_ext", "isometry_svd_ai", "isometry_eoi"),
    ("ai_kaiming (100 steps) / eoi_ext", "isometry_ai_kaiming", "isometry_eoi"),
    # GPU cases (test_speed_cuda.py): whole calls, host work included (see above)
    ("cuda: apply_plan call / fill_ (4096^2)", "cuda_apply_4096", "cuda_write_4096"),
    ("cuda: end to end / fill_ (4096^2)", "cuda_eoi_4096", "cuda_write_4096"),
    ("cuda: batch / floor (layers of 128^2)", "cuda_eoi_batch", "cuda_floor_batch"),
    ("cuda: dense orthogonal_ / eoi_ext batch", "cuda_dense_orthogonal_batch", "cuda_eoi_batch"),
]


def format_report(medians: dict[str, float], labels: dict[str, str] | None = None) -> list[str]:
    """Lines with every recorded median and every ratio whose two medians are known."""
    labels = labels or {}
    lines = ["medians:"]
    for key in sorted(medians):
        label = f"  ({labels[key]})" if key in labels else ""
        lines.append(f"  {key:<24} {format_seconds(medians[key]):>12}{label}")
    lines.append("ratios of medians:")
    for label, num, den in RATIOS:
        if num in medians and den in medians and medians[den] > 0:
            lines.append(f"  {label:<42} {medians[num] / medians[den]:10.2f}x")
    if any(line.startswith("  cuda:") for line in lines):
        lines.append("  (cuda: whole calls incl. host work; kernels alone: kernel_timing)")
    return lines


def medians_from_json(path: str | Path) -> tuple[dict[str, float], dict[str, str]]:
    """Medians (seconds) and case descriptions by key from a --benchmark-json file."""
    data = json.loads(Path(path).read_text())
    medians: dict[str, float] = {}
    labels: dict[str, str] = {}
    for bench in data.get("benchmarks", []):
        extra = bench.get("extra_info", {})
        key = extra.get("key")
        if key is None:
            continue
        medians[key] = float(bench["stats"]["median"])
        if "case" in extra:
            labels[key] = extra["case"]
    return medians, labels


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__)
        return 2
    medians, labels = medians_from_json(argv[1])
    print("\n".join(format_report(medians, labels)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
