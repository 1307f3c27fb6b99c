"""Stratified estimation for household groups (e.g. 棚改安置户 and 租赁补贴户).

Design weight w_h = N_h / r_h, pooled estimate Σ_h (N_h/N) ȳ_h, variance
Σ_h (N_h/N)² (1 − f_h) s_h² / r_h with f_h = r_h/N_h (omit 1 − f_h without the FPC), Kish
design effect n Σw² / (Σw)² and effective sample size (Σw)² / Σw².  Every result keeps the
per-stratum values next to the pooled value.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from math import sqrt

import numpy as np

__all__ = [
    "StratumEstimate",
    "StratifiedEstimate",
    "design_weights",
    "kish_design_effect",
    "effective_sample_size",
    "stratified_mean",
    "stratified_mean_from_moments",
]


@dataclass(frozen=True, slots=True)
class StratumEstimate:
    """One stratum: population N_h, respondents r_h, design weight and mean with its SE."""

    label: object
    population: float
    respondents: int
    design_weight: float
    population_share: float
    mean: float
    variance: float
    se: float
    se_without_fpc: float
    #: Kish's design effect of unequal weights within the stratum (1 for design weights,
    #: above 1 for raked weights); see analysis.estimates.fpc_effective_n.
    weighting_deff: float = 1.0


@dataclass(frozen=True, slots=True)
class StratifiedEstimate:
    """Pooled stratified estimate with per-stratum results."""

    estimate: float
    se: float
    se_without_fpc: float
    fpc_applied: bool
    design_effect: float
    effective_n: float
    n: int
    population: float
    strata: tuple[StratumEstimate, ...]
    convention: str


def design_weights(
    respondents_by_stratum: Mapping[object, int], population_by_stratum: Mapping[object, float]
) -> dict[object, float]:
    """Design weight w_h = N_h / r_h of every respondent in stratum h.

    Parameters
    ----------
    respondents_by_stratum : mapping
        Stratum label -> respondents r_h (> 0).
    population_by_stratum : mapping
        Stratum label -> population size N_h.

    Returns
    -------
    dict
        Stratum label -> w_h. Σ_h r_h w_h equals the population N.

    Notes
    -----
    w_h = N_h / r_h; each respondent stands for w_h households of its stratum.

    References
    ----------
    Kish, L. (1965). Survey Sampling, section 11.7.

    Examples
    --------
    >>> design_weights({"relocated": 150, "rental": 250}, {"relocated": 600, "rental": 2500})
    {'relocated': 4.0, 'rental': 10.0}
    """
    out = {}
    for label, r in respondents_by_stratum.items():
        if r <= 0:
            raise ValueError(f"stratum {label!r} has no respondents")
        out[label] = float(population_by_stratum[label]) / float(r)
    return out


def kish_design_effect(weights) -> float:
    """Kish design effect due to unequal weighting, n Σw² / (Σw)².

    Parameters
    ----------
    weights : array_like
        One weight per respondent (positive).

    Returns
    -------
    float
        deff ≥ 1 (= 1 for equal weights).

    Notes
    -----
    deff = n Σ w_i² / (Σ w_i)².

    References
    ----------
    Kish, L. (1992). Weighting for unequal P_i. Journal of Official Statistics 8(2), 183-200.

    Examples
    --------
    >>> round(kish_design_effect([4.0] * 150 + [10.0] * 250), 4)
    1.1405
    """
    w = np.asarray(weights, dtype=float)
    if w.size == 0 or np.any(w <= 0):
        raise ValueError("weights must be positive and non-empty")
    return float(w.size * np.sum(w**2) / np.sum(w) ** 2)


def effective_sample_size(weights) -> float:
    """Kish effective sample size (Σw)² / Σw² = n / deff.

    Parameters
    ----------
    weights : array_like
        One weight per respondent (positive).

    Returns
    -------
    float

    Notes
    -----
    n_eff = (Σ w_i)² / Σ w_i².

    References
    ----------
    Kish (1965), section 11.7.

    Examples
    --------
    >>> round(effective_sample_size([4.0] * 150 + [10.0] * 250), 1)
    350.7
    """
    w = np.asarray(weights, dtype=float)
    if w.size == 0 or np.any(w <= 0):
        raise ValueError("weights must be positive and non-empty")
    return float(np.sum(w) ** 2 / np.sum(w**2))


def stratified_mean_from_moments(
    labels: Sequence[object],
    respondents: Sequence[int],
    means: Sequence[float],
    variances: Sequence[float],
    populations: Sequence[float],
    *,
    fpc: bool = True,
    measure: str = "mean",
) -> StratifiedEstimate:
    """Stratified estimate from per-stratum sizes, means and sample variances (ddof=1).

    Parameters
    ----------
    labels : sequence
        Stratum labels.
    respondents : sequence of int
        r_h (valid answers) per stratum.
    means, variances : sequence of float
        ȳ_h and s_h² per stratum.
    populations : sequence of float
        N_h per stratum.
    fpc : bool, default True
        Report the SE with the finite-population correction as ``se``.
    measure : str, default "mean"
        Name of the measure, used in the convention text.

    Returns
    -------
    StratifiedEstimate

    Notes
    -----
    See :func:`stratified_mean`. Strata with r_h = 0 are not allowed. A stratum with
    r_h = 1 contributes variance 0 (s_h² undefined) and is flagged in the convention.

    References
    ----------
    Cochran (1977), sections 5.2-5.3.

    Examples
    --------
    >>> e = stratified_mean_from_moments(["a", "b"], [5, 3], [5.94, 14.5 / 3],
    ...                                  [6.338, 2.4033], [15, 12])
    >>> round(e.estimate, 4)
    5.4481
    """
    r = np.asarray(respondents, dtype=float)
    if np.any(r <= 0):
        raise ValueError("every stratum needs at least one respondent")
    pop = np.asarray(populations, dtype=float)
    if np.any(pop < r):
        raise ValueError("a stratum has more respondents than its population")
    m = np.asarray(means, dtype=float)
    s2 = np.where(r > 1, np.asarray(variances, dtype=float), 0.0)
    big_n = float(pop.sum())
    share = pop / big_n
    f = r / pop
    var_h_nofpc = s2 / r
    var_h = (1 - f) * var_h_nofpc
    estimate = float(share @ m)
    var_nofpc = float(np.sum(share**2 * var_h_nofpc))
    var_fpc = float(np.sum(share**2 * var_h))
    w = pop / r
    n = int(r.sum())
    sum_w2 = float(np.sum(r * w**2))
    deff = n * sum_w2 / big_n**2
    n_eff = big_n**2 / sum_w2
    strata = _stratum_estimates(labels, pop, r, w, share, m, s2, var_h if fpc else var_h_nofpc,
                                var_h_nofpc)
    convention = _convention(measure, fpc, single_respondent=bool(np.any(r == 1)))
    return StratifiedEstimate(
        estimate=estimate,
        se=sqrt(var_fpc) if fpc else sqrt(var_nofpc),
        se_without_fpc=sqrt(var_nofpc),
        fpc_applied=fpc,
        design_effect=deff,
        effective_n=n_eff,
        n=n,
        population=big_n,
        strata=strata,
        convention=convention,
    )


def _stratum_estimates(labels, pop, r, w, share, m, s2, var_h, var_h_nofpc
                       ) -> tuple[StratumEstimate, ...]:
    """Each stratum's result; ``var_h`` is the variance its ``se`` reports."""
    return tuple(
        StratumEstimate(
            label=labels[i],
            population=float(pop[i]),
            respondents=int(r[i]),
            design_weight=float(w[i]),
            population_share=float(share[i]),
            mean=float(m[i]),
            variance=float(s2[i]),
            se=float(sqrt(var_h[i])),
            se_without_fpc=float(sqrt(var_h_nofpc[i])),
        )
        for i in range(len(labels))
    )


