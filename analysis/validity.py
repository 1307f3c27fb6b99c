"""Construct validity as GB/T 19038-2009 annex C asks: per dimension a one-factor model
(standardised loadings, composite reliability CR and average variance extracted AVE),
corrected item-total correlations, and how much of the overall item the dimensions explain
(R² of an OLS regression).

The one-factor model is fitted by maximum likelihood on the correlation matrix of the
dimension's items (Jöreskog's ML factor analysis, as R's ``factanal``;
:mod:`analysis.factor_ml`). ML is scale-free, so
these loadings equal lavaan's ``cfa(..., std.lv = TRUE)`` ``std.all`` loadings (lavaan fits
the covariance matrix by ML; standardising its solution gives the same numbers). Principal
axis factoring would differ from lavaan in the third decimal, so CR and AVE would not match
what an evaluator gets from the usual SEM software.

Missing data: the not-applicable code (default 9) is missing; within a dimension rows with
any missing item are dropped (listwise), so loadings, CR, AVE and item-total correlations of
a dimension come from one set of respondents. Dimension scores (the mean of the dimension's
items, again only for rows complete in that dimension) enter the regression listwise.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from analysis.conventions import validity_convention
from analysis.factor_ml import OneFactorModel, one_factor_ml
from analysis.reliability import corrected_item_totals

__all__ = [
    "DimensionValidity",
    "OneFactorModel",
    "OverallExplained",
    "Validity",
    "average_variance_extracted",
    "composite_reliability",
    "dimension_validity",
    "one_factor_ml",
    "overall_r_squared",
    "construct_validity",
]


@dataclass(frozen=True, slots=True)
class DimensionValidity:
    """Validity figures of one dimension; a figure is None where it is undefined, and
    ``note`` says why."""

    name: str
    items: tuple[str, ...]
    n_used: int
    loadings: tuple[float, ...] | None
    composite_reliability: float | None
    average_variance_extracted: float | None
    corrected_item_total: tuple[float, ...] | None
    note: str | None
    #: The note as a code: no_items, one_item, two_items, too_few_rows, no_variance, singular,
    #: heywood or not_converged (None: every figure defined).
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class OverallExplained:
    """R² of the overall item regressed (OLS, with intercept) on the dimension scores."""

    r_squared: float | None
    adjusted_r_squared: float | None
    n_used: int
    dimensions: tuple[str, ...]
    left_out: tuple[str, ...]
    note: str | None


@dataclass(frozen=True, slots=True)
class Validity:
    """Per-dimension validity, the same over all scale items, and the overall item's R²."""

    dimensions: tuple[DimensionValidity, ...]
    scale: DimensionValidity
    overall: OverallExplained
    convention: str


def composite_reliability(loadings) -> float:
    """Composite (construct) reliability of standardised loadings.

    Parameters
    ----------
    loadings : array_like
        Standardised loadings λ of one factor's items.

    Returns
    -------
    float
        CR = (Σλ)² / ((Σλ)² + Σ(1 − λ²)).

    References
    ----------
    Fornell, C. & Larcker, D. F. (1981). Journal of Marketing Research 18(1), 39-50.

    Examples
    --------
    >>> round(composite_reliability([0.8, 0.7, 0.6]), 4)
    0.7449
    """
    lam = np.asarray(loadings, dtype=float)
    s = lam.sum() ** 2
    return float(s / (s + np.sum(1 - lam**2)))


def average_variance_extracted(loadings) -> float:
    """Average variance extracted: the mean squared standardised loading.

    Parameters
    ----------
    loadings : array_like
        Standardised loadings λ of one factor's k items.

    Returns
    -------
    float
        AVE = Σλ² / k.

    References
    ----------
    Fornell, C. & Larcker, D. F. (1981). Journal of Marketing Research 18(1), 39-50.

    Examples
    --------
    >>> round(average_variance_extracted([0.8, 0.7, 0.6]), 4)
    0.4967
    """
    lam = np.asarray(loadings, dtype=float)
    return float(np.mean(lam**2))


