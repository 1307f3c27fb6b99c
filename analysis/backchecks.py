"""Back-checks of field workers' paper forms: the seeded draw, the comparison of answers and
the discrepancy rate per worker.

A back-check (电话回访复核) re-contacts a random share of each worker's completed paper
forms and asks a few questions again. A worker whose forms disagree with what the
households say far more often than chance allows may have filled in forms without a visit.

Draw
    Per worker: ``n = min(N, max(minimum, ceil(share × N)))`` of the worker's N completed
    forms, a simple random sample without replacement. The forms are sorted by their key in
    Python (not by a database collation) and ``random.Random(f"{seed}:{worker}").sample``
    picks them: the same seed and the same forms give the same draw on every platform, and
    one worker's draw does not move when another worker's forms change.

Top-up (:func:`backcheck_topup`)
    When drawn households cannot be reached, as many replacements are drawn from the same
    worker's forms not yet drawn (the stratum of the draw), a simple random sample seeded by
    ``f"{seed}:{worker}:top-up {round}"``: the draw's recorded seed and the round number
    reproduce it, and a later round never repeats an earlier one's random stream.

Comparison (:func:`item_discrepant`)
    A *rating* item disagrees when the two answers are two or more scale points apart (one
    step, 满意 vs 一般, is within what people change their minds about); a *single* choice
    or a *number* (e.g. household size) when they differ at all; the back-check question
    *visited* (是否有工作人员上门) when the household says no visit took place. 不清楚 or
    a blank on either side is not compared. A form is discrepant when any compared item
    disagrees; a form with no comparable item is not counted in the rate.

Rate and flag (:func:`backcheck_summary`)
    Per worker the back-check rate (checked forms / completed forms) and the discrepancy
    rate (discrepant / checked forms) with its Wilson interval. A worker is *flagged* when
    the interval's **lower bound** exceeds the threshold (default 10 %): the discrepancies
    are then more than the threshold allows even after sampling error, so a single wrong
    answer among three checks does not brand a worker, but two among three do.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from analysis.intervals import Interval, wilson_interval

__all__ = [
    "BackcheckSummary",
    "WorkerBackcheck",
    "backcheck_draw",
    "backcheck_topup",
    "backcheck_sample_size",
    "backcheck_summary",
    "item_discrepant",
]

#: The back-check-only question 是否有工作人员上门: 1 yes, 2 no, 9 does not remember.
VISITED_NO = "2"
NOT_COMPARED = frozenset({"", "9"})
#: Rating answers this many scale points apart disagree.
RATING_TOLERANCE = 1

CONVENTION = (
    "Back-check: per worker min(N, max(minimum, ceil(share x N))) of N completed paper forms, "
    "seeded simple random sample; a form is discrepant when a rating item differs by two or "
    "more points, a choice or number differs, or the household says nobody visited "
    "('don't know' not compared); discrepancy rate with a Wilson interval; a worker is "
    "flagged when the interval's lower bound exceeds the threshold."
)


def backcheck_sample_size(completed: int, share: float, minimum: int) -> int:
    """How many of a worker's ``completed`` forms are drawn.

    Examples
    --------
    >>> [backcheck_sample_size(n, 0.1, 3) for n in (0, 2, 3, 25, 30, 31, 45)]
    [0, 2, 3, 3, 3, 4, 5]
    """
    if not 0 < share <= 1:
        raise ValueError(f"share must lie in (0, 1], got {share}")
    if minimum < 0 or completed < 0:
        raise ValueError("minimum and completed must not be negative")
    # 0.1 * 30 is 3.0000000000000004 in floating point: round before the ceiling.
    return min(completed, max(minimum, math.ceil(round(share * completed, 9))))


def backcheck_draw(forms: Mapping[str, Sequence[str]], *, seed: int, share: float,
                   minimum: int) -> dict[str, list[str]]:
    """The drawn form keys per worker (each list in key order).

    Parameters
    ----------
    forms : mapping of worker key -> keys of the worker's completed forms
        Keys are strings that do not change (username, household code).
    seed : int
        Recorded with the draw; the same seed and forms give the same draw.
    share, minimum : float, int
        See :func:`backcheck_sample_size`.

    Examples
    --------
    >>> forms = {"w1": [f"H{i:02d}" for i in range(10)], "w2": ["K1", "K2"]}
    >>> draw = backcheck_draw(forms, seed=42, share=0.1, minimum=3)
    >>> [len(draw["w1"]), draw["w2"]]
    [3, ['K1', 'K2']]
    >>> draw == backcheck_draw(forms, seed=42, share=0.1, minimum=3)
    True
    """
    drawn = {}
    for worker, keys in forms.items():
        ordered = sorted(set(keys))
        size = backcheck_sample_size(len(ordered), share, minimum)
        drawn[worker] = sorted(random.Random(f"{seed}:{worker}").sample(ordered, size))
    return drawn


def backcheck_topup(pool: Mapping[str, Sequence[str]], needed: Mapping[str, int], *,
                    seed: int, round_number: int) -> dict[str, list[str]]:
    """Replacements per worker for drawn forms whose households could not be reached.

    Parameters
    ----------
    pool : mapping of worker key -> keys of the worker's completed forms not yet drawn
    needed : mapping of worker key -> how many replacements the worker's stratum needs
        (a worker with more needed than left in the pool gets the whole pool).
    seed : int
        The draw's recorded seed.
    round_number : int
        1 for the first top-up, 2 for the second, ...

    Examples
    --------
    >>> pool = {"w1": [f"H{i:02d}" for i in range(3, 10)], "w2": ["K3"]}
    >>> top = backcheck_topup(pool, {"w1": 2, "w2": 3}, seed=42, round_number=1)
    >>> [len(top["w1"]), top["w2"]]
    [2, ['K3']]
    >>> top == backcheck_topup(pool, {"w1": 2, "w2": 3}, seed=42, round_number=1)
    True
    >>> top == backcheck_topup(pool, {"w1": 2, "w2": 3}, seed=42, round_number=2)
    False
    """
    if round_number < 1:
        raise ValueError(f"round_number must be at least 1, got {round_number}")
    drawn = {}
    for worker, count in needed.items():
        if count < 0:
            raise ValueError(f"needed of {worker!r} must not be negative")
        ordered = sorted(set(pool.get(worker, ())))
        rng = random.Random(f"{seed}:{worker}:top-up {round_number}")
        drawn[worker] = sorted(rng.sample(ordered, min(count, len(ordered))))
    return drawn


def item_discrepant(kind: str, original: str | None, recheck: str | None) -> bool | None:
    """Whether a re-asked item disagrees with the form; None when it cannot be compared.

    ``kind`` is ``rating``, ``single``, ``integer`` or ``visited`` (the back-check-only
    question, which has no original: ``original`` is ignored).

    Examples
    --------
    >>> item_discrepant("rating", "5", "4"), item_discrepant("rating", "5", "3")
    (False, True)
    >>> item_discrepant("rating", "9", "1") is None, item_discrepant("integer", "3", "4")
    (True, True)
    >>> item_discrepant("visited", None, "2"), item_discrepant("visited", None, "1")
    (True, False)
    """
    recheck = (recheck or "").strip()
    if recheck in NOT_COMPARED:
        return None
    if kind == "visited":
        return recheck == VISITED_NO
    original = (original or "").strip()
    if original in NOT_COMPARED:
        return None
    if kind == "rating":
        return abs(int(original) - int(recheck)) > RATING_TOLERANCE
    if kind in ("single", "integer"):
        return original != recheck
    raise ValueError(f"unknown item kind {kind!r}")


@dataclass(frozen=True, slots=True)
class WorkerBackcheck:
    """One worker's back-check: counts, rates and the flag."""

    worker: str
    completed: int  # completed paper forms of the worker
    drawn: int  # of them drawn for a back-check
    checked: int  # back-checks that reached the household and compared an item
    discrepant: int  # of them with a disagreeing item
    backcheck_rate: float | None  # checked / completed
    discrepancy: Interval | None  # discrepant / checked with its Wilson interval
    flagged: bool


