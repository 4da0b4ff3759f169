"""Peak memory of EOI against its floor, each case in a fresh process.

    python benchmarks/memory.py [--size 4096] [--density 0.1]

For each case a child process imports eoi_ext, records its peak resident set size,
runs the case once, and reports how much the peak grew. The floor allocates the same
output (float32 weights + bool mask); EOI should add only the support bitsets
(n * m / 8 bytes), the rotation plan and a per-thread tile scratch.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

CHILD = """
import json, resource, sys, torch, eoi_ext
case, size, density = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
# Warm up code paths (thread pools, allocator) on a small case first.
eoi_ext.sparse_orthogonal(64, 64, 0.5)
torch.zeros(64, 64)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
if case == "eoi":
    result = eoi_ext.sparse_orthogonal(size, size, density)
else:
    result = (torch.zeros(size, size), torch.zeros(size, size, dtype=torch.bool))
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"case": case, "peak_growth_mib": (after - before) / 1024}))
"""


def measure(case: str, size: int, density: float) -> float:
    output = subprocess.run(
        [sys.executable, "-c", CHILD, case, str(size), str(density)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(output.splitlines()[-1])["peak_growth_mib"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=4096)
    parser.add_argument("--density", type=float, default=0.1)
    args = parser.parse_args()
    n = args.size
    output_mib = n * n * 5 / 2**20
    bitsets_mib = n * n / 8 / 2**20
    floor = measure("floor", n, args.density)
    eoi = measure("eoi", n, args.density)
    print(
        f"{n}x{n} at density {args.density:g}: output (float32 + bool) {output_mib:.1f} MiB, "
        f"support bitsets {bitsets_mib:.1f} MiB"
    )
    print(
        f"  peak RSS growth: floor {floor:.1f} MiB, eoi {eoi:.1f} MiB "
        f"(eoi - floor = {eoi - floor:.1f} MiB)"
    )


if __name__ == "__main__":
    main()
