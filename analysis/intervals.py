"""Confidence intervals in closed form: Wilson for rates, normal and t for means and
indices, and the finite-population correction. Bootstrap intervals are in
:mod:`analysis.bootstrap`.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import sqrt

import numpy as np
from scipy import special

__all__ = [
    "Interval",
    "wilson_interval",
    "t_interval",
    "interval_from_se",
    "finite_population_correction",
]


@dataclass(frozen=True, slots=True)
class Interval:
    """A confidence interval and how it was computed."""

    estimate: float
    low: float
    high: float
    confidence: float
    method: str


def check_confidence(confidence: float) -> None:
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence}")


def wilson_interval(
    k: int, n: int, confidence: float = 0.95, correction: bool = False
) -> Interval:
    """Wilson score interval for a proportion k/n (as R ``prop.test``).

    Parameters
    ----------
    k : int
        Successes (e.g. satisfied answers).
    n : int
        Trials (valid answers, NA excluded); must be positive.
    confidence : float, default 0.95
        Two-sided confidence level.
    correction : bool, default False
        Apply the continuity correction (Newcombe 1998, method 4).

    Returns
    -------
    Interval
        estimate k/n, low, high, confidence, method.

    Notes
    -----
    With p = k/n, q = 1 - p, z = Φ⁻¹((1+confidence)/2), D = 2(n + z²):
    without correction the bounds are (2np + z² ∓ z√(4npq + z²)) / D;
    with correction low = (2np + z² − 1 − z√(z² − 2 − 1/n + 4p(nq + 1))) / D and
    high = (2np + z² + 1 + z√(z² + 2 − 1/n + 4p(nq − 1))) / D.
    The bound is 0 when k = 0 and 1 when k = n.

    References
    ----------
    Wilson, E. B. (1927). JASA 22, 209-212. Newcombe, R. G. (1998). Statistics in Medicine 17,
    857-872.

    Examples
    --------
    >>> ci = wilson_interval(180, 200)
    >>> round(ci.low, 4), round(ci.high, 4)
    (0.8506, 0.9343)
    """
    check_confidence(confidence)
    if n <= 0 or not 0 <= k <= n:
        raise ValueError(f"need 0 <= k <= n and n > 0, got k={k}, n={n}")
    p = k / n
    q = 1 - p
    z = float(special.ndtri(0.5 + 0.5 * confidence))
    denom = 2 * (n + z**2)
    center = (2 * n * p + z**2) / denom
    if correction:
        lo = 0.0 if k == 0 else center - (
            1 + z * sqrt(z**2 - 2 - 1 / n + 4 * p * (n * q + 1))
        ) / denom
        hi = 1.0 if k == n else center + (
            1 + z * sqrt(z**2 + 2 - 1 / n + 4 * p * (n * q - 1))
        ) / denom
    else:
        delta = z / denom * sqrt(4 * n * p * q + z**2)
        lo = 0.0 if k == 0 else center - delta
        hi = 1.0 if k == n else center + delta
    method = "Wilson score" + (" with continuity correction" if correction else "")
    return Interval(p, max(0.0, lo), min(1.0, hi), confidence, method)


def finite_population_correction(sample_size: float, population_size: float | None) -> float:
    """Finite-population correction factor 1 − n/N applied to a variance.

    Parameters
    ----------
    sample_size : float
        Respondents n.
    population_size : float or None
        Population N; ``None`` means infinite (factor 1).

    Returns
    -------
    float
        1 − n/N (multiply the variance, or its square root the SE).

    Notes
    -----
    For simple random sampling without replacement Var(ȳ) = (1 − f) S²/n with f = n/N.

    References
    ----------
    Cochran, W. G. (1977). Sampling Techniques, 3rd ed., eq. 2.12.

    Examples
    --------
    >>> finite_population_correction(150, 600)
    0.75
    """
    if population_size is None:
        return 1.0
    if population_size <= 0 or sample_size < 0 or sample_size > population_size:
        raise ValueError("need 0 <= n <= N and N > 0")
    return 1.0 - sample_size / population_size


def interval_from_se(
    estimate: float, se: float, confidence: float = 0.95, df: float | None = None
) -> Interval:
    """Symmetric interval estimate ± q·SE with a normal (df None) or t quantile.

    Parameters
    ----------
    estimate : float
        Point estimate.
    se : float
        Standard error.
    confidence : float, default 0.95
        Two-sided level.
    df : float or None
        Degrees of freedom for a t quantile; ``None`` uses the normal quantile.

    Returns
    -------
    Interval

    Notes
    -----
    estimate ± q_{(1+confidence)/2} × se.

    References
    ----------
    Cochran (1977), section 2.5.

    Examples
    --------
    >>> ci = interval_from_se(50.0, 2.0)
    >>> round(ci.low, 3), round(ci.high, 3)
    (46.08, 53.92)
    """
    check_confidence(confidence)
    if df is None:
        q = float(special.ndtri(0.5 + 0.5 * confidence))
        method = "normal approximation"
    else:
        from scipy import stats  # only here: scipy.stats costs start-up time and memory

        q = float(stats.t.ppf(0.5 + 0.5 * confidence, df))
        method = f"t with {df:g} df"
    return Interval(float(estimate), estimate - q * se, estimate + q * se, confidence, method)


def t_interval(
    values, confidence: float = 0.95, population_size: float | None = None
) -> Interval:
    """t interval for a mean, optionally with the finite-population correction.

    Parameters
    ----------
    values : array_like
        Observations (NaN are dropped).
    confidence : float, default 0.95
        Two-sided level.
    population_size : float or None
        Population N; when given the SE is multiplied by √(1 − n/N).

    Returns
    -------
    Interval

    Notes
    -----
    ȳ ± t_{(1+c)/2, n−1} · s/√n · √(1 − n/N).

    References
    ----------
    Cochran (1977), section 2.5.

    Examples
    --------
    >>> ci = t_interval([1.0, 2.0, 3.0, 4.0])
    >>> round(ci.low, 4), round(ci.high, 4)
    (0.4457, 4.5543)
    """
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    n = x.size
    if n < 2:
        raise ValueError("t interval needs at least two observations")
    se = float(x.std(ddof=1) / sqrt(n)) * sqrt(finite_population_correction(n, population_size))
    ci = interval_from_se(float(x.mean()), se, confidence, df=n - 1)
    suffix = "" if population_size is None else f", FPC with N={population_size:g}"
    return Interval(ci.estimate, ci.low, ci.high, confidence, f"t interval (df={n - 1}){suffix}")