@dataclass(frozen=True, slots=True)
class BackcheckSummary:
    workers: tuple[WorkerBackcheck, ...]
    completed: int
    drawn: int
    checked: int
    discrepant: int
    discrepancy: Interval | None  # all workers together
    threshold: float
    convention: str = CONVENTION

    @property
    def flagged(self) -> tuple[WorkerBackcheck, ...]:
        return tuple(w for w in self.workers if w.flagged)


def _rate(k: int, n: int, confidence: float) -> Interval | None:
    return wilson_interval(k, n, confidence) if n else None


def backcheck_summary(counts: Mapping[str, tuple[int, int, int, int]], *,
                      threshold: float = 0.10, confidence: float = 0.95) -> BackcheckSummary:
    """Back-check and discrepancy rates per worker, flagged against ``threshold``.

    Parameters
    ----------
    counts : mapping of worker -> (completed, drawn, checked, discrepant)
    threshold : float, default 0.10
        A worker is flagged when the lower bound of the Wilson interval of their
        discrepancy rate exceeds it.
    confidence : float, default 0.95

    Examples
    --------
    >>> s = backcheck_summary({"w1": (30, 3, 3, 2), "w2": (40, 4, 4, 1)})
    >>> [(w.worker, round(w.discrepancy.estimate, 3), round(w.discrepancy.low, 3), w.flagged)
    ...  for w in s.workers]
    [('w1', 0.667, 0.208, True), ('w2', 0.25, 0.046, False)]
    >>> s.checked, s.discrepant, round(s.workers[0].backcheck_rate, 3)
    (7, 3, 0.1)
    """
    if not 0 <= threshold < 1:
        raise ValueError(f"threshold must lie in [0, 1), got {threshold}")
    workers = []
    for worker, (completed, drawn, checked, discrepant) in counts.items():
        if not 0 <= discrepant <= checked <= drawn <= completed:
            raise ValueError(f"counts of {worker!r} must satisfy "
                             "0 <= discrepant <= checked <= drawn <= completed")
        interval = _rate(discrepant, checked, confidence)
        workers.append(WorkerBackcheck(
            worker=worker, completed=completed, drawn=drawn, checked=checked,
            discrepant=discrepant, backcheck_rate=checked / completed if completed else None,
            discrepancy=interval, flagged=interval is not None and interval.low > threshold))
    totals = [sum(w.completed for w in workers), sum(w.drawn for w in workers),
              sum(w.checked for w in workers), sum(w.discrepant for w in workers)]
    return BackcheckSummary(workers=tuple(workers), completed=totals[0], drawn=totals[1],
                            checked=totals[2], discrepant=totals[3],
                            discrepancy=_rate(totals[3], totals[2], confidence),
                            threshold=threshold)
