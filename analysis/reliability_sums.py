"""Cronbach's alpha of :func:`analysis.cronbach_alpha`, Feldt interval and ``n_used``
included, from stored sums instead of response rows ("counts, not rows", issue 23 item 4).

Pairwise deletion needs the pair sums N, S, P, Q (:func:`analysis.pairwise_sums`) and how
many responses answered how many of the items (``n_used`` is the responses with at least
two answered items). Listwise deletion needs, over the responses complete on every item,
their number, the item sums and the cross-product sums (:class:`CompleteRowSums`). All of
these add up over any partition of the responses, so per-cell sums pool exactly.

For integer codes the sums are integers and the covariance numerator n·Σxy − Σx·Σy is exact
in float64 (below 2⁵³), so the results equal the row computation to rounding.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from analysis.reliability import CronbachAlpha, alpha_with_interval, covariance_from_sums

__all__ = [
    "CompleteRowSums",
    "complete_row_sums",
    "complete_row_sums_from_pairs",
    "listwise_alpha_from_sums",
    "pairwise_alpha_from_sums",
    "responses_with_at_least",
]


@dataclass(frozen=True, slots=True)
class CompleteRowSums:
    """Sums over the responses complete on every one of ``items``: their number ``n``, the
    item sums ``sums`` (k,) and the cross-product sums ``cross`` (k, k; squares on the
    diagonal)."""

    items: tuple[str, ...]
    n: int
    sums: np.ndarray
    cross: np.ndarray

    def select(self, items: Sequence[str]) -> CompleteRowSums:
        """The same rows' sums of ``items`` (a reordering or a subset; a repeated item is
        repeated). The rows stay those complete on all of :attr:`items`."""
        at = [self.items.index(item) for item in items]
        return CompleteRowSums(tuple(items), self.n, self.sums[at],
                               self.cross[np.ix_(at, at)])

    def comoments(self) -> np.ndarray:
        """n·Σx_j x_l − Σx_j Σx_l, that is n(n − 1) times the covariance matrix (exact for
        integer codes)."""
        return self.n * self.cross - np.outer(self.sums, self.sums)

    def covariance(self) -> np.ndarray:
        """The covariance matrix (ddof = 1) of the complete rows, as ``np.cov``.

        Examples
        --------
        >>> s = complete_row_sums([[1, 2], [2, 4], [3, 5], [4, float("nan")]])
        >>> s.n, s.covariance().round(4).tolist()
        (3, [[1.0, 1.5], [1.5, 2.3333]])
        """
        if self.n < 2:
            raise ValueError("a covariance needs at least two complete rows")
        return self.comoments() / (self.n * (self.n - 1))

    def constant(self) -> list[bool]:
        """Per item: the same value on every complete row (its comoment is exactly 0)."""
        return [bool(v == 0) for v in np.diag(self.comoments())]


def complete_row_sums(data, items: Sequence[str] = ()) -> CompleteRowSums:
    """:class:`CompleteRowSums` of response rows (NaN missing; recode 9 first).

    Parameters
    ----------
    data : array_like, shape (n_respondents, n_items)
        Item values, NaN for missing.
    items : sequence of str, optional
        Item ids in column order (default ``item1``, ``item2``, ...).

    Returns
    -------
    CompleteRowSums
        Over the rows without a missing item.

    Examples
    --------
    >>> s = complete_row_sums([[1, 2], [3, 5], [4, float("nan")]], ["a", "b"])
    >>> s.n, s.sums.tolist(), s.cross.tolist()
    (2, [4.0, 7.0], [[10.0, 17.0], [17.0, 29.0]])
    """
    x = np.asarray(data, dtype=float)
    if x.ndim != 2:
        raise ValueError("data must be respondents x items")
    x = x[~np.isnan(x).any(axis=1)]
    items = tuple(items) or tuple(f"item{j + 1}" for j in range(x.shape[1]))
    return CompleteRowSums(items, len(x), x.sum(axis=0), x.T @ x)


def complete_row_sums_from_pairs(items: Sequence[str], n: int,
                                 pairs: Mapping[tuple[str, str], Sequence[float]]
                                 ) -> CompleteRowSums:
    """:class:`CompleteRowSums` from per-pair rows as stored (``ListwiseSum``).

    Parameters
    ----------
    items : sequence of str
        The row set's items, in the order wanted.
    n : int
        Responses complete on every item (the header row's n).
    pairs : mapping of (item_a, item_b) to (sum_a, sum_b, sum_ab)
        One entry per pair item_a <= item_b (an item with itself: sum_ab its sum of
        squares), possibly added up over cells; a missing pair counts zero.

    Returns
    -------
    CompleteRowSums

    Examples
    --------
    >>> s = complete_row_sums_from_pairs(["b", "a"], 2, {("a", "a"): (4, 4, 10),
    ...     ("a", "b"): (4, 7, 17), ("b", "b"): (7, 7, 29)})
    >>> s.sums.tolist(), s.cross.tolist()
    ([7.0, 4.0], [[29.0, 17.0], [17.0, 10.0]])
    """
    k = len(items)
    sums, cross = np.zeros(k), np.zeros((k, k))
    for j, first in enumerate(items):
        sums[j] = pairs.get((first, first), (0, 0, 0))[0]
        for m, second in enumerate(items):
            cross[j, m] = pairs.get(tuple(sorted((first, second))), (0, 0, 0))[2]
    return CompleteRowSums(tuple(items), int(n), sums, cross)


def responses_with_at_least(usable_counts: Mapping[int, int], minimum: int) -> int:
    """Responses with at least ``minimum`` answered items.

    Parameters
    ----------
    usable_counts : mapping of int to int
        Number of answered items -> responses (``ScaleCount`` rows, added over cells).
    minimum : int

    Returns
    -------
    int

    Examples
    --------
    >>> responses_with_at_least({0: 4, 1: 2, 2: 5, 3: 7}, 2)
    12
    """
    return int(sum(n for usable, n in usable_counts.items() if usable >= minimum))


def pairwise_alpha_from_sums(n, s, p, q, usable_counts: Mapping[int, int], *,
                             confidence: float = 0.95) -> CronbachAlpha:
    """:func:`analysis.cronbach_alpha` with ``missing="pairwise"`` from sums.

    Parameters
    ----------
    n, s, p, q : array_like, shape (k, k), k >= 2
        The items' pair sums (:func:`analysis.pairwise_sums`), possibly added over cells.
    usable_counts : mapping of int to int
        Number of answered items (of these k) -> responses, over all responses (those with
        no answered item included: they count towards the "at least two rows" check).
    confidence : float, default 0.95
        Level of the Feldt interval.

    Returns
    -------
    CronbachAlpha
        Equal to the row computation; ``n_used`` = responses with >= 2 answered items.

    Examples
    --------
    >>> from analysis import pairwise_sums
    >>> rows = [[1, 2, 2], [2, 3, 3], [3, 3, 4], [4, 5, 5], [2, 2, 1]]
    >>> a = pairwise_alpha_from_sums(*pairwise_sums(rows), {3: 5})
    >>> round(a.alpha, 3), a.n_used, round(a.ci_low, 3)
    (0.944, 5, 0.717)
    """
    k = np.shape(n)[0]
    _check_counts(usable_counts, k)
    if k < 2 or responses_with_at_least(usable_counts, 0) < 2:
        raise ValueError("data must be respondents x items with at least 2 of each")
    cov, cor = covariance_from_sums(n, s, p, q)
    return alpha_with_interval(cov, cor, responses_with_at_least(usable_counts, 2),
                               missing="pairwise", confidence=confidence)


def listwise_alpha_from_sums(complete: CompleteRowSums, *,
                             confidence: float = 0.95) -> CronbachAlpha:
    """:func:`analysis.cronbach_alpha` with ``missing="listwise"`` from sums.

    Parameters
    ----------
    complete : CompleteRowSums
        Sums over the responses complete on every item (k >= 2).
    confidence : float, default 0.95
        Level of the Feldt interval.

    Returns
    -------
    CronbachAlpha
        Equal to the row computation; ``n_used`` = ``complete.n``.

    Examples
    --------
    >>> rows = [[1, 2, 2], [2, 3, 3], [3, 3, 4], [4, 5, 5], [2, 2, float("nan")]]
    >>> a = listwise_alpha_from_sums(complete_row_sums(rows))
    >>> round(a.alpha, 3), a.n_used
    (0.982, 4)
    """
    if len(complete.items) < 2:
        raise ValueError("data must be respondents x items with at least 2 of each")
    if complete.n < 2:
        raise ValueError("fewer than two complete rows after listwise deletion")
    cov = complete.covariance()
    sd = np.sqrt(np.diag(cov))
    with np.errstate(divide="ignore", invalid="ignore"):
        cor = cov / np.outer(sd, sd)
    return alpha_with_interval(cov, cor, complete.n, missing="listwise",
                               confidence=confidence)


def _check_counts(usable_counts: Mapping[int, int], k: int) -> None:
    if any(not 0 <= usable <= k or n < 0 for usable, n in usable_counts.items()):
        raise ValueError(f"usable counts must be over 0..{k} answered items, non-negative")
