"""The one-factor model fitted by maximum likelihood to a correlation matrix (Jöreskog's ML
factor analysis, as R's ``factanal``), for :mod:`analysis.validity` (split from it).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize

__all__ = ["MIN_UNIQUENESS", "OneFactorModel", "one_factor_ml"]

#: Smallest uniqueness the ML fit may reach (R's ``factanal`` default lower bound); a fit
#: that stops there is a Heywood case (lavaan would report a negative residual variance).
MIN_UNIQUENESS = 0.005


@dataclass(frozen=True, slots=True)
class OneFactorModel:
    """A one-factor ML solution: standardised loadings, uniquenesses and whether the fit
    stopped at the uniqueness bound (Heywood case)."""

    loadings: tuple[float, ...]
    uniquenesses: tuple[float, ...]
    heywood: bool
    converged: bool


def _first_eigen(r: np.ndarray, psi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    scale = 1 / np.sqrt(psi)
    values, vectors = np.linalg.eigh(r * np.outer(scale, scale))
    return values, vectors[:, -1]


def _discrepancy(psi: np.ndarray, r: np.ndarray) -> float:
    # ML discrepancy minimised over the loadings for fixed uniquenesses (factanal's FAfn).
    values, _ = _first_eigen(r, psi)
    rest = values[:-1]
    return float(-np.sum(np.log(rest) - rest) + 1 - r.shape[0])


def _loadings(psi: np.ndarray, r: np.ndarray) -> np.ndarray:
    values, vector = _first_eigen(r, psi)
    lam = np.sqrt(psi) * vector * np.sqrt(max(values[-1] - 1, 0.0))
    return lam if lam.sum() >= 0 else -lam


def _gradient(psi: np.ndarray, r: np.ndarray) -> np.ndarray:
    lam = _loadings(psi, r)
    return (lam**2 + psi - np.diag(r)) / psi**2


def _stationarity(psi: np.ndarray, r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """h(Ψ) = λ² + Ψ − diag(R), zero for each uniqueness inside its bounds at the optimum
    (the gradient's numerator), and its Jacobian ∂h_i/∂ψ_j.

    With θ, u the largest eigenpair of M = Ψ^-½ R Ψ^-½ (the others t_m, v_m):
    λ_i² = ψ_i u_i² (θ − 1), ∂θ/∂ψ_j = −θ u_j²/ψ_j and
    ∂u_i/∂ψ_j = −u_j/(2ψ_j) Σ_m v_im v_jm (θ + t_m)/(θ − t_m).
    """
    scale = 1 / np.sqrt(psi)
    values, vectors = np.linalg.eigh(r * np.outer(scale, scale))
    theta, u, rest, others = values[-1], vectors[:, -1], values[:-1], vectors[:, :-1]
    h = psi * u * u * (theta - 1) + psi - np.diag(r)
    with np.errstate(divide="ignore", invalid="ignore"):
        du = -(others * ((theta + rest) / (theta - rest))) @ others.T * (u / (2 * psi))
    dtheta = -theta * u * u / psi
    jacobian = (np.diag(u * u * (theta - 1) + 1) + 2 * (theta - 1) * (psi * u)[:, None] * du
                + np.outer(psi * u * u, dtheta))
    return h, jacobian


def _polished(psi: np.ndarray, r: np.ndarray, free: np.ndarray) -> np.ndarray:
    """Ψ after Newton steps on the stationarity equations of the ``free`` uniquenesses.

    L-BFGS-B stops once F no longer falls in double precision, about 1e-9 from the optimum
    in Ψ, at a point that depends on its path; the root of the equations depends only on R,
    so two computations of the same R to rounding (rows or sums) give the same loadings to
    rounding. A step is kept only if it stays inside the bounds and shrinks the residual.
    """
    at = np.flatnonzero(free)
    if _first_eigen(r, psi)[0][-1] <= 1:  # no common factor: λ = 0, h is not the gradient's
        return psi
    h, jacobian = _stationarity(psi, r)
    for _ in range(4):
        if not at.size or not np.all(np.isfinite(jacobian)) or not h[at].any():
            break
        try:
            step = np.linalg.solve(jacobian[np.ix_(at, at)], -h[at])
        except np.linalg.LinAlgError:
            break
        moved = psi.copy()
        moved[at] += step
        if np.any(moved[at] <= MIN_UNIQUENESS) or np.any(moved[at] >= 1.0):
            break
        h_moved, j_moved = _stationarity(moved, r)
        if np.max(np.abs(h_moved[at])) >= np.max(np.abs(h[at])):
            break
        psi, h, jacobian = moved, h_moved, j_moved
    return psi


def one_factor_ml(correlation) -> OneFactorModel:
    """Maximum-likelihood one-factor model of a correlation matrix.

    Parameters
    ----------
    correlation : array_like, shape (k, k)
        Positive definite correlation matrix of k >= 3 items.

    Returns
    -------
    OneFactorModel
        Standardised loadings (signed so that their sum is positive), uniquenesses,
        whether the fit stopped at ``MIN_UNIQUENESS`` and whether the optimiser converged.

    Notes
    -----
    Minimises F(Ψ) = log|Σ| + tr(RΣ⁻¹) − log|R| − k with Σ = λλᵀ + Ψ. For fixed Ψ the best λ
    is Ψ^½ u √(θ − 1), with θ, u the largest eigenvalue and its vector of Ψ^-½ R Ψ^-½; Ψ is
    then found by bounded quasi-Newton (L-BFGS-B, Ψ in [0.005, 1]) with the analytic
    gradient, starting from Ψ = (1 − 1/(2k)) / diag(R⁻¹) — as R's ``factanal``; then
    Newton steps on the stationarity equations λ_i² + ψ_i = 1 of the uniquenesses inside the
    bounds take Ψ to the optimum to rounding (L-BFGS-B stops about 1e-9 short).

    References
    ----------
    Jöreskog, K. G. (1967). Psychometrika 32, 443-482. Lawley, D. N. & Maxwell, A. E. (1971).
    Factor Analysis as a Statistical Method, ch. 4. R ``stats::factanal``.

    Examples
    --------
    >>> r = [[1.0, 0.56, 0.48], [0.56, 1.0, 0.42], [0.48, 0.42, 1.0]]
    >>> [round(x, 4) for x in one_factor_ml(r).loadings]
    [0.8, 0.7, 0.6]
    """
    r = np.asarray(correlation, dtype=float)
    k = r.shape[0]
    if r.ndim != 2 or k != r.shape[1] or k < 3:
        raise ValueError("a one-factor model needs a square correlation matrix of >= 3 items")
    start = (1 - 0.5 / k) / np.diag(np.linalg.inv(r))
    fit = optimize.minimize(_discrepancy, np.clip(start, MIN_UNIQUENESS, 1), args=(r,),
                            jac=_gradient, method="L-BFGS-B",
                            bounds=[(MIN_UNIQUENESS, 1.0)] * k,
                            options={"ftol": 1e-15, "gtol": 1e-12, "maxiter": 1000})
    at_bound = fit.x <= MIN_UNIQUENESS * (1 + 1e-6)
    psi = _polished(fit.x, r, ~at_bound & (fit.x < 1.0))
    # Judged by the projected gradient, not fit.success: L-BFGS-B reports a failed line
    # search once it is at the optimum to machine precision (exactly fitting 3 items).
    gradient = _gradient(psi, r)
    stationary = np.where(at_bound, np.minimum(gradient, 0), gradient)
    return OneFactorModel(loadings=tuple(float(v) for v in _loadings(psi, r)),
                          uniquenesses=tuple(float(v) for v in psi),
                          heywood=bool(np.any(at_bound)),
                          converged=bool(np.max(np.abs(stationary)) < 1e-5))