def _complete_rows(data, na_code: float | None) -> tuple[np.ndarray, np.ndarray]:
    """The data as floats (no copy when it already is) and its rows without a gap."""
    x = np.asarray(data, dtype=float)
    if x.ndim != 2:
        raise ValueError("data must be respondents x items")
    missing = np.isnan(x) if na_code is None else np.isnan(x) | (x == na_code)
    return x, ~missing.any(axis=1)


def _undefined(name, items, n_used, reason, note, item_total=None) -> DimensionValidity:
    return DimensionValidity(name=name, items=items, n_used=n_used, loadings=None,
                             composite_reliability=None, average_variance_extracted=None,
                             corrected_item_total=item_total, note=note, reason=reason)


def dimension_validity(data, *, name: str = "", items: Sequence[str] = (),
                       na_code: float | None = 9) -> DimensionValidity:
    """Loadings, CR, AVE and corrected item-total correlations of one dimension.

    Parameters
    ----------
    data : array_like, shape (n_respondents, n_items)
        The dimension's item codes; NaN (or ``na_code``) for missing.
    name : str, optional
        The dimension's id, carried into the result.
    items : sequence of str, optional
        Item ids in column order (default ``item1``, ``item2``, ...).
    na_code : float or None, default 9
        The not-applicable code, treated as missing.

    Returns
    -------
    DimensionValidity
        None for each figure that is undefined, with ``note`` saying why: one item (no CR,
        AVE or item-total), two items (item-total only: a one-factor model of two items is
        not identified), fewer complete rows than items + 1, an item without variance, or a
        singular correlation matrix.

    Notes
    -----
    Rows with any missing item are dropped first (listwise). The loadings come from
    :func:`one_factor_ml` on the complete rows' correlation matrix; the corrected item-total
    correlation of item j is the correlation of j with the sum of the others (as
    ``psych::alpha``'s ``r.drop`` on complete data).

    Examples
    --------
    >>> d = dimension_validity([[5, 4, 4], [4, 4, 3], [3, 2, 3], [2, 2, 1], [4, 5, 4],
    ...                         [3, 3, 2], [9, 4, 4]], name="service")
    >>> d.n_used, round(d.composite_reliability, 3), round(d.average_variance_extracted, 3)
    (6, 0.931, 0.819)
    >>> dimension_validity([[5], [4], [3]]).note
    'one item: CR, AVE and item-total correlations are undefined'
    """
    x, complete = _complete_rows(data, na_code)
    k = x.shape[1]
    items = tuple(items) or tuple(f"item{j + 1}" for j in range(k))
    n = int(complete.sum())
    too_few = _too_few(name, items, n)
    if too_few is not None:
        return too_few
    x = x[complete]
    return _fitted(name, items, n, [np.ptp(x[:, j]) == 0 for j in range(k)],
                   lambda: np.cov(x, rowvar=False))


def _too_few(name, items: tuple[str, ...], n: int) -> DimensionValidity | None:
    """The result when the items or the n complete rows are too few for any figure."""
    k = len(items)
    if k == 0:
        return _undefined(name, items, n, "no_items", "no items")
    if k == 1:
        return _undefined(name, items, n, "one_item",
                          "one item: CR, AVE and item-total correlations are undefined")
    if n < k + 1:
        return _undefined(name, items, n, "too_few_rows",
                          f"{n} complete rows: too few for {k} items")
    return None


