"""A response matrix counted once: answer categories per item and stratum.

Every statistic of :func:`analysis.campaign_statistics` that depends on the answers only
through their category counts (summaries, stratified rates and indices, bootstrap
intervals) reads the :class:`ResponseTable`; the composite's linearised SE, reliability
and drivers read its respondent-level codes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from analysis.measures import ItemSummary, summary_from_counts

__all__ = ["ResponseTable", "answer_slots", "category_table", "response_table", "stratum_codes"]

#: Slots of an answer: 0..4 the codes 1..5, then not applicable, missing, off the scale.
NA_SLOT, MISSING_SLOT, INVALID_SLOT = 5, 6, 7
N_SLOTS = 7


@dataclass(frozen=True, slots=True)
class ResponseTable:
    """A validated response matrix and its category counts per item and stratum.

    ``codes`` (items × respondents) as given; ``slots`` the same shape, 0..4 for codes
    1..5, 5 not applicable, 6 missing; ``labels`` the sorted distinct strata and
    ``stratum`` each respondent's index into them; ``counts`` (items × strata × 7 slots).
    """

    codes: np.ndarray
    slots: np.ndarray
    names: tuple[str, ...]
    labels: np.ndarray
    stratum: np.ndarray
    population: np.ndarray
    respondents: np.ndarray
    counts: np.ndarray
    valid_counts: np.ndarray  # items × strata: answers on the scale

    @property
    def population_share(self) -> np.ndarray:
        """W_h = N_h / N."""
        return self.population / self.population.sum()

    @property
    def valid(self) -> np.ndarray:
        """items × respondents: an answer on the scale."""
        return self.slots < NA_SLOT

    def item_summaries(self, item: int) -> tuple[ItemSummary, tuple[ItemSummary, ...]]:
        """The item's unweighted summary and its summary in each stratum."""
        per_stratum = self.counts[item]
        total = per_stratum.sum(axis=0)
        return (
            summary_from_counts(total[:5], n_na=int(total[NA_SLOT]),
                                n_missing=int(total[MISSING_SLOT])),
            tuple(summary_from_counts(row[:5], n_na=int(row[NA_SLOT]),
                                      n_missing=int(row[MISSING_SLOT]))
                  for row in per_stratum),
        )


def answer_slots(codes: np.ndarray, na_code: int = 9) -> np.ndarray:
    """Slot of every answer: 0..4 for codes 1..5, 5 the NA code, 6 missing (NaN).

    Parameters
    ----------
    codes : ndarray of float
        Answer codes, any shape.
    na_code : int, default 9
        Not-applicable code.

    Returns
    -------
    ndarray of int8, same shape

    Notes
    -----
    A lookup table over the integer codes lo..hi (its two ends, below and above every valid
    code, are invalid) takes fewer passes over the matrix than comparing it with each rule,
    which mattered at 100,000 respondents × 11 items; codes and slots are held in one byte
    (when the NA code is below 64), an eighth of the memory traffic of int64. Codes neither
    1..5 nor the NA code, or not whole, raise ValueError.

    Examples
    --------
    >>> answer_slots(np.array([5.0, 1.0, 9.0, np.nan])).tolist()
    [4, 0, 5, 6]
    """
    nan = np.isnan(codes)
    lo, hi = min(1, na_code) - 1, max(5, na_code) + 1
    clipped = np.where(nan, lo, codes)
    np.clip(clipped, lo, hi, out=clipped)
    code = clipped.astype(np.int8 if lo >= -64 and hi < 64 else np.int64)
    lookup = np.full(hi - lo + 1, INVALID_SLOT, dtype=np.int8)
    lookup[1 - lo:6 - lo] = np.arange(5)
    lookup[na_code - lo] = NA_SLOT
    slot = lookup[code - lo if lo else code]
    slot[nan] = MISSING_SLOT
    if np.any((slot == INVALID_SLOT) | (code != clipped)):
        raise ValueError("responses contain codes outside 1..5 that are not the NA code")
    return slot


