"""Survey planning and field rates: Cochran sample size with the finite-population
correction, contacts to issue, margin of error of an achieved sample, AAPOR outcome rates."""

from __future__ import annotations

from dataclasses import dataclass
from math import ceil, sqrt
from typing import Literal

from scipy import special

__all__ = [
    "SampleSize",
    "MarginOfError",
    "AAPORRates",
    "cochran_sample_size",
    "contacts_needed",
    "margin_of_error",
    "aapor_rates",
]

FpcFormula = Literal["cochran", "simple"]

_FORMULAS = {
    "cochran": "n = ceil(n0 / (1 + (n0 - 1)/N))",
    "simple": "n = ceil(n0 / (1 + n0/N))",
}


@dataclass(frozen=True, slots=True)
class SampleSize:
    n: int
    n0: float
    population: int | None
    margin: float
    proportion: float
    confidence: float
    formula: str


@dataclass(frozen=True, slots=True)
class MarginOfError:
    margin: float
    n: int
    population: int | None
    proportion: float
    confidence: float
    formula: str


@dataclass(frozen=True, slots=True)
class AAPORRates:
    rr1: float
    rr3: float
    coop1: float
    ref1: float
    e: float
    convention: str


def _z(confidence: float) -> float:
    if not 0 < confidence < 1:
        raise ValueError("confidence must lie in (0, 1)")
    return float(special.ndtri(0.5 + 0.5 * confidence))


def cochran_sample_size(
    population: int | None = None,
    *,
    margin: float = 0.05,
    proportion: float = 0.5,
    confidence: float = 0.95,
    fpc_formula: FpcFormula = "cochran",
) -> SampleSize:
    """Sample size to estimate a proportion within ± margin (Cochran, with FPC).

    Parameters
    ----------
    population : int or None
        Population size N (None: infinite, n = ⌈n0⌉).
    margin : float, default 0.05
        Half-width e of the interval.
    proportion : float, default 0.5
        Anticipated proportion p (0.5 is the conservative choice).
    confidence : float, default 0.95
        Confidence level; z = Φ⁻¹((1 + confidence)/2) exactly (1.959964 at 95 %).
    fpc_formula : {"cochran", "simple"}, default "cochran"
        "cochran": n = ⌈n0 / (1 + (n0 − 1)/N)⌉ (exact inverse of the SRSWOR variance
        p q (N − n)/((N − 1) n)); "simple": n = ⌈n0 / (1 + n0/N)⌉ (the usual approximation,
        one respondent smaller in some cases).

    Returns
    -------
    SampleSize
        n (rounded up), n0, inputs and the formula text.

    Notes
    -----
    n0 = z² p (1 − p) / e². Rounding is always upward.

    References
    ----------
    Cochran, W. G. (1977). Sampling Techniques, 3rd ed., section 4.4, eq. 4.2.

    Examples
    --------
    >>> cochran_sample_size(600).n, cochran_sample_size(2500).n
    (235, 334)
    >>> cochran_sample_size(2500, fpc_formula="simple").n
    333
    """
    if not 0 < margin < 1 or not 0 < proportion < 1:
        raise ValueError("margin and proportion must lie in (0, 1)")
    z = _z(confidence)
    n0 = z**2 * proportion * (1 - proportion) / margin**2
    if population is None:
        n = ceil(n0)
        formula = "n = ceil(n0), n0 = z^2 p(1-p)/e^2 (no FPC)"
    else:
        if population < 1:
            raise ValueError("population must be positive")
        if fpc_formula == "cochran":
            raw = n0 / (1 + (n0 - 1) / population)
        elif fpc_formula == "simple":
            raw = n0 / (1 + n0 / population)
        else:
            raise ValueError("fpc_formula must be 'cochran' or 'simple'")
        n = min(ceil(raw - 1e-9), population)
        formula = _FORMULAS[fpc_formula] + ", n0 = z^2 p(1-p)/e^2"
    return SampleSize(n, n0, population, margin, proportion, confidence, formula)


def contacts_needed(sample_size: int, response_rate: float) -> int:
    """Contacts (questionnaires) to issue so that the expected completes reach n.

    Parameters
    ----------
    sample_size : int
        Required completes n.
    response_rate : float
        Expected response rate in (0, 1].

    Returns
    -------
    int
        ⌈n / response_rate⌉.

    Notes
    -----
    A 1e-9 tolerance keeps exact quotients (e.g. 235 / 0.5) from rounding up by float error.

    References
    ----------
    METHODS.md section 3.

    Examples
    --------
    >>> contacts_needed(235, 0.7)
    336
    """
    if not 0 < response_rate <= 1 or sample_size < 0:
        raise ValueError("response_rate must lie in (0, 1] and sample_size >= 0")
    return ceil(sample_size / response_rate - 1e-9)


