"""Paradata and fabrication indicators per worker, for the entry-quality page.

What is read
    Every entry of the campaign's paper forms (``PaperEntry``): who keyed it, when its page
    was shown (``started_at``, signed in the entry form; NULL before migration 0018) and
    when it was saved (``created_at``). A worker's keying pace (median duration, forms per
    hour, :func:`analysis.keying_pace`) counts every entry they typed, first or second.

Whose form is it
    A paper form belongs to the worker who keyed its **first** entry: the worker who
    brought the paper back from the household keys it first; the second, blind entry is a
    colleague's check. Its answers are that first entry's (what the worker typed from their
    paper), so forms still waiting for their second entry or reconciliation count too;
    typing slips, which the second entry catches, are too rare to move these indicators.
    The rating answers are encoded as in ``Response.rating_codes``
    (:func:`services.answer_copies.encode_rating_codes`) with the questionnaire of the
    household's group; a form whose answers no longer fit it (the questionnaire was
    replaced after the entry) is left out and counted in ``forms_left_out``.

Phone interviews
    A worker's interviews (mode ``interview``, issue 22: complete responses they took on their
    phone, ``Response.entered_by_id``) are forms of that worker too, their rating answers read
    from ``Response.rating_codes``: a worker who invents interviews instead of keying invented
    paper is screened the same way. Their timing (``InterviewParadata``) is interview time,
    not keying time, so it stays out of the keying pace (the quality flags' ``too_fast``
    reads it). One caveat more: a worker who only interviews is compared with workers whose
    forms are mostly paper; a mode effect can add to the distance, as a community's can.

The indicators and the test
    :func:`analysis.fabrication_screen` (permutation test over whole forms, Holm-adjusted
    over the workers with at least :data:`MIN_FORMS` forms, flagged below
    :data:`ALPHA`). The shuffles are seeded with the campaign id, so the page shows the
    same p-values on every visit while the data stay the same.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import numpy as np
from sqlmodel import Session, col, select

from survey_app.models import (
    Campaign,
    Household,
    PaperEntry,
    PaperForm,
    Response,
    ResponseMode,
    ResponseStatus,
    User,
    as_utc,
)
from survey_app.services.answer_copies import RatingCodesError, encode_rating_codes
from survey_app.services.counted_data import decode_rating_codes
from survey_app.services.questionnaire_versions import questionnaire_of, version_for_group

if TYPE_CHECKING:  # the statistics stack is imported when the page is computed
    from analysis import FabricationScreen, KeyingPace, WorkerIndicators

ALPHA = 0.01
MIN_FORMS = 10
PERMUTATIONS = 1999


@dataclass(frozen=True)
class WorkerRow:
    """One worker's line of the page (``indicators`` None: they keyed no first entry)."""

    user_id: int
    username: str
    pace: KeyingPace
    first_saved: datetime | None
    last_saved: datetime | None
    indicators: WorkerIndicators | None


@dataclass(frozen=True)
class WorkerScreen:
    rows: tuple[WorkerRow, ...]
    screen: FabricationScreen
    forms: int
    forms_left_out: int
    interviews: int = 0

    @property
    def flagged(self) -> int:
        return sum(1 for row in self.rows if row.indicators and row.indicators.flagged)


@dataclass(frozen=True)
class _Entry:
    form_id: int
    entry_round: int
    worker_id: int
    group: str
    answers: dict
    started: datetime | None
    saved: datetime


def _entries(campaign: Campaign, *, session: Session) -> list[_Entry]:
    rows = session.exec(
        select(PaperEntry, PaperForm.id, Household.household_group)
        .join(PaperForm, PaperForm.id == PaperEntry.paper_form_id)
        .join(Household, Household.id == PaperForm.household_id)
        .where(PaperForm.campaign_id == campaign.id)
        .order_by(PaperEntry.created_at, PaperEntry.id)).all()
    return [_Entry(form_id, entry.entry_round, entry.entered_by_id, group, entry.answers,
                   as_utc(entry.started_at), as_utc(entry.created_at))
            for entry, form_id, group in rows]


