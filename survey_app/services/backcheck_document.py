"""The back-check results as a typed document: the API's ``/backchecks`` and the evaluator's
export ``backchecks`` (an XLSX of the same rows).

No personal data: households are named by the campaign's pseudonym (as in the response
exports), never by household code, name, address or phone; workers by their account name;
the answers given on the call are not included, only whether they disagreed.
"""

from __future__ import annotations

import io
from datetime import datetime

from pydantic import NonNegativeInt
from sqlmodel import Session, col, select

from survey_app.models import BackcheckCase, BackcheckTopup, Campaign, Community, Household, User
from survey_app.services import backchecks
from survey_app.services.document_base import DocumentModel, Interval
from survey_app.services.formula_safety import neutralise_row


class BackcheckWorker(DocumentModel):
    """One worker's counts; ``discrepancy`` (discrepant / checked) with its Wilson interval;
    ``flagged`` when the interval's lower bound exceeds the threshold."""

    worker: str
    completed: NonNegativeInt
    drawn: NonNegativeInt
    checked: NonNegativeInt
    discrepant: NonNegativeInt
    backcheck_rate: float | None
    discrepancy: float | None
    discrepancy_ci: Interval | None
    flagged: bool


class BackcheckCaseRow(DocumentModel):
    """A drawn form: ``household`` is the campaign's pseudonym; ``topup_round`` 0 for the
    first draw; ``replaced_in_round`` the top-up that replaced it (unreachable)."""

    household: str
    worker: str
    community: str
    topup_round: NonNegativeInt
    replaced_in_round: int | None
    outcome: str | None
    attempts: NonNegativeInt
    discrepant: bool | None


class BackcheckTopupRow(DocumentModel):
    round_number: int
    replaced: NonNegativeInt
    drawn: NonNegativeInt
    codes_sha256: str
    drawn_at: datetime


class BackcheckDocument(DocumentModel):
    """The campaign's back-check: the draw (seed, share, minimum, SHA-256 of the drawn
    household codes), its top-ups, per-worker results, totals and the cases."""

    campaign: str
    seed: int
    share: float
    min_per_worker: NonNegativeInt
    items: list[str]
    codes_sha256: str
    drawn_at: datetime
    threshold: float
    topups: list[BackcheckTopupRow]
    outcomes: dict[str, int]
    completed: NonNegativeInt
    drawn: NonNegativeInt
    checked: NonNegativeInt
    discrepant: NonNegativeInt
    discrepancy: float | None
    discrepancy_ci: Interval | None
    workers: list[BackcheckWorker]
    cases: list[BackcheckCaseRow]
    convention: str


def _ci(interval) -> tuple[float | None, Interval | None]:
    if interval is None:
        return None, None
    return round(interval.estimate, 4), (round(interval.low, 4), round(interval.high, 4))


def _cases(draw, *, session: Session) -> list[BackcheckCaseRow]:
    rows = session.exec(
        select(BackcheckCase, Household.pseudonym, Community.name, User.username)
        .join(Household, col(Household.id) == BackcheckCase.household_id)
        .join(Community, col(Community.id) == Household.community_id)
        .join(User, col(User.id) == BackcheckCase.worker_id)
        .where(BackcheckCase.draw_id == draw.id)).all()
    return sorted((BackcheckCaseRow(
        household=pseudonym, worker=worker, community=community,
        topup_round=case.topup_round, replaced_in_round=case.replaced_in_round,
        outcome=case.outcome, attempts=case.attempts, discrepant=case.discrepant)
        for case, pseudonym, community, worker in rows), key=lambda r: r.household)


def backcheck_document(campaign: Campaign, *, session: Session) -> BackcheckDocument | None:
    """The document of the campaign's back-check (None: no sample drawn)."""
    results = backchecks.results(campaign, session=session)
    if results is None:
        return None
    draw, s = results.draw, results.summary
    topups = session.exec(select(BackcheckTopup).where(BackcheckTopup.draw_id == draw.id)
                          .order_by(BackcheckTopup.round_number)).all()
    workers = []
    for w in s.workers:
        rate, ci = _ci(w.discrepancy)
        workers.append(BackcheckWorker(
            worker=w.worker, completed=w.completed, drawn=w.drawn, checked=w.checked,
            discrepant=w.discrepant,
            backcheck_rate=None if w.backcheck_rate is None else round(w.backcheck_rate, 4),
            discrepancy=rate, discrepancy_ci=ci, flagged=w.flagged))
    rate, ci = _ci(s.discrepancy)
    return BackcheckDocument(
        campaign=campaign.slug, seed=draw.seed, share=draw.share,
        min_per_worker=draw.min_per_worker, items=list(draw.items),
        codes_sha256=draw.codes_sha256, drawn_at=draw.drawn_at, threshold=s.threshold,
        topups=[BackcheckTopupRow(round_number=t.round_number, replaced=t.replaced,
                                  drawn=t.drawn, codes_sha256=t.codes_sha256,
                                  drawn_at=t.drawn_at) for t in topups],
        outcomes={k or "not_called": v for k, v in sorted(results.outcomes.items())},
        completed=s.completed, drawn=s.drawn, checked=s.checked, discrepant=s.discrepant,
        discrepancy=rate, discrepancy_ci=ci, workers=workers,
        cases=_cases(draw, session=session), convention=s.convention)


OUTCOME_NAMES = {"reached": "已接通", "no_answer": "无人接听", "busy": "占线",
                 "refused": "拒绝回访", "wrong_number": "号码错误", None: "尚未回访"}


def _yes_no(v: bool | None) -> str:
    return "—" if v is None else ("是" if v else "否")


def backcheck_workbook(doc: BackcheckDocument | None) -> bytes:
    """The evaluator's export: sheets 按工作人员 and 回访样本 (pseudonyms only)."""
    from openpyxl import Workbook

    wb = Workbook()
    workers = wb.active
    workers.title = "按工作人员"
    if doc is None:
        workers.append(["尚未抽取电话回访样本"])
    else:
        workers.append([f"随机种子{doc.seed}；抽取比例{doc.share:.0%}，每人至少{doc.min_per_worker}份；"
                        f"样本户号摘要（sha256）{doc.codes_sha256}；补抽{len(doc.topups)}轮"])
        workers.append(["工作人员账号", "完成纸质问卷", "抽取回访", "回访核对", "不一致",
                        "回访率", "不一致率", "95%下限", "95%上限", "是否标记"])
        for w in doc.workers:
            low, high = w.discrepancy_ci or (None, None)
            workers.append(neutralise_row([w.worker, w.completed, w.drawn, w.checked,
                                           w.discrepant, w.backcheck_rate, w.discrepancy,
                                           low, high, _yes_no(w.flagged)]))
        cases = wb.create_sheet("回访样本")
        cases.append(["住户化名", "工作人员账号", "社区", "抽取轮次（0为首次抽样）",
                      "被第几轮补抽替换", "回访结果", "拨打次数", "答案是否不一致"])
        for c in doc.cases:
            cases.append(neutralise_row([c.household, c.worker, c.community, c.topup_round,
                                         c.replaced_in_round, OUTCOME_NAMES.get(c.outcome),
                                         c.attempts, _yes_no(c.discrepant)]))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
