"""Taylor-linearised stratified SE of a linear combination of stratified item means.

The composite index (:func:`analysis.campaign.linearised_composite_se`) and each
dimension's index and rate (:func:`dimension_standard_errors`) are linear combinations
Σ_j c_j m_j of stratified item means m_j, each item with its own group weights (a group
without a valid answer to item j drops out of item j's weights). One function computes
their SE (:func:`linearised_se`), with the answers scored by ``values`` (the code 1..5 for
an index, 0/1 for a rate).
"""

from __future__ import annotations

import numpy as np

from analysis.composite import CompositeIndex
from analysis.response_table import ResponseTable

__all__ = ["dimension_standard_errors", "linearised_se"]

_CODE_VALUES = np.arange(1, 6, dtype=float)
_RATE_VALUES = np.array([0.0, 0.0, 0.0, 1.0, 1.0])


def linearised_se(table: ResponseTable, coef: np.ndarray, values: np.ndarray) -> float:
    """SE (with FPC) of Σ_j c_j m_j, m_j the stratified mean of item j's scored answers.

    Parameters
    ----------
    table : ResponseTable
        The counted responses.
    coef : ndarray, shape (items,)
        c_j; items with c_j = 0 are not read.
    values : ndarray, shape (5,)
        The score of the codes 1..5 (codes themselves for a mean; 0,0,0,1,1 for a rate).

    Returns
    -------
    float

    Notes
    -----
    m_j = Σ_{h∈A_j} W_hj m_hj, A_j the strata with a valid answer to item j and
    W_hj = N_h/Σ_{g∈A_j} N_g. Linearised variable of respondent i in stratum h:
    z_i = Σ_j c_j W_hj v_ij (y_ij − m_hj) r_h / V_hj (v_ij valid indicator, V_hj valid
    count, r_h respondents); Var = Σ_h (1 − f_h) s²_h(z)/r_h, f_h = r_h/N_h: the
    linearisation of the ratio estimators m_hj = Ŷ_hj/V̂_hj as R's ``survey`` computes it
    (``tests/analysis/data/composite_se``).

    References
    ----------
    Wolter, K. (2007). Introduction to Variance Estimation, ch. 6 (Taylor series).

    Examples
    --------
    A rate of one item without NA answers: its stratified SE with FPC.

    >>> from analysis.response_table import response_table
    >>> t = response_table([[5, 4, 3, 4, 5, 2]], list("aaabbb"), {"a": 30, "b": 60})
    >>> round(linearised_se(t, np.array([1.0]), _RATE_VALUES), 6)
    0.240883
    >>> from analysis.stratified import stratified_mean
    >>> round(stratified_mean({"a": [1, 1, 0], "b": [1, 1, 0]}, {"a": 30, "b": 60}).se, 6)
    0.240883
    """
    n_strata, h_idx, r_h = table.labels.size, table.stratum, table.respondents
    valid_counts, valid = table.valid_counts, table.valid
    answered = valid_counts > 0
    # W_hj: each item's own group weights (groups without a valid answer get 0).
    item_population = np.where(answered, table.population[None, :], 0.0)
    item_share = item_population / np.maximum(item_population.sum(axis=1, keepdims=True), 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = np.where(answered, item_share * r_h[None, :] / np.maximum(valid_counts, 1),
                         0.0)
        stratum_means = table.counts[..., :5] @ values / valid_counts
    z = np.zeros(table.codes.shape[1])
    for j in np.flatnonzero(coef):
        means_j, scale_j = np.nan_to_num(stratum_means[j]), scale[j]
        if n_strata == 1:  # one stratum (a household-group cell): scalars, no gathers
            means_j, scale_j = means_j[0], scale_j[0]
        else:
            means_j, scale_j = means_j[h_idx], scale_j[h_idx]
        y = values[np.where(valid[j], table.codes[j], 1).astype(np.intp) - 1]
        z += coef[j] * np.where(valid[j], y - means_j, 0.0) * scale_j
    s1 = np.bincount(h_idx, weights=z, minlength=n_strata)
    s2 = np.bincount(h_idx, weights=z * z, minlength=n_strata)
    var_h = np.where(r_h > 1, (s2 - s1**2 / np.maximum(r_h, 1)) / np.maximum(r_h - 1, 1), 0.0)
    variance = np.sum((1 - r_h / table.population) * var_h / np.maximum(r_h, 1))
    return float(variance)**0.5


def dimension_standard_errors(table: ResponseTable,
                              composite: CompositeIndex) -> list[tuple[float, float]]:
    """(index SE, rate SE) of every dimension of ``composite``; NaN for a one-item dimension
    (its item's own SEs are the same and already known).

    Parameters
    ----------
    table : ResponseTable
        The counted responses.
    composite : CompositeIndex
        Dimensions, their item rows and item weights u_j.

    Returns
    -------
    list of (float, float)

    Notes
    -----
    Dimension index = Σ_j u_j I_j = Σ_j 25 u_j m_j + const (m_j mean code); dimension rate
    = Σ_j u_j p_j: both :func:`linearised_se` of their coefficients.

    Examples
    --------
    Two items without NA answers: the dimension rate is the stratified mean of each
    respondent's share of satisfied answers, so its SE is that mean's.

    >>> from analysis.composite import composite_index
    >>> from analysis.response_table import response_table
    >>> from analysis.stratified import stratified_mean
    >>> t = response_table([[5, 4, 3, 4, 5, 2], [4, 2, 3, 5, 5, 1]], list("aaabbb"),
    ...                    {"a": 30, "b": 60})
    >>> c = composite_index([50.0, 50.0], {"d": [0, 1]})
    >>> index_se, rate_se = dimension_standard_errors(t, c)[0]
    >>> round(rate_se, 6)
    0.235047
    >>> round(stratified_mean({"a": [1, .5, 0], "b": [1, 1, 0]}, {"a": 30, "b": 60}).se, 6)
    0.235047
    """
    out = []
    for d in composite.dimensions:
        if len(d.items) < 2:
            out.append((float("nan"), float("nan")))
            continue
        coef = np.zeros(len(table.names))
        for item, u in zip(d.items, d.item_weights, strict=True):
            coef[item] += u
        out.append((linearised_se(table, 25.0 * coef, _CODE_VALUES),
                    linearised_se(table, coef, _RATE_VALUES)))
    return out
