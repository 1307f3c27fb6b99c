"""Writes responses.csv: the validity reference case (run once; stored).

300 respondents. Dimensions: service (s1..s4), fairness (f1..f3), information (i1, i2),
payment (p1) and complaint (c1, answered by about 15 %: shown only to those who complained);
overall item ``overall``. Items are 5-point codes cut from correlated latent factors; about
4 % of answers are 9 (不清楚) and 2 % blank. Seeded, so rerunning reproduces the file.
"""

import csv
from pathlib import Path

import numpy as np

ITEMS = {"service": ["s1", "s2", "s3", "s4"], "fairness": ["f1", "f2", "f3"],
         "information": ["i1", "i2"], "payment": ["p1"], "complaint": ["c1"]}
LOADINGS = {"s1": .8, "s2": .75, "s3": .65, "s4": .55, "f1": .8, "f2": .7, "f3": .6,
            "i1": .75, "i2": .7, "p1": .9, "c1": .8}


def _codes(z: np.ndarray) -> np.ndarray:
    return np.digitize(z, [-1.6, -0.9, -0.1, 0.9]) + 1


def main() -> None:
    rng = np.random.default_rng(20261206)
    n = 300
    dims = list(ITEMS)
    corr = np.full((len(dims), len(dims)), 0.5) + 0.5 * np.eye(len(dims))
    eta = rng.multivariate_normal(np.zeros(len(dims)), corr, size=n)
    columns = {}
    for d, items in ITEMS.items():
        for item in items:
            lam = LOADINGS[item]
            z = lam * eta[:, dims.index(d)] + np.sqrt(1 - lam**2) * rng.standard_normal(n)
            columns[item] = _codes(z).astype(object)
    overall = eta[:, :4] @ [.35, .3, .15, .2] + 0.6 * rng.standard_normal(n)
    columns["overall"] = _codes(overall).astype(object)
    for item, values in columns.items():
        u = rng.random(n)
        values[u < 0.04] = 9
        values[(u >= 0.04) & (u < 0.06)] = ""
    columns["c1"][rng.random(n) >= 0.15] = ""
    with (Path(__file__).parent / "responses.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(list(columns))
        w.writerows(zip(*columns.values(), strict=True))


if __name__ == "__main__":
    main()
