"""Coverage of the composite index's 95 % interval when a group has no valid answer to an
item (issue 18): seeded simulation from a fixed finite population.

Population: three household groups (N 600, 2500, 400); item q3 (complaint handling) is
not applicable to every household of group "c" (no complaint), so q3's pooled value weights
groups a and b only. Each replication draws a stratified simple random sample without
replacement (r 60, 90, 40) and computes the composite index, its Taylor-linearised SE and
normal interval with ``analysis.campaign_statistics``; the truth is the same estimator
applied to the whole population. Prints the coverage, its Monte-Carlo SE, and the mean
reported SE against the replications' standard deviation.

    .venv/bin/python benchmarks/bench_composite_coverage.py [replications] [seed]
"""

import sys
import time

import numpy as np

import analysis

GROUPS = {"a": (600, 60), "b": (2500, 90), "c": (400, 40)}
PROBS = {"a": [.03, .05, .17, .40, .35], "b": [.02, .08, .25, .35, .30],
         "c": [.15, .15, .25, .25, .20]}
DIMENSIONS = {"housing": [0, 1], "service": [2, 3]}


def population(rng):
    codes, strata = [], []
    for g, (big_n, _) in GROUPS.items():
        block = rng.choice([1, 2, 3, 4, 5], p=PROBS[g], size=(5, big_n)).astype(float)
        if g == "c":
            block[2] = 9  # q3 not applicable to anyone in group c
        else:
            block[2, rng.random(big_n) < 0.6] = 9  # q3 shown to complainers only
        block[rng.random(block.shape) < 0.05] = 9
        codes.append(block)
        strata += [g] * big_n
    return np.concatenate(codes, axis=1), np.array(strata)


def composite(codes, strata, pops):
    s = analysis.campaign_statistics(codes, strata, pops, DIMENSIONS, 4, reliability=False,
                                     item_intervals=False, drivers=False)
    return s.composite.overall, s.composite_se, s.composite_interval


def main(replications: int = 4000, seed: int = 18) -> None:
    rng = np.random.default_rng(seed)
    codes, strata = population(rng)
    pops = {g: n for g, (n, _) in GROUPS.items()}
    truth, _, _ = composite(codes, strata, pops)
    index_of = {g: np.flatnonzero(strata == g) for g in GROUPS}
    hits, estimates, ses = 0, [], []
    start = time.perf_counter()
    for _ in range(replications):
        rows = np.concatenate([rng.choice(index_of[g], r, replace=False)
                               for g, (_, r) in GROUPS.items()])
        estimate, se, ci = composite(codes[:, rows], strata[rows], pops)
        hits += ci.low <= truth <= ci.high
        estimates.append(estimate)
        ses.append(se)
    coverage = hits / replications
    print(f"replications {replications}, seed {seed}, population composite {truth:.4f}")
    print(f"95% interval coverage {coverage:.4f} "
          f"(Monte-Carlo SE {np.sqrt(coverage * (1 - coverage) / replications):.4f})")
    sd = np.std(estimates, ddof=1)
    print(f"mean reported SE {np.mean(ses):.4f}; SD of the estimates {sd:.4f}; "
          f"ratio {np.mean(ses) / sd:.4f}")
    print(f"{time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
