"""Web vs paper mode effects within strata: Mann-Whitney U with rank-biserial correlation
and chi-square of the mode x category table, per item and household group.

Answers on a k-point scale are fully described by their category counts, so the mode
effects are computed from the 2 x k table of each item and stratum
(:func:`analysis.comparisons.mann_whitney_counts`, :func:`item_mode_effects`):
O(respondents) counting once, then O(k) per test, instead of ranking every respondent per
item.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from analysis.comparisons import (
    ChiSquareResult,
    MannWhitneyResult,
    chi_square_independence,
    mann_whitney_counts,
)

__all__ = [
    "ModeEffect",
    "item_mode_effects",
    "item_mode_effects_from_counts",
    "mode_effect_from_counts",
    "mode_effects",
]


@dataclass(frozen=True, slots=True)
class ModeEffect:
    stratum: object
    n_web: int
    n_paper: int
    mann_whitney: MannWhitneyResult | None
    chi_square: ChiSquareResult | None


def mode_effects(
    codes,
    modes: Sequence[object],
    strata: Sequence[object] | None = None,
    *,
    na_code: int = 9,
    scale_points: int = 5,
    web: object = "web",
    paper: object = "paper",
    min_expected: float = 5.0,
    small_expected: Literal["fisher", "merge", "flag"] = "merge",
) -> tuple[ModeEffect, ...]:
    """Web vs paper mode effects of one item within each stratum.

    Parameters
    ----------
    codes : array_like
        Answer codes per respondent (1..k, ``na_code``, NaN/None).
    modes : sequence
        Mode label per respondent.
    strata : sequence, optional
        Stratum label per respondent (default: one stratum "all").
    na_code : int, default 9
        Not-applicable code (excluded, as missing).
    scale_points : int, default 5
        Number of scale points k.
    web, paper : object, default "web", "paper"
        Mode labels to compare.
    min_expected : float, default 5.0
        Expected-count threshold of the chi-square test.
    small_expected : {"fisher", "merge", "flag"}, default "merge"
        Small-expected-count rule (see :func:`chi_square_independence`).

    Returns
    -------
    tuple of ModeEffect
        One per stratum (in order of first appearance): Mann-Whitney U (web vs paper) and
        the chi-square test of the mode x category table; ``None`` where a mode has no
        valid answers.

    Notes
    -----
    Comparing within strata keeps a different mode mix across household groups from
    masquerading as a mode effect. Computed from the mode x category counts
    (:func:`item_mode_effects`).

    References
    ----------
    de Leeuw, E. D. (2005). To mix or not to mix data collection modes in surveys.
    Journal of Official Statistics 21(2), 233-255.

    Examples
    --------
    >>> codes = [5, 4, 4, 5, 3, 5, 2, 3, 4, 3, 9, 5]
    >>> modes = ["web"] * 6 + ["paper"] * 6
    >>> e = mode_effects(codes, modes)[0]
    >>> e.n_web, e.n_paper, round(e.mann_whitney.rank_biserial, 2)
    (6, 5, 0.5)
    """
    x = np.array([np.nan if c is None else c for c in codes], dtype=float)
    return item_mode_effects(
        x[None, :], modes, strata, na_code=na_code, scale_points=scale_points, web=web,
        paper=paper, min_expected=min_expected, small_expected=small_expected)[0]


def item_mode_effects(
    codes,
    modes: Sequence[object],
    strata: Sequence[object] | None = None,
    *,
    na_code: int = 9,
    scale_points: int = 5,
    web: object = "web",
    paper: object = "paper",
    min_expected: float = 5.0,
    small_expected: Literal["fisher", "merge", "flag"] = "merge",
) -> tuple[tuple[ModeEffect, ...], ...]:
    """:func:`mode_effects` of every item of a response matrix, counted in one pass.

    Parameters
    ----------
    codes : array_like, shape (n_items, n_respondents)
        Codes 1..k, ``na_code`` or NaN (missing).
    modes, strata, na_code, scale_points, web, paper, min_expected, small_expected
        As :func:`mode_effects`.

    Returns
    -------
    tuple of tuple of ModeEffect
        Per item, one ModeEffect per stratum in order of first appearance.

    Notes
    -----
    One ``bincount`` gives the item x stratum x mode x category table; each test then works
    on its 2 x k slice (:func:`mode_effect_from_counts`).

    Examples
    --------
    >>> codes = [[5, 4, 4, 5, 3, 5, 2, 3, 4, 3, 9, 5],
    ...          [1, 2, 2, 1, 3, 1, 4, 3, 2, 3, 5, 1]]
    >>> modes = ["web"] * 6 + ["paper"] * 6
    >>> [round(e[0].mann_whitney.rank_biserial, 2) for e in item_mode_effects(codes, modes)]
    [0.5, -0.58]
    """
    x = np.asarray(codes, dtype=float)
    if x.ndim != 2:
        raise ValueError("codes must be items x respondents")
    n_items, n = x.shape
    modes_arr = np.asarray(modes)
    if modes_arr.dtype.kind not in "OU":  # compare labels as objects, whatever their type
        modes_arr = modes_arr.astype(object)
    if strata is None:
        labels, h_idx = ["all"], np.zeros(n, dtype=np.intp)
    else:
        labels, h_idx = _first_seen_codes(strata)
    if not (modes_arr.size == n and h_idx.size == n):
        raise ValueError("codes, modes and strata must have the same length")
    answered = ~np.isnan(x) & (x != na_code)
    if np.any(answered & ((x < 1) | (x > scale_points) | (x != np.round(x)))):
        raise ValueError(f"codes must be 1..{scale_points}, the NA code or missing")
    # Slot per answer: 0..k-1 the category, k not compared (NA, missing or another mode).
    mode_idx = np.where(modes_arr == web, 0, np.where(modes_arr == paper, 1, -1))
    compared = answered & (mode_idx >= 0)[None, :]
    slot = np.where(compared, x - 1, scale_points).astype(np.int64)
    width = scale_points + 1
    key = (((np.arange(n_items)[:, None] * len(labels) + h_idx[None, :]) * 2
            + np.maximum(mode_idx, 0)[None, :]) * width + slot)
    table = np.bincount(key.ravel(), minlength=n_items * len(labels) * 2 * width).reshape(
        n_items, len(labels), 2, width)[..., :scale_points]
    return tuple(
        tuple(mode_effect_from_counts(label, table[j, h, 0], table[j, h, 1],
                                      min_expected=min_expected,
                                      small_expected=small_expected)
              for h, label in enumerate(labels))
        for j in range(n_items))


def item_mode_effects_from_counts(
    counts,
    strata: Sequence[object],
    modes: Sequence[object],
    codes: Sequence[int],
    *,
    na_code: int = 9,
    missing_code: int = 0,
    scale_points: int = 5,
    web: object = "web",
    paper: object = "paper",
    min_expected: float = 5.0,
    small_expected: Literal["fisher", "merge", "flag"] = "merge",
) -> tuple[tuple[ModeEffect, ...], ...]:
    """:func:`item_mode_effects` from stored category counts instead of the response matrix.

    Parameters
    ----------
    counts : array_like of int, shape (n_items, n_strata, n_modes, n_codes)
        Respondents per item, stratum, mode and answer code.
    strata : sequence
        Label of each stratum (axis 1), in the order of the result: :func:`item_mode_effects`
        orders them by first appearance and reports every stratum with a respondent.
    modes : sequence
        Mode label of each slice of axis 2; several slices may share a label (their counts
        add up, as several stored modes that are all web).
    codes : sequence of int
        Answer code of each slice of axis 3: 1..k, ``na_code`` or ``missing_code``.
    na_code, missing_code : int, default 9, 0
        Codes left out of the comparison: not applicable, no answer.
    scale_points, web, paper, min_expected, small_expected
        As :func:`item_mode_effects`; modes other than ``web`` and ``paper`` are left out.

    Returns
    -------
    tuple of tuple of ModeEffect
        Per item, one ModeEffect per stratum, equal to :func:`item_mode_effects` on the
        respondents the counts count.

    Notes
    -----
    :func:`item_mode_effects` counts the matrix into the same 2 x k tables before testing
    (:func:`mode_effect_from_counts`), so the results are identical, not merely close.

    Examples
    --------
    The web codes 5, 4, 4, 5, 3, 5 and the paper codes 2, 3, 4, 3, 9, 5 of one item:

    >>> counts = [[[[0, 0, 1, 2, 3, 0], [0, 1, 2, 1, 1, 1]]]]
    >>> e = item_mode_effects_from_counts(counts, ["all"], ["web", "paper"],
    ...                                   [1, 2, 3, 4, 5, 9])[0][0]
    >>> e.n_web, e.n_paper, round(e.mann_whitney.rank_biserial, 2)
    (6, 5, 0.5)
    """
    table = np.asarray(counts)
    if table.ndim != 4:
        raise ValueError("counts must be items x strata x modes x codes")
    if not np.array_equal(table, np.round(table)) or np.any(table < 0):
        raise ValueError("counts must be integers >= 0")
    table = table.astype(np.int64)
    mode_labels = np.asarray(modes, dtype=object)
    code_labels = np.asarray(codes)
    if table.shape[1:] != (len(strata), mode_labels.size, code_labels.size):
        raise ValueError("strata, modes and codes must label the axes of counts")
    used = table.sum(axis=(0, 1, 2)) > 0
    scale = np.arange(1, scale_points + 1)
    known = np.isin(code_labels, scale) | (code_labels == na_code) | (code_labels == missing_code)
    if np.any(used & ~known):
        raise ValueError(f"codes must be 1..{scale_points}, the NA code or the missing code")
    # Column c of ``category`` picks the code slices of scale point c + 1.
    category = (code_labels[:, None] == scale[None, :]).astype(np.int64)
    web_table = table[:, :, mode_labels == web].sum(axis=2) @ category
    paper_table = table[:, :, mode_labels == paper].sum(axis=2) @ category
    return tuple(
        tuple(mode_effect_from_counts(label, web_table[j, h], paper_table[j, h],
                                      min_expected=min_expected,
                                      small_expected=small_expected)
              for h, label in enumerate(strata))
        for j in range(table.shape[0]))


def mode_effect_from_counts(
    stratum: object,
    web_counts,
    paper_counts,
    *,
    min_expected: float = 5.0,
    small_expected: Literal["fisher", "merge", "flag"] = "merge",
) -> ModeEffect:
    """Mode effect of one item in one stratum from the category counts of each mode.

    Parameters
    ----------
    stratum : object
        Label of the stratum (reported as is).
    web_counts, paper_counts : array_like of int, shape (k,)
        Counts of the categories 1..k among the valid web and paper answers.
    min_expected, small_expected
        As :func:`chi_square_independence`.

    Returns
    -------
    ModeEffect
        Mann-Whitney U (:func:`mann_whitney_counts`) and the chi-square test of the 2 x k
        table; ``None`` where a mode has no valid answers (chi-square also when fewer than
        two categories occur).

    Examples
    --------
    The web codes 5, 4, 4, 5, 3, 5 and the paper codes 2, 3, 4, 3, 5 as counts of 1..5:

    >>> e = mode_effect_from_counts("relocated", [0, 0, 1, 2, 3], [0, 1, 2, 1, 1])
    >>> e.n_web, e.n_paper, round(e.mann_whitney.rank_biserial, 2)
    (6, 5, 0.5)
    """
    table = np.vstack([np.asarray(web_counts, dtype=np.int64),
                       np.asarray(paper_counts, dtype=np.int64)])
    n_web, n_paper = int(table[0].sum()), int(table[1].sum())
    mw = chi = None
    if n_web and n_paper:
        mw = mann_whitney_counts(table[0], table[1])
        if np.count_nonzero(table.sum(axis=0)) >= 2:
            chi = chi_square_independence(
                table, min_expected=min_expected, small_expected=small_expected)
    return ModeEffect(stratum, n_web, n_paper, mw, chi)


def _first_seen_codes(labels) -> tuple[list, np.ndarray]:
    """Distinct labels in order of first appearance and each element's index into them."""
    if isinstance(labels, np.ndarray) and labels.dtype.kind in "iub":
        distinct, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
        order = np.argsort(first, kind="stable")
        rank = np.empty_like(order)
        rank[order] = np.arange(order.size)
        return distinct[order].tolist(), rank[inverse]
    values = labels.tolist() if isinstance(labels, np.ndarray) else list(labels)
    distinct = list(dict.fromkeys(values))
    index = {label: k for k, label in enumerate(distinct)}
    return distinct, np.fromiter(map(index.__getitem__, values), dtype=np.intp,
                                 count=len(values))