def _fitted(name, items: tuple[str, ...], n: int, flat: Sequence[bool],
            covariance) -> DimensionValidity:
    """The figures from the complete rows' covariance matrix (``covariance()``, asked only
    when no item is ``flat``, constant, on those rows): shared with the sums' computation
    (:mod:`analysis.validity_sums`)."""
    k = len(items)
    constant = [item for item, is_flat in zip(items, flat, strict=True) if is_flat]
    if constant:
        return _undefined(name, items, n, "no_variance",
                          "no variance in " + ", ".join(constant))
    cov = covariance()
    item_total = tuple(float(v) for v in corrected_item_totals(cov))
    if k == 2:
        return _undefined(name, items, n, "two_items", "two items: a one-factor model is not "
                          "identified, CR and AVE are undefined", item_total)
    sd = np.sqrt(np.diag(cov))
    r = cov / np.outer(sd, sd)
    if np.linalg.eigvalsh(r)[0] <= 1e-10:
        return _undefined(name, items, n, "singular",
                          "the items' correlation matrix is singular", item_total)
    model = one_factor_ml(r)
    reason, note = None, None
    if model.heywood:
        reason, note = "heywood", "Heywood case: a uniqueness reached its lower bound (0.005)"
    elif not model.converged:
        reason, note = "not_converged", "the maximum-likelihood fit did not converge"
    return DimensionValidity(
        name=name, items=items, n_used=n, loadings=model.loadings,
        composite_reliability=composite_reliability(model.loadings),
        average_variance_extracted=average_variance_extracted(model.loadings),
        corrected_item_total=item_total, note=note, reason=reason)


def overall_r_squared(scores, overall, *, names: Sequence[str] = ()) -> OverallExplained:
    """R² of the overall item regressed on dimension scores by OLS with an intercept.

    Parameters
    ----------
    scores : array_like, shape (n_respondents, n_dimensions)
        Dimension scores, NaN for missing.
    overall : array_like, shape (n_respondents,)
        The overall item's answer, NaN for missing.
    names : sequence of str, optional
        Dimension ids in column order.

    Returns
    -------
    OverallExplained
        R² and adjusted R² (None with a ``note`` when undefined), rows used.

    Notes
    -----
    Rows with any missing value are dropped (listwise, as R's ``lm``). R² = 1 − RSS/TSS,
    computed as c_xyᵀ C_xx⁻¹ c_xy / c_yy from the covariance matrix of the scores and the
    item (the same number); adjusted R² = 1 − (1 − R²)(n − 1)/(n − p − 1). Undefined when
    the overall item has no variance, when n <= p + 1, or when the scores are collinear.

    Examples
    --------
    >>> r = overall_r_squared([[1, 2], [2, 1], [3, 4], [4, 3], [5, 5]], [1, 2, 3, 4, 6])
    >>> round(r.r_squared, 4), r.n_used
    (0.976, 5)
    """
    x = np.asarray(scores, dtype=float)
    if x.ndim == 1:
        x = x[:, None]
    y = np.asarray(overall, dtype=float)
    names = tuple(names) or tuple(f"dimension{j + 1}" for j in range(x.shape[1]))
    ok = ~(np.isnan(x).any(axis=1) | np.isnan(y))
    x, y = x[ok], y[ok]
    # From the covariance matrix (O(n p²) once, then p x p): R² = c_xyᵀ C_xx⁻¹ c_xy / c_yy.
    return _explained(len(y), names, lambda: np.ptp(y) == 0,
                      lambda: np.cov(np.column_stack([x, y]), rowvar=False))


def _explained(n: int, names: tuple[str, ...], y_constant, covariance) -> OverallExplained:
    """R² from the covariance matrix of the scores and the overall item over the n complete
    rows (``covariance()``, asked once the item is known not to be constant,
    ``y_constant()``): shared with :mod:`analysis.validity_sums`."""
    p = len(names)

    def undefined(note: str) -> OverallExplained:
        return OverallExplained(None, None, n, names, (), note)

    if p == 0:
        return undefined("no dimension scores")
    if n <= p + 1:
        return undefined(f"{n} complete rows: too few for {p} dimensions")
    if y_constant():
        return undefined("the overall item has no variance")
    c = covariance()
    sd = np.sqrt(np.diag(c)[:p])
    if np.any(sd == 0) or np.linalg.eigvalsh(c[:p, :p] / np.outer(sd, sd))[0] < 1e-10:
        return undefined("the dimension scores are collinear (or one is constant)")
    r2 = float(c[p, :p] @ np.linalg.solve(c[:p, :p], c[:p, p]) / c[p, p])
    return OverallExplained(r2, 1 - (1 - r2) * (n - 1) / (n - p - 1), n, names, (), None)


