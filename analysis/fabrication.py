"""Fabrication indicators per worker: keying pace, identical answer patterns, answer spread,
and how far a worker's answers lie from the other workers' (permutation test).

Paper forms are collected and keyed by community workers, who belong to the agency being
evaluated. Double entry catches typing errors, not invented forms; these indicators point
the evaluator to the workers whose forms deserve a back-check (电话回访). A flag is a reason
to back-check, never proof: a community whose residents really are more satisfied than the
others' gives the same signal.

Indicators of one worker's forms (``codes``: forms x rating items, 1..5 the scale code,
9 不清楚, NaN no answer)
    * **straight-lining share**: forms with at least :data:`MIN_STRAIGHT_ITEMS` scale
      answers, all the same code (不清楚 and blanks ignored), over the worker's forms;
    * **duplicate-pattern share**: forms whose whole row (不清楚 and blanks included) equals
      another form of the same worker, over the worker's forms;
    * **answer variance**: the sample variance (ddof 1) of every scale code (1..5) on the
      worker's forms, pooled over items and forms;
    * **distance**: total variation distance ½ Σ_k |p_k − q_k| between the worker's share
      of each answer code (1..5 and 9) and the other workers' shares (0 = same
      distribution, 1 = no code in common);
    * **chi-square** of the 2 x K table worker vs the rest (codes with no answer anywhere
      left out), with its asymptotic p-value for reference only: the items of one form hang
      together (a satisfied household is satisfied on most items), so that p-value
      treats ~15 correlated answers as 15 independent ones and is too small;
    * **permutation p-value** (the one that flags): whole forms are shuffled between the
      workers (each keeps their number of forms) ``permutations`` times; the p-value is
      (1 + #{shuffles whose chi-square for the worker ≥ the observed one}) / (1 +
      permutations). Shuffling forms, not answers, keeps each form's answers together, so
      the test holds whatever the correlation between items and however small the
      expected counts. Phipson & Smyth (2010) for the +1.

What the test compares
    Each worker is compared with all other workers together, so a fabricator's forms sit
    in every honest worker's comparison group too and make the honest ones look a little
    different (in the simulation of tests/analysis/test_fabrication.py, 10 workers x 40
    forms with one fabricator, 0.4 % of honest workers were flagged and the fabricator in
    every run). Workers usually serve one community each: the test cannot tell a worker's
    invented forms from their community's genuinely different opinions.

Multiple testing
    Every worker with at least ``min_forms`` forms is tested; the p-values are adjusted by
    Holm's step-down method (family-wise error over the workers tested) and a worker is
    flagged when the adjusted p-value is below ``alpha`` (default 0.01). With 10 workers the
    raw p-value must then be below 0.001 for the most extreme worker, so at least 999
    permutations are needed for a flag to be possible at all; the default is 1999.

References
----------
Phipson, B. and Smyth, G. K. (2010). Permutation p-values should never be zero.
Statistical Applications in Genetics and Molecular Biology 9(1), article 39.
Holm, S. (1979). A simple sequentially rejective multiple test procedure. Scandinavian
Journal of Statistics 6(2), 65-70.
Blasius, J. and Thiessen, V. (2015). Should we trust survey data? Assessing response
simplification and data fabrication. Social Science Research 52, 479-493.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

__all__ = [
    "ANSWER_CODES",
    "FabricationScreen",
    "KeyingPace",
    "WorkerIndicators",
    "chi_square_worker_vs_rest",
    "fabrication_screen",
    "holm_adjust",
    "keying_pace",
]

#: The answer codes whose distribution is compared (5-point scale, then 不清楚).
ANSWER_CODES = (1, 2, 3, 4, 5, 9)
MIN_STRAIGHT_ITEMS = 3
_PERMUTATION_CHUNK = 250

CONVENTION = (
    "per worker: straight-lining share (forms with >= 3 scale answers all equal), "
    "duplicate-pattern share (whole rating row equal to another form of the worker), "
    "variance of the worker's 1-5 codes (ddof 1), total variation distance of the code "
    "shares (1-5, 9) from the other workers'; p-value: chi-square of the worker-vs-rest "
    "code table referred to {permutations} shuffles of whole forms between workers "
    "(Phipson-Smyth +1), Holm-adjusted over the {tested} workers with >= {min_forms} "
    "forms; flagged when the adjusted p < {alpha}; a flag is a reason to back-check, "
    "not proof"
)


@dataclass(frozen=True, slots=True)
class WorkerIndicators:
    """The indicators of one worker's forms (see the module docstring).

    ``p_value``, ``adjusted_p_value``, ``chi_square`` and ``chi_square_p_value`` are None
    for a worker with fewer than ``min_forms`` forms (not tested).
    """

    worker: Hashable
    forms: int
    straight_lining_share: float
    duplicate_pattern_share: float
    answer_variance: float
    distance: float
    chi_square: float | None
    chi_square_p_value: float | None
    p_value: float | None
    adjusted_p_value: float | None
    flagged: bool


@dataclass(frozen=True, slots=True)
class FabricationScreen:
    workers: tuple[WorkerIndicators, ...]
    alpha: float
    permutations: int
    min_forms: int
    seed: int
    convention: str

    @property
    def flagged(self) -> tuple[Hashable, ...]:
        return tuple(w.worker for w in self.workers if w.flagged)


@dataclass(frozen=True, slots=True)
class KeyingPace:
    """How fast one worker keyed paper forms.

    ``timed`` entries have a known start; ``median_seconds`` is the median of their
    durations (None without any). ``forms_per_hour`` is entries over the hours of the
    worker's keying sessions (runs of entries where each starts within ``gap_seconds`` of
    the previous one's save; a session lasts from its first start, or first save when the
    start is unknown, to its last save); None when those hours are zero.
    """

    entries: int
    timed: int
    median_seconds: float | None
    forms_per_hour: float | None
    sessions: int
    convention: str


def chi_square_worker_vs_rest(worker_counts, rest_counts) -> tuple[float, int, float]:
    """Pearson chi-square of the 2 x K table (worker's code counts, the rest's counts).

    Codes no one answered are left out. Returns (statistic, degrees of freedom,
    asymptotic p-value).

    Examples
    --------
    scipy's ``chi2_contingency`` docstring table:

    >>> stat, dof, p = chi_square_worker_vs_rest([10, 10, 20], [20, 20, 20])
    >>> round(stat, 12), dof, round(p, 12)
    (2.777777777778, 2, 0.249352208777)
    """
    table = np.array([worker_counts, rest_counts], dtype=float)
    if table.ndim != 2 or (table < 0).any():
        raise ValueError("counts must be two equally long rows of non-negative numbers")
    table = table[:, table.sum(axis=0) > 0]
    dof = table.shape[1] - 1
    if dof < 1 or (table.sum(axis=1) == 0).any():
        return 0.0, max(dof, 0), 1.0
    stat = float(_chi2_vs_rest(table[0], table.sum(axis=0)))
    return stat, dof, float(stats.chi2.sf(stat, dof))


def _chi2_vs_rest(worker_counts: np.ndarray, totals: np.ndarray) -> np.ndarray:
    """Chi-square of worker vs rest for counts of shape (..., K) and column totals (K,).

    With d_k = c_k − n T_k / N the two rows' terms add to d_k² N² / (T_k n (N − n)).
    """
    grand = totals.sum()
    n = worker_counts.sum(axis=-1)
    expected = n[..., None] * totals / grand
    scale = grand**2 / (n * (grand - n))
    return scale * ((worker_counts - expected) ** 2 / totals).sum(axis=-1)


def holm_adjust(p_values) -> np.ndarray:
    """Holm step-down adjusted p-values (same order as given).

    Examples
    --------
    >>> holm_adjust([0.01, 0.04, 0.03]).tolist()
    [0.03, 0.06, 0.06]
    """
    p = np.asarray(p_values, dtype=float)
    m = p.size
    order = np.argsort(p, kind="stable")
    stepped = np.minimum(1.0, (m - np.arange(m)) * p[order])
    adjusted = np.empty(m)
    adjusted[order] = np.maximum.accumulate(stepped)
    return adjusted


def _form_code_counts(codes: np.ndarray) -> np.ndarray:
    """forms x len(ANSWER_CODES): how often each code appears on each form."""
    return np.stack([(codes == code).sum(axis=1) for code in ANSWER_CODES], axis=1)


def _straight_lined(codes: np.ndarray) -> np.ndarray:
    scale = np.where((codes >= 1) & (codes <= 5), codes, np.nan)
    answered = (~np.isnan(scale)).sum(axis=1)
    spread = np.nanmax(np.where(answered[:, None] > 0, scale, 0.0), axis=1) - np.nanmin(
        np.where(answered[:, None] > 0, scale, 0.0), axis=1)
    return (answered >= MIN_STRAIGHT_ITEMS) & (spread == 0)


def _duplicated_rows(codes: np.ndarray) -> np.ndarray:
    """True for each row equal to another row of ``codes`` (NaN equal to NaN)."""
    if len(codes) == 0:
        return np.zeros(0, dtype=bool)
    filled = np.nan_to_num(codes, nan=-1.0)
    _, inverse, counts = np.unique(filled, axis=0, return_inverse=True, return_counts=True)
    return counts[inverse.ravel()] > 1


def _permutation_pvalues(form_counts: np.ndarray, labels: np.ndarray, tested: np.ndarray,
                         observed: np.ndarray, permutations: int,
                         rng: np.random.Generator) -> np.ndarray:
    """(1 + #{shuffles with statistic ≥ observed}) / (1 + permutations) per tested worker."""
    n_workers = int(labels.max()) + 1
    totals = form_counts.sum(axis=0)
    exceed = np.zeros(len(tested))
    done = 0
    while done < permutations:
        size = min(_PERMUTATION_CHUNK, permutations - done)
        shuffled = rng.permuted(np.broadcast_to(labels, (size, labels.size)), axis=1)
        index = (shuffled + n_workers * np.arange(size)[:, None]).ravel()
        counts = np.stack([
            np.bincount(index, weights=np.broadcast_to(column, shuffled.shape).ravel(),
                        minlength=size * n_workers).reshape(size, n_workers)
            for column in form_counts.T], axis=-1)
        statistic = _chi2_vs_rest(counts[:, tested, :], totals)
        # A relative tolerance keeps ties (equal tables) counted despite rounding.
        exceed += (statistic >= observed * (1 - 1e-12)).sum(axis=0)
        done += size
    return (1.0 + exceed) / (1.0 + permutations)


def fabrication_screen(codes, workers: Sequence[Hashable], *, alpha: float = 0.01,
                       permutations: int = 1999, min_forms: int = 10,
                       seed: int = 0) -> FabricationScreen:
    """Indicators and the permutation test of every worker (see the module docstring).

    Parameters
    ----------
    codes : array_like, forms x rating items
        1..5 the scale code, 9 不清楚, NaN no answer (rows of shorter questionnaires padded
        with NaN).
    workers : sequence
        The worker of each form (any hashable label), as many as rows.
    alpha : float
        Flag when the Holm-adjusted p-value is below it.
    permutations : int
        Shuffles of whole forms between workers.
    min_forms : int
        Workers with fewer forms are described but not tested (their forms stay in the
        others' comparison).
    seed : int
        Seed of the shuffles: the same data and seed give the same p-values.

    Returns
    -------
    FabricationScreen
        One :class:`WorkerIndicators` per worker, in order of first appearance.

    Examples
    --------
    Five workers' households answer alike; the sixth worker ticks 4 (满意) on almost
    every item:

    >>> rng = np.random.default_rng(1)
    >>> honest = rng.choice([1, 2, 3, 4, 5], p=[.05, .1, .2, .35, .3], size=(150, 12))
    >>> made_up = rng.choice([3, 4, 5], p=[.1, .8, .1], size=(30, 12))
    >>> screen = fabrication_screen(np.vstack([honest, made_up]),
    ...                             [w for w in "ABCDEF" for _ in range(30)], seed=2)
    >>> screen.flagged
    ('F',)
    >>> [round(w.answer_variance, 2) for w in screen.workers]
    [1.3, 1.17, 1.32, 1.25, 1.27, 0.19]
    """
    matrix = _validated_codes(codes, workers)
    if not 0 < alpha < 1 or permutations < 1 or min_forms < 1:
        raise ValueError("alpha must lie in (0, 1), permutations and min_forms be >= 1")
    position = {name: index for index, name in enumerate(dict.fromkeys(workers))}
    names = list(position)
    labels = np.array([position[w] for w in workers], dtype=int)
    form_counts = _form_code_counts(matrix)
    sizes = np.bincount(labels, minlength=len(names))
    tested = np.flatnonzero(sizes >= min_forms) if len(names) >= 2 else np.zeros(0, int)
    pooled = form_counts.sum(axis=0)
    worker_counts = np.stack([form_counts[labels == w].sum(axis=0) for w in range(len(names))]
                             ) if names else np.zeros((0, len(ANSWER_CODES)))
    tests = _tests(form_counts, labels, tested, worker_counts, pooled, permutations,
                   np.random.default_rng(seed))
    rows = []
    for w, name in enumerate(names):
        mine = labels == w
        chi, chi_p, p, adjusted = tests.get(w, (None, None, None, None))
        rows.append(WorkerIndicators(
            worker=name, forms=int(sizes[w]),
            straight_lining_share=float(_straight_lined(matrix[mine]).mean()),
            duplicate_pattern_share=float(_duplicated_rows(matrix[mine]).mean()),
            answer_variance=_scale_variance(matrix[mine]),
            distance=_distance(worker_counts[w], pooled - worker_counts[w]),
            chi_square=chi, chi_square_p_value=chi_p, p_value=p, adjusted_p_value=adjusted,
            flagged=adjusted is not None and adjusted < alpha))
    return FabricationScreen(
        workers=tuple(rows), alpha=alpha, permutations=permutations, min_forms=min_forms,
        seed=seed, convention=CONVENTION.format(permutations=permutations, tested=len(tested),
                                                min_forms=min_forms, alpha=alpha))


def _validated_codes(codes, workers: Sequence[Hashable]) -> np.ndarray:
    matrix = np.asarray(codes, dtype=float)
    if matrix.ndim != 2:
        raise ValueError("codes must be a forms x items matrix")
    if len(workers) != matrix.shape[0]:
        raise ValueError("one worker per form (row of codes) is needed")
    known = np.isnan(matrix) | np.isin(matrix, ANSWER_CODES)
    if not known.all():
        raise ValueError(f"codes outside {ANSWER_CODES} (NaN for no answer)")
    return matrix


def _tests(form_counts: np.ndarray, labels: np.ndarray, tested: np.ndarray,
           worker_counts: np.ndarray, pooled: np.ndarray, permutations: int,
           rng: np.random.Generator) -> dict[int, tuple[float, float, float, float]]:
    """worker index -> (chi-square, its asymptotic p, permutation p, Holm-adjusted p)."""
    keep = pooled > 0
    tested = np.array([w for w in tested if 0 < worker_counts[w][keep].sum()
                       < pooled[keep].sum()], dtype=int)
    if tested.size == 0 or keep.sum() < 2:
        return {}
    counts, totals = worker_counts[:, keep], pooled[keep]
    observed = _chi2_vs_rest(counts[tested], totals)
    p = _permutation_pvalues(form_counts[:, keep], labels, tested, observed, permutations,
                             rng)
    adjusted = holm_adjust(p)
    dof = int(keep.sum()) - 1
    return {int(w): (float(observed[i]), float(stats.chi2.sf(observed[i], dof)), float(p[i]),
                     float(adjusted[i])) for i, w in enumerate(tested)}


def _scale_variance(codes: np.ndarray) -> float:
    scale = codes[(codes >= 1) & (codes <= 5)]
    return float(np.var(scale, ddof=1)) if scale.size >= 2 else float("nan")


def _distance(worker_counts: np.ndarray, rest_counts: np.ndarray) -> float:
    if worker_counts.sum() == 0 or rest_counts.sum() == 0:
        return float("nan")
    shares = worker_counts / worker_counts.sum()
    others = rest_counts / rest_counts.sum()
    return float(0.5 * np.abs(shares - others).sum())


def keying_pace(started, saved, *, gap_seconds: float = 1800.0) -> KeyingPace:
    """Keying durations and forms per hour of one worker's entries (see :class:`KeyingPace`).

    Parameters
    ----------
    started, saved : array_like of float
        Seconds (any common origin) when each entry's page was opened (NaN: unknown) and
        when it was saved.
    gap_seconds : float
        A pause longer than this starts a new keying session.

    Examples
    --------
    Three forms keyed in one sitting (60, 90 and 120 s), a fourth the next day (30 s):

    >>> pace = keying_pace([0, 70, 170, 86400], [60, 160, 290, 86430])
    >>> pace.median_seconds, pace.sessions, round(pace.forms_per_hour, 2)
    (75.0, 2, 45.0)
    """
    start = np.asarray(started, dtype=float)
    end = np.asarray(saved, dtype=float)
    if start.shape != end.shape or start.ndim != 1 or np.isnan(end).any():
        raise ValueError("started and saved must be equally long; every entry has a save time")
    duration = end - start
    timed = ~np.isnan(duration) & (duration >= 0)
    median = float(np.median(duration[timed])) if timed.any() else None
    order = np.argsort(end, kind="stable")
    begin = np.where(timed, start, end)[order]
    end = end[order]
    new_session = np.ones(end.size, dtype=bool)
    new_session[1:] = begin[1:] - end[:-1] > gap_seconds
    session_id = np.cumsum(new_session) - 1
    sessions = int(new_session.sum())
    hours = 0.0
    if sessions:
        first = np.full(sessions, np.inf)
        np.minimum.at(first, session_id, begin)
        last = np.full(sessions, -np.inf)
        np.maximum.at(last, session_id, end)
        hours = float((last - first).sum()) / 3600.0
    return KeyingPace(
        entries=int(end.size), timed=int(timed.sum()), median_seconds=median,
        forms_per_hour=end.size / hours if hours > 0 else None, sessions=sessions,
        convention=f"median keying duration of entries with a known start; forms per hour "
                   f"over keying sessions split at pauses over {gap_seconds:g} s")
