"""Benchmark of analysis.campaign_statistics.

Full campaign statistics for 1,000 / 10,000 / 100,000 / 1,000,000 responses x 15 items
(two strata, 4 dimensions, overall item, 5 % not applicable, 1 % missing) with 2,000
bootstrap resamples. Prints wall time (best of ``--repeat``) and the cost per response
relative to the smallest size; a ratio that does not grow means growth no worse than linear.

Usage: .venv/bin/python benchmarks/bench_analysis.py [--sizes 1000 10000 ...] [--repeat 3]
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np

from analysis import campaign_statistics

N_ITEMS = 15
DIMENSIONS = {
    "housing": [0, 1, 2, 3],
    "community": [4, 5, 6, 7],
    "service": [8, 9, 10],
    "policy": [11, 12, 13],
}
OVERALL = 14
POPULATION = {"relocated": 600_000, "rental": 2_500_000}


def make_responses(n: int, seed: int = 42) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    strata = np.where(rng.random(n) < 0.3, "relocated", "rental")
    latent = rng.normal(size=n)
    noise = rng.normal(scale=0.8, size=(N_ITEMS, n))
    codes = np.clip(np.round(4.2 + 0.7 * latent + noise), 1, 5)
    u = rng.random((N_ITEMS, n))
    codes[u < 0.05] = 9
    codes[(u >= 0.05) & (u < 0.06)] = np.nan
    return codes, strata


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+",
                        default=[1_000, 10_000, 100_000, 1_000_000])
    parser.add_argument("--resamples", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"python {platform.python_version()}, numpy {np.__version__}, "
          f"{platform.machine()}, resamples {args.resamples}")
    print(f"{'responses':>10} {'seconds':>9} {'us/response':>12} {'ratio':>7}")
    base = None
    for n in args.sizes:
        codes, strata = make_responses(n)
        best = float("inf")
        for _ in range(args.repeat if n <= 100_000 else 1):
            t0 = time.perf_counter()
            stats = campaign_statistics(codes, strata, POPULATION, DIMENSIONS, OVERALL,
                                        n_resamples=args.resamples)
            best = min(best, time.perf_counter() - t0)
        per = best / n * 1e6
        base = per if base is None else base
        print(f"{n:>10,} {best:>9.3f} {per:>12.2f} {per / base:>7.2f}   "
              f"overall index {stats.composite.overall:.2f}")


if __name__ == "__main__":
    main()