def margin_of_error(
    n: int,
    *,
    population: int | None = None,
    proportion: float = 0.5,
    confidence: float = 0.95,
    fpc_formula: FpcFormula = "cochran",
) -> MarginOfError:
    """Margin of error of a proportion from an achieved sample.

    Parameters
    ----------
    n : int
        Achieved valid answers.
    population : int or None
        Population N (None: no FPC).
    proportion : float, default 0.5
        Proportion p (the observed rate, or 0.5 for the worst case).
    confidence : float, default 0.95
        Confidence level.
    fpc_formula : {"cochran", "simple"}, default "cochran"
        "cochran": factor (N − n)/(N − 1) (inverse of the default sample-size formula);
        "simple": factor 1 − n/N.

    Returns
    -------
    MarginOfError

    Notes
    -----
    e = z √(p(1 − p)/n · FPC).

    References
    ----------
    Cochran (1977), section 4.4.

    Examples
    --------
    >>> round(margin_of_error(235, population=600).margin, 4)
    0.0499
    """
    if n < 1 or (population is not None and n > population):
        raise ValueError("need 1 <= n <= N")
    z = _z(confidence)
    if population is None:
        fpc, text = 1.0, "e = z sqrt(p(1-p)/n)"
    elif fpc_formula == "cochran":
        fpc = (population - n) / (population - 1) if population > 1 else 0.0
        text = "e = z sqrt(p(1-p)/n * (N-n)/(N-1))"
    elif fpc_formula == "simple":
        fpc, text = 1 - n / population, "e = z sqrt(p(1-p)/n * (1-n/N))"
    else:
        raise ValueError("fpc_formula must be 'cochran' or 'simple'")
    e = z * sqrt(proportion * (1 - proportion) / n * fpc)
    return MarginOfError(e, n, population, proportion, confidence, text)


def aapor_rates(
    *,
    complete: int,
    partial: int = 0,
    refusal: int = 0,
    non_contact: int = 0,
    other: int = 0,
    unknown_household: int = 0,
    unknown_other: int = 0,
    e: float = 1.0,
) -> AAPORRates:
    """AAPOR response (RR1, RR3), cooperation (COOP1) and refusal (REF1) rates.

    Parameters
    ----------
    complete : int
        I, complete interviews.
    partial : int, default 0
        P, partial interviews.
    refusal : int, default 0
        R, refusals and break-offs.
    non_contact : int, default 0
        NC, eligible households never contacted.
    other : int, default 0
        O, other eligible non-interviews.
    unknown_household : int, default 0
        UH, unknown whether the household is occupied/eligible.
    unknown_other : int, default 0
        UO, unknown eligibility, other.
    e : float, default 1.0
        Estimated share of unknown-eligibility cases that are eligible (for RR3); state how
        it was estimated (e.g. from the eligible share among resolved cases).

    Returns
    -------
    AAPORRates

    Notes
    -----
    RR1 = I / ((I + P) + (R + NC + O) + (UH + UO));
    RR3 = I / ((I + P) + (R + NC + O) + e (UH + UO));
    COOP1 = I / ((I + P) + R + O);
    REF1 = R / ((I + P) + (R + NC + O) + (UH + UO)).

    References
    ----------
    AAPOR (2023). Standard Definitions: Final Dispositions of Case Codes and Outcome Rates
    for Surveys, 10th ed.

    Examples
    --------
    >>> r = aapor_rates(complete=400, partial=20, refusal=50, non_contact=20, other=10,
    ...                 unknown_household=100, e=0.5)
    >>> round(r.rr1, 4), round(r.rr3, 4), round(r.coop1, 4), round(r.ref1, 4)
    (0.6667, 0.7273, 0.8333, 0.0833)
    """
    counts = (complete, partial, refusal, non_contact, other, unknown_household, unknown_other)
    if any(c < 0 for c in counts) or not 0 <= e <= 1:
        raise ValueError("counts must be non-negative and e in [0, 1]")
    interviews = complete + partial
    eligible_non = refusal + non_contact + other
    unknown = unknown_household + unknown_other

    def ratio(num: float, den: float) -> float:
        return num / den if den > 0 else float("nan")

    return AAPORRates(
        rr1=ratio(complete, interviews + eligible_non + unknown),
        rr3=ratio(complete, interviews + eligible_non + e * unknown),
        coop1=ratio(complete, interviews + refusal + other),
        ref1=ratio(refusal, interviews + eligible_non + unknown),
        e=e,
        convention="AAPOR Standard Definitions RR1, RR3 (with e), COOP1, REF1",
    )