def _convention(measure: str, fpc: bool, *, single_respondent: bool) -> str:
    return (
        f"stratified {measure}: sum_h (N_h/N) ybar_h, design weight w_h = N_h/r_h; "
        "var = sum_h (N_h/N)^2 (1-f_h) s_h^2/r_h, f_h = r_h/N_h"
        + ("" if fpc else " (se reported without FPC)")
        + "; Kish deff = n sum w^2/(sum w)^2"
        + ("; strata with one respondent contribute zero variance" if single_respondent else "")
    )


def stratified_mean(
    values_by_stratum: Mapping[object, Sequence[float]],
    population_by_stratum: Mapping[object, float],
    *,
    fpc: bool = True,
) -> StratifiedEstimate:
    """Pooled stratified mean with SE (with and without FPC), Kish deff, per stratum.

    Parameters
    ----------
    values_by_stratum : mapping
        Stratum label -> respondent values (NaN dropped; for a rate pass 0/1 values).
    population_by_stratum : mapping
        Stratum label -> population size N_h.
    fpc : bool, default True
        Use the finite-population correction in ``se`` (``se_without_fpc`` is always given).

    Returns
    -------
    StratifiedEstimate
        estimate, se, se_without_fpc, design_effect, effective_n, per-stratum results.

    Notes
    -----
    ȳ_st = Σ_h W_h ȳ_h with W_h = N_h/N; Var = Σ_h W_h² (1 − f_h) s_h²/r_h, f_h = r_h/N_h.
    deff (Kish, weighting only) = n Σ_i w_i² / (Σ_i w_i)², with w_i = N_h/r_h.

    References
    ----------
    Cochran (1977), Sampling Techniques, eq. 5.6; Lumley, R package ``survey`` (``fpc``
    example data); Kish (1992).

    Examples
    --------
    The ``fpc`` example of the R survey package:

    >>> e = stratified_mean({1: [2.8, 4.1, 6.8, 6.8, 9.2], 2: [3.7, 6.6, 4.2]}, {1: 15, 2: 12})
    >>> round(e.estimate, 4), round(e.se_without_fpc, 4), round(e.se, 3)
    (5.4481, 0.7413, 0.616)
    """
    labels = list(values_by_stratum)
    arrays = []
    for h in labels:
        a = np.asarray(values_by_stratum[h], dtype=float)
        arrays.append(a[~np.isnan(a)])
    return stratified_mean_from_moments(
        labels,
        [a.size for a in arrays],
        [a.mean() if a.size else np.nan for a in arrays],
        [a.var(ddof=1) if a.size > 1 else 0.0 for a in arrays],
        [population_by_stratum[h] for h in labels],
        fpc=fpc,
    )