def _form_codes(campaign: Campaign, firsts: list[_Entry], *,
                session: Session) -> tuple[np.ndarray, list[int]]:
    """forms x rating items (NaN-padded) and the worker of each row, first entries only."""
    questionnaires = {}
    strings: list[tuple[str, int]] = []
    for entry in firsts:
        if entry.group not in questionnaires:
            version = version_for_group(campaign, entry.group, session=session)
            questionnaires[entry.group] = questionnaire_of(version) if version else None
        questionnaire = questionnaires[entry.group]
        if questionnaire is None:
            continue
        try:
            strings.append((encode_rating_codes(entry.answers, questionnaire), entry.worker_id))
        except RatingCodesError:
            continue
    width = max((len(codes) for codes, _ in strings), default=0)
    matrix = np.full((len(strings), width), np.nan)
    for row, (codes, _) in enumerate(strings):
        matrix[row, :len(codes)] = decode_rating_codes([codes], len(codes))[0]
    return matrix, [worker for _, worker in strings]


def _interview_codes(campaign: Campaign, *, session: Session) -> list[tuple[str, int]]:
    """(rating codes, worker) of each complete phone interview of the campaign."""
    return [(codes, worker) for codes, worker in session.exec(
        select(Response.rating_codes, Response.entered_by_id).where(
            Response.campaign_id == campaign.id, Response.mode == ResponseMode.INTERVIEW,
            Response.status == ResponseStatus.COMPLETE,
            col(Response.entered_by_id).is_not(None))
        .order_by(Response.id)).all()]


def _with_interviews(codes: np.ndarray, workers: list[int],
                     interviews: list[tuple[str, int]]) -> tuple[np.ndarray, list[int]]:
    if not interviews:
        return codes, workers
    width = max(codes.shape[1] if codes.size else 0, *(len(c) for c, _ in interviews))
    matrix = np.full((len(workers) + len(interviews), width), np.nan)
    matrix[:len(workers), :codes.shape[1]] = codes
    for row, (string, _) in enumerate(interviews, start=len(workers)):
        matrix[row, :len(string)] = decode_rating_codes([string], len(string))[0]
    return matrix, [*workers, *(worker for _, worker in interviews)]


def worker_screen(campaign: Campaign, *, session: Session,
                  permutations: int = PERMUTATIONS) -> WorkerScreen:
    """Keying pace and fabrication indicators of every worker who keyed a paper form."""
    from analysis import fabrication_screen, keying_pace

    entries = _entries(campaign, session=session)
    firsts = [entry for entry in entries if entry.entry_round == 1]
    codes, workers = _form_codes(campaign, firsts, session=session)
    paper_forms = len(workers)
    interviews = _interview_codes(campaign, session=session)
    codes, workers = _with_interviews(codes, workers, interviews)
    screen = fabrication_screen(codes, workers, alpha=ALPHA, permutations=permutations,
                                min_forms=MIN_FORMS, seed=campaign.id or 0)
    indicators = {row.worker: row for row in screen.workers}
    by_worker: dict[int, list[_Entry]] = defaultdict(list)
    for entry in entries:
        by_worker[entry.worker_id].append(entry)
    for _, worker in interviews:
        by_worker.setdefault(worker, [])  # interviews only: a row without keying pace
    names = {user.id: user.username for user in session.exec(
        select(User).where(User.id.in_(list(by_worker)))).all()}
    rows = []
    for worker_id, own in by_worker.items():
        pace = keying_pace([e.started.timestamp() if e.started else np.nan for e in own],
                           [e.saved.timestamp() for e in own])
        rows.append(WorkerRow(
            user_id=worker_id, username=names.get(worker_id, str(worker_id)), pace=pace,
            first_saved=min((e.saved for e in own), default=None),
            last_saved=max((e.saved for e in own), default=None),
            indicators=indicators.get(worker_id)))
    rows.sort(key=lambda row: row.username)
    return WorkerScreen(rows=tuple(rows), screen=screen, forms=len(workers),
                        forms_left_out=len(firsts) - paper_forms, interviews=len(interviews))
