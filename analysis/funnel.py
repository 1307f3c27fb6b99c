"""Funnel plot of county satisfaction rates: which counties differ from the region's rate.

Each county's rate is plotted against its effective sample size n (Kish's n* with the
finite-population correction, as its interval uses). Under the hypothesis that the county's
true rate is the region's rate p₀, its estimate is approximately normal with variance
p₀(1 − p₀)/n (binomial variance at the effective n), so the control limits are

    p₀ ± z_α · sqrt(p₀ (1 − p₀) / n),   z = Φ⁻¹(0.975) = 1.960 (95 %), Φ⁻¹(0.999) = 3.090 (99.8 %),

clipped to [0, 1]. A county outside the 99.8 % limits differs from the region beyond
chance (about 1 in 500 counties would fall outside by chance alone); between the 95 % and
99.8 % limits is a warning only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from math import sqrt

from scipy.special import ndtri

__all__ = ["FUNNEL_CONVENTION", "FunnelCurve", "FunnelPlot", "FunnelPoint", "funnel_curve",
           "funnel_limits", "funnel_plot"]

LEVELS = (0.95, 0.998)
FUNNEL_CONVENTION = (
    "funnel plot: rate against effective sample size n (Kish's n* with FPC); limits "
    "p0 +- z sqrt(p0(1-p0)/n) around the region's rate p0 (normal approximation to the "
    "binomial at n), z = 1.960 (95 %) and 3.090 (99.8 %), clipped to [0, 1]")


@dataclass(frozen=True, slots=True)
class FunnelPoint:
    """A county on the funnel: its rate, effective n, z-score and where it falls.

    ``position``: "high_998" / "low_998" outside the 99.8 % limits, "high_95" / "low_95"
    between the 95 % and 99.8 % limits, "within" inside the 95 % limits.
    """

    unit: str
    rate: float
    size: float
    z: float
    limits_95: tuple[float, float]
    limits_998: tuple[float, float]
    position: str


@dataclass(frozen=True, slots=True)
class FunnelCurve:
    """The limits on a grid of sizes, for drawing the funnel."""

    sizes: tuple[float, ...]
    low_95: tuple[float, ...]
    high_95: tuple[float, ...]
    low_998: tuple[float, ...]
    high_998: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class FunnelPlot:
    """The region's rate, the counties on the funnel and the curve of its limits."""

    target: float
    points: tuple[FunnelPoint, ...]
    curve: FunnelCurve
    convention: str


def funnel_limits(target: float, size: float, level: float) -> tuple[float, float]:
    """Funnel limits at one sample size.

    Parameters
    ----------
    target : float
        The region's rate p₀ (0-1).
    size : float
        The county's (effective) sample size n > 0.
    level : float
        Two-sided level, e.g. 0.95 or 0.998.

    Returns
    -------
    (float, float)
        p₀ ∓ z sqrt(p₀(1 − p₀)/n), z = Φ⁻¹((1 + level)/2), clipped to [0, 1].

    Notes
    -----
    Normal approximation to the binomial under H₀: true rate = p₀.

    References
    ----------
    Spiegelhalter, D. J. (2005). Funnel plots for comparing institutional performance.
    Statistics in Medicine 24, 1185-1202, section 3.1.

    Examples
    --------
    >>> low, high = funnel_limits(0.8, 100, 0.95)
    >>> round(low, 4), round(high, 4)
    (0.7216, 0.8784)
    """
    if not 0 <= target <= 1 or size <= 0 or not 0 < level < 1:
        raise ValueError("need 0 <= target <= 1, size > 0 and 0 < level < 1")
    half = float(ndtri(0.5 + level / 2)) * sqrt(target * (1 - target) / size)
    return max(0.0, target - half), min(1.0, target + half)


def _position(rate: float, limits_95, limits_998) -> str:
    if rate > limits_998[1]:
        return "high_998"
    if rate < limits_998[0]:
        return "low_998"
    if rate > limits_95[1]:
        return "high_95"
    if rate < limits_95[0]:
        return "low_95"
    return "within"


def funnel_curve(target: float, size_min: float, size_max: float,
                 steps: int = 40) -> FunnelCurve:
    """The 95 % and 99.8 % limits on a geometric grid of sizes from ``size_min`` to ``size_max``.

    Parameters
    ----------
    target : float
        p₀.
    size_min, size_max : float
        Grid ends (> 0).
    steps : int, default 40
        Grid points.

    Returns
    -------
    FunnelCurve

    Notes
    -----
    See :func:`funnel_limits`.

    References
    ----------
    Spiegelhalter (2005).

    Examples
    --------
    >>> c = funnel_curve(0.8, 25, 400, steps=3)
    >>> c.sizes, [round(v, 3) for v in c.high_95]
    ((25.0, 100.0, 400.0), [0.957, 0.878, 0.839])
    """
    if size_min <= 0 or size_max < size_min or steps < 2:
        raise ValueError("need 0 < size_min <= size_max and steps >= 2")
    ratio = (size_max / size_min) ** (1 / (steps - 1))
    sizes = tuple(size_min * ratio**i for i in range(steps))
    sizes = (*sizes[:-1], float(size_max))
    l95 = [funnel_limits(target, n, LEVELS[0]) for n in sizes]
    l998 = [funnel_limits(target, n, LEVELS[1]) for n in sizes]
    return FunnelCurve(sizes=tuple(float(n) for n in sizes),
                       low_95=tuple(v[0] for v in l95), high_95=tuple(v[1] for v in l95),
                       low_998=tuple(v[0] for v in l998), high_998=tuple(v[1] for v in l998))


def funnel_plot(units: Sequence[str], rates: Sequence[float], sizes: Sequence[float], *,
                target: float) -> FunnelPlot:
    """Counties on a funnel around the region's rate.

    Parameters
    ----------
    units : sequence of str
        County names or codes.
    rates : sequence of float
        Each county's rate.
    sizes : sequence of float
        Each county's effective sample size (> 0; a census, n = inf, is left off the plot).
    target : float
        The region's rate p₀ (its roll-up estimate).

    Returns
    -------
    FunnelPlot
        ``points`` in the order given (censuses left out), the curve from half the smallest
        to twice the largest size.

    Notes
    -----
    z = (rate − p₀)/sqrt(p₀(1 − p₀)/n); limits as :func:`funnel_limits`.

    References
    ----------
    Spiegelhalter (2005), Statistics in Medicine 24, 1185-1202.

    Examples
    --------
    >>> f = funnel_plot(["A", "B"], [0.95, 0.78], [200, 150], target=0.8)
    >>> [(p.unit, p.position) for p in f.points]
    [('A', 'high_998'), ('B', 'within')]
    """
    if not (len(units) == len(rates) == len(sizes)):
        raise ValueError("need one rate and one size per county")
    points = []
    for unit, rate, size in zip(units, rates, sizes, strict=True):
        if size == float("inf"):
            continue
        l95 = funnel_limits(target, size, LEVELS[0])
        l998 = funnel_limits(target, size, LEVELS[1])
        sd = sqrt(target * (1 - target) / size)
        z = (rate - target) / sd if sd > 0 else 0.0
        points.append(FunnelPoint(unit=unit, rate=float(rate), size=float(size), z=z,
                                  limits_95=l95, limits_998=l998,
                                  position=_position(rate, l95, l998)))
    finite = [p.size for p in points] or [10.0]
    curve = funnel_curve(target, max(min(finite) / 2, 1.0), max(finite) * 2)
    return FunnelPlot(target=float(target), points=tuple(points), curve=curve,
                      convention=FUNNEL_CONVENTION)
