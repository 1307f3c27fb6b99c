"""Non-response weighting: raking (iterative proportional fitting) and raked estimates.

Each household group's respondents are raked to the roster's margins (households by
community and by project within the group), starting from the design weight N_h/r_h.
Weights are trimmed to a band around the design weight. Estimates are ratio means per group
combined with the groups' roster shares, exactly like the design-weighted ones; their
variance is the linearisation R's ``survey`` package uses for a raked design (the
influence values swept by the raking margins, ten sweeps, then the stratified
without-replacement variance), so it equals ``svytotal`` + ``svycontrast`` on
``rake()``'s design (reference test: ``tests/analysis/test_raking.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import NamedTuple

import numpy as np

from analysis.conventions import RAKING_CONVENTION
from analysis.raked_design import RakedDesign, design_variances, indicator_matrix
from analysis.stratified import StratifiedEstimate, StratumEstimate

__all__ = [
    "RAKING_CONVENTION",
    "RakedWeights",
    "RatioTotals",
    "calibrated_variance",
    "rake_weights",
    "raked_means",
    "raked_point_means",
    "raked_stratified_mean",
    "ratio_estimates",
    "with_ses",
]

@dataclass(frozen=True, slots=True)
class RakedWeights:
    """Raked weights and how the raking went."""

    weights: np.ndarray
    iterations: int
    converged: bool
    max_margin_error: float  # largest |weighted count - target| over all margin categories
    n_trimmed: int  # weights at a trimming bound
    trim: tuple[float, float]
    convention: str


def _check_margins(categories, targets, n: int,
                   respondents=None) -> list[tuple[np.ndarray, np.ndarray]]:
    out = []
    for cats, target in zip(categories, targets, strict=True):
        cats = np.asarray(cats, dtype=np.int64)
        target = np.asarray(target, dtype=float)
        if cats.shape != (n,) or cats.min(initial=0) < 0 or cats.max(initial=-1) >= target.size:
            raise ValueError("each margin needs one category 0..k-1 per respondent")
        if np.any(target < 0) or not np.all(np.isfinite(target)):
            raise ValueError("margin targets must be finite and non-negative")
        if np.any((np.bincount(cats, weights=respondents, minlength=target.size) == 0)
                  & (target > 0)):
            raise ValueError("a margin category with a target has no respondents; merge it "
                             "into another category first")
        out.append((cats, target))
    return out


def rake_weights(categories: Sequence[Sequence[int]], targets: Sequence[Sequence[float]],
                 base_weights, *, trim: tuple[float, float] = (0.3, 3.0),
                 max_iter: int = 100, tolerance: float = 1e-10,
                 respondents=None) -> RakedWeights:
    """Rake ``base_weights`` to the margin totals ``targets`` (IPF), with trimming.

    Parameters
    ----------
    categories : sequence of array_like of int
        One array per margin: each respondent's category 0..k-1 in that margin. Cross the
        margins with the strata (group × community) to rake within each stratum.
    targets : sequence of array_like of float
        Population count of each category of each margin (all margins with one total).
    base_weights : array_like
        Starting weights (the design weights N_h/r_h).
    trim : (float, float), default (0.3, 3.0)
        Weights are kept within [low, high] × their base weight after every margin step.
    max_iter : int, default 100
        Full passes over the margins.
    tolerance : float, default 1e-10
        Converged when every weighted category count is within ``tolerance`` × total of its
        target after a pass.
    respondents : array_like, optional
        How many respondents each position stands for: positions are then raking cells
        (respondents with the same base weight and categories, so the same raked weight)
        and the result is the respondents' weights per cell (``n_trimmed`` counts
        respondents). Default: one respondent per position.

    Returns
    -------
    RakedWeights

    Notes
    -----
    One pass: for each margin m and category c, w_i ← w_i × T_mc / Σ_{i∈c} w_i, then
    w_i ← clip(w_i, low b_i, high b_i). Without binding bounds this is Deming & Stephan's
    IPF and converges to R survey's ``rake()``. With binding bounds the margins may be met
    only approximately: ``max_margin_error`` says how far.

    References
    ----------
    Deming, W. E. & Stephan, F. F. (1940). Ann. Math. Statist. 11, 427-444; Lumley, T.
    (2010). Complex Surveys, section 7.3 (``rake``).

    Examples
    --------
    >>> r = rake_weights([[0, 0, 1, 1], [0, 1, 0, 1]], [[60, 40], [30, 70]], [25.0] * 4)
    >>> r.converged, r.weights.round(4).tolist()
    (True, [18.0, 42.0, 12.0, 28.0])

    Each of these respondents twice, given as four cells of two:

    >>> c = rake_weights([[0, 0, 1, 1], [0, 1, 0, 1]], [[60, 40], [30, 70]], [12.5] * 4,
    ...                  respondents=[2, 2, 2, 2])
    >>> c.weights.round(4).tolist()
    [9.0, 21.0, 6.0, 14.0]
    """
    w = np.asarray(base_weights, dtype=float).copy()
    if w.ndim != 1 or np.any(w <= 0) or not np.all(np.isfinite(w)):
        raise ValueError("base weights must be positive and finite")
    n = _respondent_counts(respondents, w)
    margins = _check_margins(categories, targets, w.size, n)
    low, high = trim
    if not 0 < low <= 1 <= high:
        raise ValueError("trim must satisfy 0 < low <= 1 <= high")
    lower, upper = low * np.asarray(base_weights, dtype=float), high * np.asarray(
        base_weights, dtype=float)
    total = float(margins[0][1].sum()) if margins else float(_category_sums(
        np.zeros(w.size, dtype=np.int64), w, n, 1)[0])
    error, iterations = float("inf"), 0
    for iterations in range(1, max_iter + 1):  # noqa: B007 (reported after the loop)
        for cats, target in margins:
            sums = _category_sums(cats, w, n, target.size)
            w *= np.divide(target, sums, out=np.ones_like(target), where=sums > 0)[cats]
            np.clip(w, lower, upper, out=w)
        error = max((float(np.max(np.abs(_category_sums(cats, w, n, t.size) - t)))
                     for cats, t in margins), default=0.0)
        if error <= tolerance * total:
            break
    at_bound = np.isclose(w, lower) | np.isclose(w, upper)
    n_trimmed = int(np.sum(at_bound) if n is None else n[at_bound].sum())
    return RakedWeights(weights=w, iterations=iterations, converged=error <= tolerance * total,
                        max_margin_error=error, n_trimmed=n_trimmed, trim=(low, high),
                        convention=RAKING_CONVENTION.format(low=low, high=high))


def _respondent_counts(respondents, w: np.ndarray) -> np.ndarray | None:
    """``respondents`` as floats (None: one per weight), checked against the weights."""
    if respondents is None:
        return None
    n = np.asarray(respondents, dtype=float)
    if n.shape != w.shape or np.any(n < 0):
        raise ValueError("respondents: one non-negative count per base weight")
    return n


def _category_sums(cats: np.ndarray, w: np.ndarray, n: np.ndarray | None,
                   size: int) -> np.ndarray:
    """The weighted respondents of every category (``n`` respondents per weight)."""
    return np.bincount(cats, weights=w if n is None else w * n, minlength=size)


def calibrated_variance(influence, weights, strata, populations, margins=(), *,
                        fpc: bool = True) -> np.ndarray:
    """Variance of linearised totals under a raked stratified design (R survey's svyrecvar).

    Parameters
    ----------
    influence : array_like, shape (rows, n)
        Per unit of weight: the derivative of each statistic with respect to a respondent's
        weighted value (row), so the statistic's linearised total is Σ_i w_i u_i.
    weights : array_like, shape (n,)
        Raked weights.
    strata : array_like of int, shape (n,)
        Stratum 0..H-1 of every respondent.
    populations : array_like, shape (H,)
        N_h.
    margins : sequence of array_like of int
        The raking margins' categories (as passed to :func:`rake_weights`); none: design
        weights, no sweeping.
    fpc : bool, default True
        Multiply each stratum's variance by 1 − r_h/N_h.

    Returns
    -------
    ndarray, shape (rows,)

    Notes
    -----
    u ← u − ave_c(u) for every margin in turn, ten times (R's fixed count), x = w u;
    Var = Σ_h (1 − r_h/N_h) r_h/(r_h − 1) Σ_{i∈h} (x_i − x̄_h)²; a stratum with one
    respondent contributes 0.

    References
    ----------
    Lumley, T. survey package, ``svyrecvar`` (raking branch) and ``onestage``; Deville,
    J.-C. & Särndal, C.-E. (1992). JASA 87, 376-382.

    Examples
    --------
    Without margins, the variance of the mean of 1, 2, 3, 4 drawn from N = 40,
    (1 − 4/40) s²/4 with s² = 5/3:

    >>> u = [[-1.5 / 40, -0.5 / 40, 0.5 / 40, 1.5 / 40]]
    >>> calibrated_variance(u, [10.0] * 4, [0, 0, 0, 0], [40]).round(6).tolist()
    [0.375]
    """
    with_fpc, without = design_variances(influence,
                                   RakedDesign.of(weights, strata, populations, margins))
    return with_fpc if fpc else without


def raked_stratified_mean(values, strata, weights, populations, labels, margins=(), *,
                          measure: str = "mean") -> tuple[StratifiedEstimate, np.ndarray]:
    """Weighted ratio mean per stratum, pooled by the strata's shares, with its
    linearised SE under the raked design, and its influence values.

    Parameters
    ----------
    values : array_like, shape (n,)
        The respondents' values; NaN where the answer is not valid (NA, missing).
    strata : array_like of int, shape (n,)
        Stratum 0..H-1.
    weights : array_like, shape (n,)
        Raked (or design) weights.
    populations : array_like, shape (H,)
        N_h.
    labels : sequence
        Stratum labels (H).
    margins : sequence of array_like of int
        The raking margins (see :func:`calibrated_variance`).
    measure : str
        Name for the convention text.

    Returns
    -------
    (StratifiedEstimate, ndarray)
        The estimate (strata without a valid value dropped from the shares; ``effective_n``
        Kish's over the pooled weights of the valid answers; each stratum's
        ``weighting_deff``) and the influence values u (n,) for composites.

    Notes
    -----
    m_h = Σ_{i∈h} w_i v_i y_i / Σ_{i∈h} w_i v_i; θ = Σ_{h∈A} W_h m_h, W_h = N_h/Σ_{g∈A} N_g
    over the strata A with a valid value; u_i = W_h v_i (y_i − m_h)/Σ_{i∈h} w_i v_i.
    With w_i = N_h/r_h this is the design-weighted estimate.

    References
    ----------
    Lumley, T. (2010). Complex Surveys, sections 2.2 and 7.3; Kish (1965), section 11.7.

    Examples
    --------
    >>> e, u = raked_stratified_mean([1.0, 0.0, 1.0, np.nan], [0, 0, 0, 1], [10.0] * 4,
    ...                              [30, 10], ["a", "b"])
    >>> round(e.estimate, 4), [s.label for s in e.strata]
    (0.6667, ['a'])
    """
    estimates, u = raked_means(np.asarray(values, dtype=float)[None, :], strata, weights,
                               populations, labels, margins, measures=(measure,))
    return estimates[0], u[0]


def raked_means(values, strata, weights, populations, labels, margins=(), *,
                measures: Sequence[str] | None = None
                ) -> tuple[tuple[StratifiedEstimate, ...], np.ndarray]:
    """:func:`raked_stratified_mean` of every row of ``values`` (rows × n), with one
    variance computation for all rows.

    Parameters
    ----------
    values : array_like, shape (rows, n)
        NaN where not valid.
    strata, weights, populations, labels, margins
        As :func:`raked_stratified_mean`.
    measures : sequence of str, optional
        A name per row for the convention texts.

    Returns
    -------
    (tuple of StratifiedEstimate, ndarray of shape (rows, n))

    Notes
    -----
    See :func:`raked_stratified_mean`.

    References
    ----------
    Lumley, T. (2010). Complex Surveys, section 7.3.

    Examples
    --------
    >>> es, u = raked_means([[1.0, 0, 1, 1], [4.0, 2, 3, 5]], [0, 0, 1, 1], [5.0] * 4,
    ...                     [10, 10], ["a", "b"])
    >>> [round(e.estimate, 2) for e in es]
    [0.75, 3.5]
    """
    y = np.atleast_2d(np.asarray(values, dtype=float))
    design = RakedDesign.of(weights, strata, populations, margins)
    estimates, u = _ratio_means(y, design, labels)
    return with_ses(estimates, *design_variances(u, design), measures), u


def with_ses(estimates, var, var_nofpc, measures=None) -> tuple[StratifiedEstimate, ...]:
    """``estimates`` with the SEs of the variances with and without the FPC, and their
    conventions (one measure name per estimate).

    Examples
    --------
    >>> e = ratio_estimates(["a"], np.array([40.0]), RatioTotals(*[np.ones((1, 1))] * 9))
    >>> with_ses(e, [4.0], [9.0], ["index"])[0].se
    2.0
    """
    names = measures or ["mean"] * len(estimates)
    return tuple(
        replace(e, se=float(np.sqrt(v)), se_without_fpc=float(np.sqrt(v0)),
                convention=f"raked {m}: sum_h W_h (sum w y / sum w) over valid answers; "
                "linearised SE under the raking margins")
        for e, v, v0, m in zip(estimates, var, var_nofpc, names, strict=True))


class _Totals(NamedTuple):
    """Per row (and stratum): what the ratio means and their influence values share."""

    valid: np.ndarray  # rows × n
    yv: np.ndarray  # values, 0 where not valid
    wv: np.ndarray  # weights, 0 where not valid
    strata_onehot: np.ndarray  # n × H
    t_v: np.ndarray  # rows × H: Σ w over valid answers
    answered: np.ndarray  # rows × H: t_v > 0
    share_pop: np.ndarray  # N_h of the answered strata, else 0
    share: np.ndarray  # W_h among the answered strata
    safe_t_v: np.ndarray  # t_v, 1 where not answered
    means: np.ndarray  # rows × H ratio means m_h (0 where not answered)
    scratch: np.ndarray  # rows × n, free for the caller (held w v y)


def _stratum_totals(y: np.ndarray, h: np.ndarray, w: np.ndarray, pop: np.ndarray,
                    strata_onehot: np.ndarray | None = None) -> _Totals:
    """Per row and stratum: the valid answers' weights and weighted values summed, the
    strata's shares among those with a valid answer, and the ratio means."""
    valid = ~np.isnan(y)
    yv = np.where(valid, y, 0.0)  # nan_to_num's checks for ±inf took 4 passes more
    wv = valid * w
    if strata_onehot is None:
        strata_onehot = indicator_matrix(h, pop.size)
    t_v = wv @ strata_onehot
    scratch = np.multiply(wv, yv)
    t_y = scratch @ strata_onehot
    answered = t_v > 0
    if not answered.any(axis=1).all():
        raise ValueError("no valid value in any stratum")
    share_pop = np.where(answered, pop, 0.0)
    share = share_pop / share_pop.sum(axis=1, keepdims=True)
    safe_t_v = np.where(answered, t_v, 1.0)
    means = np.where(answered, t_y / safe_t_v, 0.0)
    return _Totals(valid, yv, wv, strata_onehot, t_v, answered, share_pop, share, safe_t_v,
                   means, scratch)


def raked_point_means(values, strata, weights, populations) -> np.ndarray:
    """The pooled ratio mean of every row of ``values``, without SEs (the estimates of
    :func:`raked_means`, bit for bit, at a fraction of its cost).

    Parameters
    ----------
    values : array_like, shape (rows, n)
        NaN where not valid.
    strata, weights, populations
        As :func:`raked_stratified_mean`.

    Returns
    -------
    ndarray, shape (rows,)

    Notes
    -----
    θ = Σ_{h∈A} W_h m_h as in :func:`raked_stratified_mean`; for a figure shown beside
    the document's own weighting (the non-response section's headline), where no SE is
    reported.

    References
    ----------
    Lumley, T. (2010). Complex Surveys, section 7.3.

    Examples
    --------
    >>> raked_point_means([[1.0, 0, 1, 1], [4.0, 2, 3, 5]], [0, 0, 1, 1], [5.0] * 4,
    ...                   [10, 10]).tolist()
    [0.75, 3.5]
    """
    y = np.atleast_2d(np.asarray(values, dtype=float))
    totals = _stratum_totals(y, np.asarray(strata, dtype=np.int64),
                             np.asarray(weights, dtype=float),
                             np.asarray(populations, dtype=float))
    return np.array([float(totals.share[j] @ totals.means[j]) for j in range(y.shape[0])])


def _ratio_means(y: np.ndarray, design: RakedDesign,
                 labels) -> tuple[list[StratifiedEstimate], np.ndarray]:
    """The pooled ratio mean of every row of ``y`` (SEs left NaN) and the influence
    values, all rows at once."""
    h, pop = design.strata, design.populations
    (valid, yv, wv, strata_onehot, t_v, answered, share_pop, share, safe_t_v,
     means, scratch) = _stratum_totals(y, h, design.weights, pop, design.strata_onehot)
    per_weight = share / safe_t_v
    # The same operations as (yv − m_h) × v, w_h × dev, w v w and w v dev dev, written
    # into arrays already allocated: every new rows × n array costs its page faults, as
    # much as the arithmetic (issue 18, docs/BENCHMARKS.md).
    dev = np.take(means, h, axis=1)
    np.subtract(yv, dev, out=dev)
    dev *= valid
    u = np.take(per_weight, h, axis=1)
    u *= dev
    n_valid = valid.astype(float) @ strata_onehot
    np.multiply(wv, wv, out=scratch)
    sum_w2 = scratch @ strata_onehot
    np.multiply(wv, dev, out=scratch)
    scratch *= dev
    ss = scratch @ strata_onehot
    return ratio_estimates(labels, pop, RatioTotals(n_valid, t_v, answered, share_pop, share,
                                                    means, ss, sum_w2, per_weight)), u


class RatioTotals(NamedTuple):
    """Per row and stratum (rows × H): what a raked ratio mean's estimate reports."""

    n_valid: np.ndarray  # valid answers
    t_v: np.ndarray  # Σ w over valid answers
    answered: np.ndarray  # t_v > 0
    share_pop: np.ndarray  # N_h of the answered strata, else 0
    share: np.ndarray  # W_h among the answered strata
    means: np.ndarray  # m_h
    ss: np.ndarray  # Σ w v (y − m_h)²
    sum_w2: np.ndarray  # Σ w² over valid answers
    per_weight: np.ndarray  # W_h / t_v


def ratio_estimates(labels, pop: np.ndarray, t: RatioTotals) -> list[StratifiedEstimate]:
    """Every row's pooled ratio mean with its strata (SEs left NaN) from its totals.

    Examples
    --------
    >>> one = np.ones((1, 1))
    >>> t = RatioTotals(2 * one, 20 * one, one > 0, 40 * one, one, 0.5 * one, 5 * one,
    ...                 200 * one, one / 20)
    >>> e = ratio_estimates(["a"], np.array([40.0]), t)[0]
    >>> e.estimate, round(e.effective_n, 9), e.strata[0].variance
    (0.5, 2.0, 0.5)
    """
    (n_valid, t_v, answered, share_pop, share, means, ss, sum_w2,
     per_weight) = t
    # Σ of the pooled weights share_h w_i/t_v,h over valid answers is 1, so Kish's n_eff is
    # 1/Σ_h (share_h/t_v,h)² Σ_{i∈h} w_i².
    n_eff = 1.0 / np.sum(per_weight**2 * sum_w2, axis=1)
    out = []
    for j in range(means.shape[0]):
        strata_out = tuple(
            StratumEstimate(
                label=labels[k], population=float(pop[k]), respondents=int(n_valid[j, k]),
                design_weight=float(t_v[j, k] / n_valid[j, k]),
                population_share=float(share[j, k]), mean=float(means[j, k]),
                variance=float(ss[j, k] / t_v[j, k] * n_valid[j, k]
                               / max(n_valid[j, k] - 1, 1)),
                se=float("nan"), se_without_fpc=float("nan"),
                weighting_deff=float(n_valid[j, k] * sum_w2[j, k] / t_v[j, k]**2))
            for k in np.flatnonzero(answered[j]).tolist())
        n = int(n_valid[j].sum())
        out.append(StratifiedEstimate(
            estimate=float(share[j] @ means[j]), se=float("nan"), se_without_fpc=float("nan"),
            fpc_applied=True, design_effect=n / float(n_eff[j]), effective_n=float(n_eff[j]),
            n=n, population=float(share_pop[j].sum()), strata=strata_out, convention=""))
    return out