def _overall_explained(x: np.ndarray, column: dict[str, int], dims: dict[str, list[str]],
                       overall_item: str, min_answered_share: float) -> OverallExplained:
    """R² on the scores of the dimensions scored for enough respondents."""
    scores = np.empty((len(x), len(dims)), order="F")
    for j, its in enumerate(dims.values()):
        cols = [column[i] for i in its]
        scores[:, j] = x[:, cols[0]] if len(cols) == 1 else x[:, cols].mean(axis=1)
    keep = (~np.isnan(scores)).mean(axis=0) >= min_answered_share
    names = list(dims)
    fit = overall_r_squared(scores[:, keep], x[:, column[overall_item]],
                            names=[d for d, k in zip(names, keep, strict=True) if k])
    left_out = tuple(d for d, k in zip(names, keep, strict=True) if not k)
    return OverallExplained(fit.r_squared, fit.adjusted_r_squared, fit.n_used,
                            fit.dimensions, left_out, fit.note)


def construct_validity(data, items: Sequence[str], dimensions: Mapping[str, Sequence[str]],
                       overall_item: str, *, na_code: float | None = 9,
                       min_answered_share: float = 0.5) -> Validity:
    """Validity of every dimension, of all scale items together, and the overall item's R².

    Parameters
    ----------
    data : array_like, shape (n_respondents, n_items)
        Item codes, NaN (or ``na_code``) for missing.
    items : sequence of str
        Item ids in column order.
    dimensions : mapping of str to sequence of str
        Dimension id -> its item ids (the overall item's dimension is skipped).
    overall_item : str
        The overall-satisfaction item.
    na_code : float or None, default 9
        Not-applicable code, treated as missing.
    min_answered_share : float, default 0.5
        Items (for the all-items model) and dimension scores (for the regression) available
        for fewer than this share of respondents are left out: listwise deletion would
        otherwise keep only the few respondents shown a conditional question.

    Returns
    -------
    Validity

    Examples
    --------
    >>> codes = [[5, 4, 4, 5], [4, 4, 3, 4], [3, 2, 3, 3], [2, 2, 1, 2], [4, 5, 4, 4],
    ...          [3, 3, 2, 3], [5, 5, 5, 9]]
    >>> v = construct_validity(codes, ["a", "b", "c", "all"],
    ...                        {"d1": ["a", "b"], "d2": ["c"], "o": ["all"]}, "all")
    >>> [d.note[:9] for d in v.dimensions], round(v.overall.r_squared, 3)
    (['two items', 'one item:'], 0.907)
    """
    x = np.array(data, dtype=float, order="F")  # contiguous item columns
    if na_code is not None:
        x[x == na_code] = np.nan
    column = {item: j for j, item in enumerate(items)}
    dims = {d: list(its) for d, its in dimensions.items() if overall_item not in its}
    results = tuple(dimension_validity(x[:, [column[i] for i in its]], name=d, items=its,
                                       na_code=None) for d, its in dims.items())
    answered = (~np.isnan(x)).mean(axis=0) >= min_answered_share
    scale = [i for its in dims.values() for i in its if answered[column[i]]]
    scale_result = dimension_validity(x[:, [column[i] for i in scale]], name="all",
                                      items=scale, na_code=None)
    explained = _overall_explained(x, column, dims, overall_item, min_answered_share)
    return Validity(results, scale_result, explained,
                    validity_convention(na_code, min_answered_share))
