"""Strong scaling of sharded initialization for any workload: one layer (or a stack of
layers) split by rows over 1, 2 and 4 CPU processes (gloo, DTensor Shard(0)); per-rank
time and peak memory growth. Each rank builds only its shard (no collectives). `eoi
bench` measures the default workloads in its run; this script takes other sizes.

    python benchmarks/sharding.py [--size 16384] [--density 0.01] [--worlds 1 2 4]
                                  [--layers 1] [--repeats 3]

--layers N initializes N layers of size x size (for example --layers 1000 --size 512).
Ranks run concurrently: with more ranks than cores, per-rank time includes contention.
"""

from __future__ import annotations

import argparse
import os

from eoi_ext.lab.bench.report import format_sharding
from eoi_ext.lab.bench.sharding import ShardingCase, measure_sharding


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=16384)
    parser.add_argument("--density", type=float, default=0.01)
    parser.add_argument("--worlds", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--layers", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    case = ShardingCase(args.layers, args.size, args.density)
    print(f"{case.name} at density {case.density:g}, Shard(0), {os.cpu_count()} CPU cores")
    print(format_sharding(measure_sharding([case], tuple(args.worlds), repeats=args.repeats)))


if __name__ == "__main__":
    main()
