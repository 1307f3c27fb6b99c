"""Writes responses.csv: the composite-SE reference case (run once; the CSV is stored).

Three household groups; group "c" (a small community's group) has no valid answer to
item q3 (complaint handling, shown only to households that complained), so q3's pooled
estimate weights only groups a and b. Seeded, so rerunning reproduces the file.
"""

import csv
from pathlib import Path

import numpy as np


def main() -> None:
    rng = np.random.default_rng(20261206)
    groups = {"a": (600, 40), "b": (2500, 60), "c": (150, 12)}
    probs = {"a": [.03, .05, .17, .40, .35], "b": [.02, .08, .25, .35, .30],
             "c": [.10, .10, .20, .30, .30]}
    rows = []
    for g, (big_n, r) in groups.items():
        for _ in range(r):
            codes = rng.choice([1, 2, 3, 4, 5], p=probs[g], size=5)
            codes = np.where(rng.random(5) < 0.08, 9, codes)  # some 不清楚
            if g == "c":
                codes[2] = 9
            elif rng.random() < 0.5:
                codes[2] = 9  # did not complain: not applicable
            rows.append([g, big_n, *codes.tolist()])
    with open(Path(__file__).with_name("responses.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["stratum", "N", "q1", "q2", "q3", "q4", "overall"])
        w.writerows(rows)


if __name__ == "__main__":
    main()