def category_table(slots: np.ndarray, stratum: np.ndarray, n_strata: int) -> np.ndarray:
    """Counts of each answer slot per item and stratum, shape (items, n_strata, 7).

    Parameters
    ----------
    slots : ndarray of int, shape (items, respondents)
        :func:`answer_slots` of the responses.
    stratum : ndarray of int, shape (respondents,)
        Stratum index 0..n_strata-1 of every respondent.
    n_strata : int
        Number of strata.

    Returns
    -------
    ndarray of int64

    Examples
    --------
    >>> category_table(np.array([[4, 4, 5]]), np.array([0, 1, 1]), 2)[0].tolist()
    [[0, 0, 0, 0, 1, 0, 0], [0, 0, 0, 0, 1, 1, 0]]
    """
    n_items = slots.shape[0]
    out = np.empty((n_items, n_strata, N_SLOTS), dtype=np.int64)
    # One bincount per item over (stratum, slot) keys: no items × respondents int64 key
    # matrix (counts are integers, so the counting order changes nothing).
    base = None if n_strata == 1 else np.asarray(stratum, dtype=np.int64) * N_SLOTS
    for j in range(n_items):
        key = slots[j] if base is None else base + slots[j]
        out[j] = np.bincount(key, minlength=n_strata * N_SLOTS).reshape(n_strata, N_SLOTS)
    return out


def stratum_codes(strata) -> tuple[np.ndarray, np.ndarray]:
    """The sorted distinct stratum labels and each respondent's index into them, as
    ``np.unique(strata, return_inverse=True)``.

    Parameters
    ----------
    strata : array_like, shape (n,)
        Stratum label of every respondent.

    Returns
    -------
    (ndarray, ndarray of intp)

    Notes
    -----
    Labels that are already small non-negative integers (the scores' group codes) are
    counted instead of sorted: the same arrays without an O(n log n) sort per cell.

    Examples
    --------
    >>> [a.tolist() for a in stratum_codes(np.array([3, 1, 3]))]
    [[1, 3], [1, 0, 1]]
    >>> [a.tolist() for a in stratum_codes(["b", "a", "b"])]
    [['a', 'b'], [1, 0, 1]]
    """
    labels_arr = np.asarray(strata)
    if (labels_arr.ndim == 1 and labels_arr.dtype.kind in "iu" and labels_arr.size
            and labels_arr.min() >= 0 and labels_arr.max() < 4 * labels_arr.size + 64):
        present = np.bincount(labels_arr) > 0
        lookup = np.cumsum(present, dtype=np.intp) - 1
        return np.flatnonzero(present).astype(labels_arr.dtype), lookup[labels_arr]
    return np.unique(labels_arr, return_inverse=True)


def _strata_of(strata, n: int, population_by_stratum: Mapping[object, float]):
    labels_arr = np.asarray(strata)
    if labels_arr.shape != (n,):
        raise ValueError("one stratum label per respondent is required")
    labels, stratum = stratum_codes(labels_arr)
    missing_labels = [lab for lab in labels.tolist() if lab not in population_by_stratum]
    if missing_labels:
        raise ValueError(f"no population size for strata {missing_labels}")
    population = np.array([float(population_by_stratum[lab]) for lab in labels.tolist()])
    return labels, stratum, population


def response_table(
    responses,
    strata: Sequence[object],
    population_by_stratum: Mapping[object, float],
    *,
    na_code: int = 9,
    item_names: Sequence[str] | None = None,
) -> ResponseTable:
    """Validate a response matrix and count its answers per item, stratum and category.

    Parameters
    ----------
    responses : array_like, shape (n_items, n_respondents)
        Codes 1..5, ``na_code`` or NaN (missing).
    strata : sequence, length n_respondents
        Stratum label of every respondent.
    population_by_stratum : mapping
        Stratum label -> population size N_h.
    na_code : int, default 9
        Not-applicable code.
    item_names : sequence of str, optional
        Default "Q1", "Q2", ...

    Returns
    -------
    ResponseTable

    Notes
    -----
    Raises ValueError for a matrix that is not 2-D, a stratum label per respondent missing,
    a stratum without population size, a code off the scale, or an item without any valid
    answer (named).

    Examples
    --------
    >>> t = response_table([[5, 4, 9], [3, 3, 3]], ["a", "b", "b"], {"a": 10, "b": 20})
    >>> t.valid_counts.tolist(), t.respondents.tolist()
    ([[1, 1], [1, 2]], [1, 2])
    """
    codes = np.asarray(responses, dtype=float)
    if codes.ndim != 2:
        raise ValueError("responses must be items x respondents")
    n_items, n = codes.shape
    labels, stratum, population = _strata_of(strata, n, population_by_stratum)
    names = tuple(f"Q{j + 1}" for j in range(n_items)) if item_names is None \
        else tuple(item_names)
    slots = answer_slots(codes, na_code)
    counts = category_table(slots, stratum, labels.size)
    valid_counts = counts[..., :5].sum(axis=-1)
    empty = [names[j] for j in np.flatnonzero(valid_counts.sum(axis=1) == 0)]
    if empty:
        raise ValueError(f"items without any valid answer: {empty}")
    return ResponseTable(codes, slots, names, labels, stratum, population,
                         np.bincount(stratum, minlength=labels.size), counts, valid_counts)
