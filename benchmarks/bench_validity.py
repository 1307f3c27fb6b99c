"""Benchmark of analysis.construct_validity (issue 18 item 3).

The response matrix of bench_analysis (15 items, 4 dimensions of 3-4 items, overall item,
5 % not applicable, 1 % missing) at 1,000 / 10,000 / 100,000 / 1,000,000 responses, passed
as the scores document passes it (items x respondents, transposed). Prints wall and CPU time
(best of ``--repeat``) and the cost per response relative to the smallest size.

Usage: .venv/bin/python benchmarks/bench_validity.py [--sizes 1000 10000 ...] [--repeat 5]
"""

from __future__ import annotations

import os

# As gunicorn.conf.py sets for the workers, before numpy is imported.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import time

from bench_analysis import DIMENSIONS, N_ITEMS, OVERALL, make_responses

from analysis import construct_validity


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+",
                        default=[1_000, 10_000, 100_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    items = [f"q{j}" for j in range(N_ITEMS)]
    dims = {d: [items[j] for j in cols] for d, cols in DIMENSIONS.items()}
    dims["overall"] = [items[OVERALL]]
    print(f"{'responses':>10} {'wall s':>8} {'cpu s':>8} {'us/response':>12} {'ratio':>7}")
    base = None
    for n in args.sizes:
        codes, _ = make_responses(n)
        wall = cpu = float("inf")
        for _ in range(args.repeat):
            t0, c0 = time.perf_counter(), time.process_time()
            v = construct_validity(codes.T, items, dims, items[OVERALL])
            wall = min(wall, time.perf_counter() - t0)
            cpu = min(cpu, time.process_time() - c0)
        per = cpu / n * 1e6
        base = per if base is None else base
        print(f"{n:>10,} {wall:>8.3f} {cpu:>8.3f} {per:>12.2f} {per / base:>7.2f}   "
              f"all-items CR {v.scale.composite_reliability:.3f}, R² {v.overall.r_squared:.3f}")


if __name__ == "__main__":
    main()
