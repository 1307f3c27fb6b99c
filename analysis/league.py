"""League table of counties: estimates with intervals, and ranks with their uncertainty.

Cities rank their counties every year; two counties whose intervals overlap widely are
not really first and second. Each county's rank gets an interval from a seeded
parametric bootstrap: the county estimates are drawn independently from their normal
approximations N(ŷ_c, SE_c²), the counties ranked in each draw (1 = highest), and the
rank interval is the central ``confidence`` range of those ranks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.stats import rankdata

from analysis.intervals import Interval, interval_from_se

__all__ = ["LEAGUE_CONVENTION", "LeagueRow", "LeagueTable", "league_table"]

#: Seed of the rank bootstrap: the same estimates always give the same rank intervals.
RANK_SEED = 20261206
RANK_DRAWS = 4000
LEAGUE_CONVENTION = (
    "rank 1 = highest estimate; rank interval: seeded parametric bootstrap, each county "
    "drawn independently from N(estimate, SE^2) ({draws} draws, seed {seed}), ranked in "
    "every draw, central {confidence:.0%} of its ranks (lower and upper quantile rounded "
    "outwards to whole ranks); p_best = share of draws ranked first")


@dataclass(frozen=True, slots=True)
class LeagueRow:
    """One county in the league table."""

    unit: str
    estimate: float
    se: float
    interval: Interval
    rank: int
    rank_low: int
    rank_high: int
    #: Share of the bootstrap draws in which this county ranked first.
    p_best: float


@dataclass(frozen=True, slots=True)
class LeagueTable:
    """Counties ordered by estimate (highest first) with their rank intervals."""

    rows: tuple[LeagueRow, ...]
    draws: int
    seed: int
    convention: str


def league_table(units: Sequence[str], estimates: Sequence[float], ses: Sequence[float], *,
                 intervals: Sequence[Interval] | None = None, confidence: float = 0.95,
                 draws: int = RANK_DRAWS, seed: int = RANK_SEED) -> LeagueTable:
    """Rank counties by their estimates with intervals of the ranks.

    Parameters
    ----------
    units : sequence of str
        County names or codes.
    estimates, ses : sequence of float
        Each county's estimate and its SE.
    intervals : sequence of Interval, optional
        Each county's interval as reported (e.g. the Wilson interval of a rate); default
        the normal interval estimate ± z·SE.
    confidence : float, default 0.95
        Level of the rank intervals (and of the default estimate intervals).
    draws : int, default 4000
        Bootstrap draws.
    seed : int
        Seed of the draws (numpy ``default_rng``).

    Returns
    -------
    LeagueTable
        Rows ordered by estimate, highest first; ``rank`` 1 is the highest (ties share the
        better rank).

    Notes
    -----
    Draw b: ŷ*_c = ŷ_c + SE_c Z_bc, Z ~ N(0, 1) independent; rank*_bc = 1 + #{d: ŷ*_bd >
    ŷ*_bc}. Rank interval: the ((1 − confidence)/2, (1 + confidence)/2) quantiles of
    rank*_c, lower rounded down and upper up. With two counties P(rank 1) =
    Φ((ŷ_1 − ŷ_2)/sqrt(SE_1² + SE_2²)), which ``p_best`` estimates.

    References
    ----------
    Goldstein, H. & Spiegelhalter, D. J. (1996). League tables and their limitations.
    JRSS A 159(3), 385-443; Marshall, E. C. & Spiegelhalter, D. J. (1998). BMJ 316, 1701.

    Examples
    --------
    >>> t = league_table(["A", "B", "C"], [0.95, 0.80, 0.79], [0.005, 0.01, 0.01])
    >>> [(r.unit, r.rank, r.rank_low, r.rank_high) for r in t.rows]
    [('A', 1, 1, 1), ('B', 2, 2, 3), ('C', 3, 2, 3)]
    """
    est = np.asarray(estimates, dtype=float)
    se = np.asarray(ses, dtype=float)
    if est.shape != se.shape or est.shape != (len(units),) or np.any(se < 0):
        raise ValueError("need one estimate and one non-negative SE per county")
    if intervals is None:
        intervals = [interval_from_se(e, s, confidence) for e, s in zip(est, se, strict=True)]
    rng = np.random.default_rng(seed)
    sample = est + se * rng.standard_normal((draws, est.size))
    ranks = rankdata(-sample, method="min", axis=1)
    tail = (1 - confidence) / 2
    low = np.floor(np.quantile(ranks, tail, axis=0)).astype(int)
    high = np.ceil(np.quantile(ranks, 1 - tail, axis=0)).astype(int)
    point = 1 + (est[None, :] > est[:, None]).sum(axis=1)
    best = (ranks == 1).mean(axis=0)
    order = sorted(range(est.size), key=lambda c: (point[c], c))
    rows = tuple(LeagueRow(unit=units[c], estimate=float(est[c]), se=float(se[c]),
                           interval=intervals[c], rank=int(point[c]), rank_low=int(low[c]),
                           rank_high=int(high[c]), p_best=float(best[c])) for c in order)
    return LeagueTable(rows=rows, draws=draws, seed=seed,
                       convention=LEAGUE_CONVENTION.format(draws=draws, seed=seed,
                                                           confidence=confidence))
