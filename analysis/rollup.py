"""Roll-ups of county campaigns to a city or province: a stratified estimate over
county × household-group strata.

A city's satisfaction rate is not the average of its counties' rates: each county ×
group stratum (棚改安置户 / 租赁补贴户 of one county) weighs by its roster households,
W_ch = N_ch / N, and the strata's variances add up,

    ŷ = Σ_ch W_ch ŷ_ch,    Var(ŷ) = Σ_ch W_ch² SE_ch²,

with ŷ_ch and SE_ch (with the finite-population correction) as each county's campaign
reports its group cells (:func:`analysis.stratified.stratified_mean` within the group).
The counties are sampled independently, so there are no covariance terms. A county's own
figure is the same sum over its groups only, and equals its campaign's pooled figure.

The rate's interval is the campaign's convention (:func:`analysis.estimates.rate_estimate`):
the Wilson interval at Kish's effective sample size with the FPC,
n* = 1 / Σ_ch W_ch² (1 − f_ch) / r_ch (f_ch = r_ch/N_ch); other measures (score, index)
get the normal interval ŷ ± z·SE.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from math import sqrt

from analysis.intervals import Interval, interval_from_se, wilson_interval

__all__ = ["ROLLUP_CONVENTION", "Rollup", "RollupCell", "UnitRollup", "region_rollup",
           "stratified_rollup"]

ROLLUP_CONVENTION = (
    "roll-up over county x household-group strata: estimate = sum_ch (N_ch/N) y_ch, "
    "var = sum_ch (N_ch/N)^2 SE_ch^2 (strata sampled independently; y_ch and SE_ch with FPC "
    "as each county's campaign reports its group cells; N_ch roster households); never an "
    "average of county figures. Rate interval: Wilson at Kish's n* = 1/sum_ch W_ch^2 "
    "(1-f_ch)/r_ch, f_ch = r_ch/N_ch; score/index: normal interval. Strata without an "
    "estimate (no valid answers, or a suppressed cell) are left out and listed")


@dataclass(frozen=True, slots=True)
class RollupCell:
    """One county × household-group stratum as its campaign reports it.

    ``population`` N_ch roster households, ``respondents`` r_ch valid answers to the item,
    ``estimate`` ŷ_ch and ``se`` its SE with the finite-population correction.
    """

    unit: str
    group: str
    population: float
    respondents: int
    estimate: float
    se: float


@dataclass(frozen=True, slots=True)
class UnitRollup:
    """A stratified roll-up of some cells (one county, or every county of a region)."""

    unit: str | None
    estimate: float
    se: float
    interval: Interval
    population: float
    respondents: int
    #: Kish's effective sample size with the FPC, n* = 1/Σ W²(1 − f)/r (inf: a census).
    effective_n: float
    strata: tuple[RollupCell, ...]


@dataclass(frozen=True, slots=True)
class Rollup:
    """The region's roll-up, each county's, and the strata left out."""

    measure: str
    total: UnitRollup
    units: tuple[UnitRollup, ...]
    left_out: tuple[RollupCell, ...]
    convention: str


def _check(cell: RollupCell) -> None:
    if cell.respondents <= 0 or cell.population < cell.respondents:
        raise ValueError(f"stratum {cell.unit}/{cell.group}: need 0 < r_ch <= N_ch")
    if cell.se < 0:
        raise ValueError(f"stratum {cell.unit}/{cell.group}: negative SE")


def stratified_rollup(cells: Sequence[RollupCell], *, measure: str = "rate",
                      confidence: float = 0.95, unit: str | None = None) -> UnitRollup:
    """Stratified estimate, SE and interval over county × group strata.

    Parameters
    ----------
    cells : sequence of RollupCell
        The strata (each with r_ch > 0).
    measure : {"rate", "score", "index"}, default "rate"
        "rate": Wilson interval at Kish's n*; otherwise the normal interval.
    confidence : float, default 0.95
        Interval level.
    unit : str, optional
        Name carried into the result (a county code; None for a region).

    Returns
    -------
    UnitRollup

    Notes
    -----
    W_ch = N_ch/N, ŷ = Σ W_ch ŷ_ch, SE = sqrt(Σ W_ch² SE_ch²),
    n* = 1/Σ W_ch² (1 − r_ch/N_ch)/r_ch. See :data:`ROLLUP_CONVENTION`.

    References
    ----------
    Cochran, W. G. (1977). Sampling Techniques, 3rd ed., eqs. 5.1 and 5.6 (strata sampled
    independently); Kish, L. (1965). Survey Sampling, section 11.7.

    Examples
    --------
    Two counties, two groups each:

    >>> cells = [RollupCell("A", "relocated", 600, 150, 0.90, 0.02),
    ...          RollupCell("A", "rental_subsidy", 2500, 250, 0.80, 0.024),
    ...          RollupCell("B", "relocated", 200, 80, 0.85, 0.03),
    ...          RollupCell("B", "rental_subsidy", 700, 150, 0.75, 0.03)]
    >>> r = stratified_rollup(cells)
    >>> round(r.estimate, 3), round(r.se, 4)
    (0.809, 0.0162)
    """
    if not cells:
        raise ValueError("a roll-up needs at least one stratum with an estimate")
    for cell in cells:
        _check(cell)
    total = float(sum(c.population for c in cells))
    estimate = sum(c.population / total * c.estimate for c in cells)
    se = sqrt(sum((c.population / total) ** 2 * c.se**2 for c in cells))
    inverse_n = sum((c.population / total) ** 2 * (1 - c.respondents / c.population)
                    / c.respondents for c in cells)
    n_star = 1.0 / inverse_n if inverse_n > 0 else float("inf")
    return UnitRollup(unit=unit, estimate=estimate, se=se,
                      interval=_interval(measure, estimate, se, n_star, confidence),
                      population=total, respondents=sum(c.respondents for c in cells),
                      effective_n=n_star, strata=tuple(cells))


def _interval(measure: str, estimate: float, se: float, n_star: float,
              confidence: float) -> Interval:
    if measure != "rate":
        normal = interval_from_se(estimate, se, confidence)
        return Interval(estimate, normal.low, normal.high, confidence,
                        f"{confidence:.0%} normal interval, estimate +- z SE")
    method = f"{confidence:.0%} Wilson score interval at Kish's n* with FPC"
    if n_star == float("inf"):
        return Interval(estimate, estimate, estimate, confidence, method + " (census)")
    wilson = wilson_interval(min(max(estimate, 0.0), 1.0) * n_star, n_star, confidence)
    return Interval(estimate, wilson.low, wilson.high, confidence, method)


def region_rollup(cells: Sequence[RollupCell], *, measure: str = "rate",
           confidence: float = 0.95) -> Rollup:
    """The region's roll-up and each county's, from their county × group strata.

    Parameters
    ----------
    cells : sequence of RollupCell
        Every county × group stratum; those with ``respondents`` 0 are left out.
    measure : {"rate", "score", "index"}, default "rate"
    confidence : float, default 0.95

    Returns
    -------
    Rollup
        ``total`` over every stratum, ``units`` one per county (in first-seen order).

    Notes
    -----
    See :func:`stratified_rollup`; a county's figure sums its own strata with weights
    N_ch/N_c.

    References
    ----------
    Cochran (1977), section 5.2.

    Examples
    --------
    >>> cells = [RollupCell("A", "g", 100, 50, 0.9, 0.03),
    ...          RollupCell("B", "g", 300, 60, 0.7, 0.05)]
    >>> r = region_rollup(cells)
    >>> round(r.total.estimate, 2), [(u.unit, round(u.estimate, 1)) for u in r.units]
    (0.75, [('A', 0.9), ('B', 0.7)])
    """
    used = [c for c in cells if c.respondents > 0]
    left_out = tuple(c for c in cells if c.respondents <= 0)
    by_unit: dict[str, list[RollupCell]] = {}
    for cell in used:
        by_unit.setdefault(cell.unit, []).append(cell)
    units = tuple(stratified_rollup(unit_cells, measure=measure, confidence=confidence,
                                    unit=unit) for unit, unit_cells in by_unit.items())
    total = stratified_rollup(used, measure=measure, confidence=confidence)
    return Rollup(measure=measure, total=total, units=units, left_out=left_out,
                  convention=ROLLUP_CONVENTION)
