"""Writes responses.csv and roster.csv: the raking reference case (run once; stored).

Two household groups (a: N 600, b: N 1500) in three communities and two projects; response
propensity differs by community, so respondents over-represent c1. Item q2 is not
applicable to anyone in group b. Seeded, so rerunning reproduces the files.
"""

import csv
from pathlib import Path

import numpy as np


def main() -> None:
    rng = np.random.default_rng(181206)
    here = Path(__file__).parent
    roster = []
    for grp, n_grp in (("a", 600), ("b", 1500)):
        comm = rng.choice(["c1", "c2", "c3"], p=[.3, .4, .3], size=n_grp)
        proj = rng.choice(["p1", "p2"], p=[.55, .45], size=n_grp)
        roster += [(grp, c, p) for c, p in zip(comm, proj, strict=True)]
    respond = {"c1": .30, "c2": .18, "c3": .12}
    rows = []
    for grp, c, p in roster:
        if rng.random() >= respond[c]:
            continue
        shift = {"c1": .5, "c2": 0.0, "c3": -.6}[c] + (.3 if p == "p1" else 0.0)
        probs = np.array([.05, .08, .2, .37, .3]) * np.exp(shift * np.arange(-2, 3) / 2)
        codes = rng.choice([1, 2, 3, 4, 5], p=probs / probs.sum(), size=3)
        codes = np.where(rng.random(3) < 0.06, 9, codes)
        if grp == "b":
            codes[1] = 9
        rows.append([grp, c, p, *codes.tolist()])
    with (here / "responses.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["grp", "comm", "proj", "q1", "q2", "overall"])
        w.writerows(rows)
    with (here / "roster.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["grp", "comm", "proj"])
        w.writerows(roster)


if __name__ == "__main__":
    main()
