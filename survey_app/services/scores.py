"""The scores document: every number the evaluator sees, computed once by ``analysis``.

The dashboard, the JSON API, the ``survey-app scores`` command, the summary workbook and the
Word report all render :func:`scores_document`, so a number can only differ between them in
formatting.

Counted responses are ``status == "complete"`` and not excluded (paper responses exist only
once verified). Household groups are the strata: N_h is the number of roster households of
group h (within the project/community when that filter is set); pooled values are weighted
N_h/N (METHODS.md section 4). Groups (cells) with fewer than :data:`MIN_CELL` respondents
show counts only.
"""

from __future__ import annotations

import gc
import hashlib
import math
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta, timezone
from operator import itemgetter

import numpy as np
from sqlalchemy import Text, cast, func
from sqlmodel import Session, select

# `analysis` (numpy, scipy, jieba) is imported in the functions that compute: this module
# is imported at start-up (forms, API), and resident and entry requests never need it.
from questionnaires import Questionnaire
from survey_app.models import (
    Answer,
    Campaign,
    Community,
    Household,
    Project,
    QuestionnaireVersion,
    Response,
    ResponseMode,
    ResponseStatus,
)
from survey_app.services.answer_copies import (
    COMMENT_USER_WORDS,
    decode_rating_codes,
    encode_rating_codes,
    rating_item_ids,
)
from survey_app.services.questionnaire_versions import BUILTIN_FOR_GROUP, questionnaire_of

#: Cells (groups, projects, communities) with fewer respondents show counts only.
MIN_CELL = 5
#: Decimals in the document; the dashboard shows no more than these.
RATE_DECIMALS = 4
SCORE_DECIMALS = 2
STAT_DECIMALS = 4
NA_CODE = 9
#: Days are Beijing days (UTC+8) for the date filter and for the report.
BEIJING = timezone(timedelta(hours=8), "UTC+08:00")
WEB_MODES = (ResponseMode.WEB_TOKEN, ResponseMode.WEB_OPEN)
MODE_FILTERS = ("web", ResponseMode.WEB_TOKEN.value, ResponseMode.WEB_OPEN.value,
                ResponseMode.PAPER.value)
GROUP_LABELS = {"relocated": "棚改货币化安置户", "rental_subsidy": "租赁补贴户"}

CONVENTIONS = {
    "counted_responses": "status complete and not excluded by an evaluator",
    "scale": "codes 5 非常满意 .. 1 非常不满意; 9 不清楚 and missing answers excluded from every "
             "denominator and reported as their own share",
    "rate": "satisfaction rate 满意率 = (n5+n4)/N_valid (一般 counts as not satisfied)",
    "score": "satisfaction score 满意度得分 = (100n5+80n4+60n3+40n2+20n1)/N_valid "
             "= 20 + 0.8 x index",
    "index": "linear index = (mean-1)/(5-1) x 100",
    "weighting": "strata = household groups; pooled = sum_h (N_h/N) ybar_h with N_h the roster "
                 "households of group h in the cell (project/community) and ybar_h over the valid "
                 "answers; a group without valid answers to an item drops out of that item's "
                 "weights; N_h is raised to r_h if open-link respondents outnumber the roster",
    "rate_ci": "95% Wilson score interval at Kish's effective sample size "
               "n_eff = (sum w)^2/sum w^2, w_h = N_h/r_h (equals the ordinary Wilson "
               "interval within one household group)",
    "index_ci": "95% normal interval, stratified SE with finite-population correction "
                "sqrt(sum_h (N_h/N)^2 (1-f_h) s_h^2/r_h); "
                "score interval = 20 + 0.8 x index interval",
    "dimension": "dimension index = equal-weight mean of its item indices; dimension rate = "
                 "equal-weight mean of its item rates (analysis.composite_index)",
    "composite": "overall index = equal-weight mean of dimension indices (overall item excluded), "
                 "normal interval from the Taylor-linearised stratified SE with FPC "
                 "(analysis.campaign_statistics)",
    "reliability": "Cronbach alpha over all rating items except the overall item, 9 as missing; "
                   "pairwise (all rows with >= 2 answers) and listwise (complete rows); Feldt CI",
    "drivers": "Spearman correlation of each dimension score with the overall item "
               "(pairwise deletion); IPA crosshair at the means",
    "mode_effects": "web (token + open link) vs paper within each household group: "
                    "Mann-Whitney U with rank-biserial r, chi-square of mode x category "
                    "(sparse categories merged)",
    "comments": "jieba tokens (>= 2 characters, stop words removed), ranked by comments containing "
                "the term",
    "suppression": f"cells with fewer than {MIN_CELL} respondents show counts only",
    "indicator": "campaign indicator settings applied to the overall item's stratified measure; "
                 "P(true >= target) = Phi((actual - target)/SE), SE with FPC",
    "snapshot": "sha256 over the sorted lines 'response_id:payload_hash' of the counted responses",
    "rounding": f"rates {RATE_DECIMALS} decimals, scores and indices {SCORE_DECIMALS} decimals",
}


class ScoresError(ValueError):
    """The scores could not be computed for these filters; the message says why."""


@dataclass(frozen=True)
class ScoreFilters:
    """Which counted responses enter the scores. ``None`` means no restriction."""

    group: str | None = None
    project: str | None = None  # project code
    community: str | None = None  # community code
    mode: str | None = None  # "web", "web_token", "web_open" or "paper"
    date_from: date | None = None  # Beijing day of submission, inclusive
    date_to: date | None = None
    include_excluded: bool = False  # True: the score *without* evaluator exclusions

    def as_dict(self) -> dict:
        out = asdict(self)
        for key in ("date_from", "date_to"):
            out[key] = out[key].isoformat() if out[key] else None
        return out


@dataclass(frozen=True)
class Factor:
    """A column of labels as integers: respondent i has label ``labels[codes[i]]``.

    Masks and strata of 100,000 respondents are then integer comparisons; comparing
    Python strings element by element cost more than the statistics of a cell.
    """

    labels: tuple
    codes: np.ndarray

    @classmethod
    def of(cls, values: Sequence) -> Factor:
        labels = tuple(sorted(set(values), key=lambda v: (v is None, v or "")))
        index = {label: k for k, label in enumerate(labels)}
        return cls(labels, np.fromiter(map(index.__getitem__, values), dtype=np.int64,
                                       count=len(values)))

    @classmethod
    def of_ids(cls, ids: Sequence[int], names: dict[int, str]) -> Factor:
        """Integer ids named by ``names`` (ids without a name get the label None)."""
        distinct, codes = np.unique(np.fromiter(ids, dtype=np.int64, count=len(ids)),
                                    return_inverse=True)
        return cls(tuple(names.get(i) for i in distinct.tolist()), codes.astype(np.int64))

    def mask(self, label) -> np.ndarray:
        """Respondents whose label is ``label``."""
        matching = [k for k, known in enumerate(self.labels) if known == label]
        if len(matching) == 1:
            return self.codes == matching[0]
        return np.isin(self.codes, matching)

    def values(self) -> list:
        """The distinct labels that are not None, sorted."""
        return sorted({label for label in self.labels if label is not None})


@dataclass
class CountedData:
    """Counted responses of one campaign as arrays (one column per respondent)."""

    campaign: Campaign
    questionnaires: dict[str, Questionnaire]
    item_ids: list[str]
    overall_item: str
    dimensions: dict[str, list[str]]  # dimension id -> item ids (overall item excluded)
    labels: dict[str, str]  # item and dimension ids -> Chinese label
    response_ids: list[int] = field(default_factory=list)
    snapshot_lines: list[str] = field(default_factory=list)  # 'response_id:payload_hash'
    groups: list[str] = field(default_factory=list)
    modes: list[str] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)
    # Stored comment -> its stored word tokens (Response.comment_terms), for the themes.
    comment_tokens: dict[str, list[str]] = field(default_factory=dict)
    codes: np.ndarray | None = None  # items x respondents, NaN missing, 9 not applicable
    _factors: dict[str, Factor] = field(default_factory=dict, repr=False)
    _arrays: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    @property
    def valid_answers(self) -> np.ndarray:
        """items x respondents: a code on the scale (neither missing nor not applicable)."""
        if "valid" not in self._arrays:
            self._arrays["valid"] = ~np.isnan(self.codes) & (self.codes != NA_CODE)
        return self._arrays["valid"]

    def factor(self, key: str) -> Factor:
        """``key`` ("groups", "modes", "projects" or "communities") as a Factor (built once;
        projects and communities are built by load_counted from their ids).

        The groups' labels are sorted, so their codes order the strata as
        analysis.campaign_statistics orders its labels: the same strata at a fraction of
        the cost of sorting 100,000 strings for every cell.
        """
        if key not in self._factors:
            self._factors[key] = Factor.of(getattr(self, key))
        return self._factors[key]


def campaign_questionnaires(campaign: Campaign, *, session: Session) -> dict[str, Questionnaire]:
    from survey_app.services.questionnaire_versions import version_for_group

    out = {}
    for group in BUILTIN_FOR_GROUP:
        version = version_for_group(campaign, group, session=session)
        if version is not None:
            out[str(group)] = questionnaire_of(version)
    return out


def questionnaire_layout(questionnaires: dict[str, Questionnaire]):
    """Union of rating items (first questionnaire's order), overall item, dimensions, labels."""
    item_ids: list[str] = []
    dimensions: dict[str, list[str]] = {}
    labels: dict[str, str] = {}
    overall = None
    for q in questionnaires.values():
        for item in q.rating_items():
            if item.id not in item_ids:
                item_ids.append(item.id)
                labels.setdefault(item.id, item.text.zh_CN)
            if item.overall:
                overall = overall or item.id
            else:
                dims = dimensions.setdefault(item.dimension, [])
                if item.id not in dims:
                    dims.append(item.id)
                labels.setdefault("dim:" + item.dimension, q.dimension(item.dimension).label.zh_CN)
    if overall is None:
        raise ScoresError("the campaign has no questionnaire with an overall item")
    return item_ids, overall, dimensions, labels


def _counted_query(campaign: Campaign, filters: ScoreFilters, *, codes: bool = True):
    """The counted responses under ``filters``, ordered by id.

    ``codes=False`` joins Project and Community only when a filter needs them (the scores
    read Household.project_id and community_id and name them afterwards).
    """
    stmt = (select(Response).join(Household, Household.id == Response.household_id,
                                  isouter=True)
            .where(Response.campaign_id == campaign.id,
                   Response.status == ResponseStatus.COMPLETE))
    if codes or filters.project:
        stmt = stmt.join(Project, Project.id == Household.project_id, isouter=True)
    if codes or filters.community:
        stmt = stmt.join(Community, Community.id == Household.community_id, isouter=True)
    if not filters.include_excluded:
        stmt = stmt.where(Response.excluded == False)  # noqa: E712 - SQL expression
    if filters.group:
        stmt = stmt.where(Response.household_group == filters.group)
    if filters.project:
        stmt = stmt.where(Project.code == filters.project)
    if filters.community:
        stmt = stmt.where(Community.code == filters.community)
    if filters.mode == "web":
        stmt = stmt.where(Response.mode.in_([m.value for m in WEB_MODES]))
    elif filters.mode:
        stmt = stmt.where(Response.mode == filters.mode)
    if filters.date_from:
        start = datetime.combine(filters.date_from, datetime.min.time(), BEIJING)
        stmt = stmt.where(Response.submitted_at >= start)
    if filters.date_to:
        end = datetime.combine(filters.date_to + timedelta(days=1), datetime.min.time(), BEIJING)
        stmt = stmt.where(Response.submitted_at < end)
    return stmt.order_by(Response.id)


def load_counted(campaign: Campaign, filters: ScoreFilters | None = None, *,
                 session: Session) -> CountedData:
    """The counted responses matching ``filters`` with their rating codes and comments."""
    filters = filters or ScoreFilters()
    questionnaires = campaign_questionnaires(campaign, session=session)
    if not questionnaires:
        raise ScoresError("the campaign has no questionnaire attached")
    item_ids, overall, dimensions, labels = questionnaire_layout(questionnaires)
    data = CountedData(campaign, questionnaires, item_ids, overall, dimensions, labels)
    stmt = _counted_query(campaign, filters, codes=False)
    with gc_paused():
        columns = _counted_columns(stmt, session=session)
        ids = columns.pop("ids")
        n = ids.size
        data.response_ids = ids.tolist()
        data.snapshot_lines, data.groups, data.modes = (
            columns["lines"], columns["groups"], columns["modes"])
        project_codes = dict(session.exec(select(Project.id, Project.code)
                                          .where(Project.campaign_id == campaign.id)).all())
        community_codes = dict(session.exec(select(Community.id, Community.code)).all())
        data._factors["projects"] = Factor.of_ids(columns["projects"], project_codes)
        data._factors["communities"] = Factor.of_ids(columns["communities"], community_codes)
        version_ids, rating_codes = columns["versions"].tolist(), columns["codes"]
        if "" in rating_codes:
            _rating_codes_from_answers(stmt, item_ids, data.response_ids, version_ids,
                                       rating_codes, session=session)
        data.codes = np.full((len(item_ids), n), np.nan)
        _place_rating_codes(data, version_ids, rating_codes, session=session)
        data.comments = _stored_comments(columns["comments"], questionnaires, stmt, ids,
                                         session=session)
        if columns["comments"] is not None and columns["terms"] is not None:
            # Split once per distinct comment (a repeated comment has the same tokens; one
            # without stored tokens is segmented by the themes).
            stored = dict(zip(columns["comments"], columns["terms"], strict=True))
            stored.pop(_NO_COMMENT, None)
            stored.pop("", None)
            data.comment_tokens = {comment: terms.split() for comment, terms in stored.items()
                                   if terms != _NO_COMMENT}
    return data


#: Separator of the aggregated columns of _counted_columns: no value contains it (integers,
#: hex digests, rating codes, and household groups and modes from fixed vocabularies).
_SEPARATOR = ","
#: Separator of the comments, and the stand-in for a NULL comment: control characters that
#: questionnaires.clean_text removes from every free-text answer.
_TEXT_SEPARATOR, _NO_COMMENT = "\x1f", "\x1e"


def _counted_columns(stmt, *, session: Session) -> dict:
    """The counted responses as columns, in ascending response id order.

    One aggregate row: each column arrives as one string (the values joined by a comma)
    that numpy parses or Python splits in C, instead of 100,000 rows of tuples and Python
    objects (a third of the time on SQLite). All aggregates of one query see the rows in
    the same order, which need not be the id order: the columns are sorted by id here.
    """
    def joined(column):
        return func.aggregate_strings(column, _SEPARATOR)

    row = session.connection().execute(stmt.order_by(None).with_only_columns(
        joined(cast(Response.id, Text)),
        # The snapshot's 'response_id:payload_hash' lines, put together by the database.
        joined(cast(Response.id, Text) + ":" + Response.payload_hash),
        joined(Response.household_group), joined(Response.mode),
        # Projects and communities as ids (0: none, an open-link response), named later.
        joined(cast(func.coalesce(Household.project_id, 0), Text)),
        joined(cast(func.coalesce(Household.community_id, 0), Text)),
        joined(cast(Response.questionnaire_version_id, Text)),
        # '' for a response whose rating_codes is NULL (aggregates skip NULLs).
        joined(func.coalesce(Response.rating_codes, "")),
        func.aggregate_strings(func.coalesce(Response.comment, _NO_COMMENT),
                               _TEXT_SEPARATOR),
        func.aggregate_strings(func.coalesce(Response.comment_terms, _NO_COMMENT),
                               _TEXT_SEPARATOR))).one()
    if row[0] is None:  # no counted response
        empty = np.zeros(0, dtype=np.int64)
        return {"ids": empty, "lines": [], "groups": [], "modes": [], "projects": empty,
                "communities": empty, "versions": empty, "codes": [], "comments": [],
                "terms": []}
    columns = {
        "ids": np.fromstring(row[0], dtype=np.int64, sep=_SEPARATOR),
        "lines": row[1].split(_SEPARATOR), "groups": row[2].split(_SEPARATOR),
        "modes": row[3].split(_SEPARATOR),
        "projects": np.fromstring(row[4], dtype=np.int64, sep=_SEPARATOR),
        "communities": np.fromstring(row[5], dtype=np.int64, sep=_SEPARATOR),
        "versions": np.fromstring(row[6], dtype=np.int64, sep=_SEPARATOR),
        "codes": row[7].split(_SEPARATOR), "comments": row[8].split(_TEXT_SEPARATOR),
        "terms": row[9].split(_TEXT_SEPARATOR)}
    n = columns["ids"].size
    if len(columns["comments"]) != n:  # a comment holding the separator: read them all
        columns["comments"] = None
    if len(columns["terms"]) != n:  # tokens are segmented again where not usable
        columns["terms"] = None
    if any(values is not None and len(values) != n for values in columns.values()):
        raise ScoresError("a household group or mode contains a comma")
    order = np.argsort(columns["ids"], kind="stable")
    if np.any(order != np.arange(n)):
        for key, values in columns.items():
            columns[key] = (values[order] if isinstance(values, np.ndarray)
                            else list(itemgetter(*order.tolist())(values)) if values
                            else values)
    return columns


def _stored_comments(stored: list[str] | None, questionnaires: dict[str, Questionnaire],
                     stmt, ids: np.ndarray, *, session: Session) -> list[str]:
    """Each respondent's comment: Response.comment, or from the answer rows where NULL
    (all of them when ``stored`` is None)."""
    if stored is not None and _NO_COMMENT not in stored:
        return stored
    text_ids = [q.id for qn in questionnaires.values() for q in qn.questions()
                if q.type == "text"]
    if stored is None:
        found = _comments_from_answers(stmt, text_ids, ids, session=session)
        return [found.get(i, "") for i in range(ids.size)]
    found = _comments_from_answers(stmt.where(Response.comment.is_(None)), text_ids, ids,
                                   session=session)
    return [found.get(i, "") if comment == _NO_COMMENT else comment
            for i, comment in enumerate(stored)]


def _comments_from_answers(stmt, text_ids: list[str], ids: np.ndarray, *,
                           session: Session) -> dict[int, str]:
    """Position in ``ids`` -> joined free-text answers, for the respondents of ``stmt``.

    Migration 0005 backfilled Response.comment and every writer sets it, so this should
    never run; if a row was written around the services it still counts correctly.
    """
    if not text_ids:
        return {}
    found: dict[int, str] = {}
    for response_id, text in session.connection().execute(
            stmt.join(Answer, (Answer.response_id == Response.id)
                      & Answer.question_id.in_(text_ids))
            .where(Answer.text.is_not(None), Answer.text != "")
            .with_only_columns(Answer.response_id, Answer.text)
            .order_by(None).order_by(Response.id, Answer.id)):
        i = int(np.searchsorted(ids, response_id))
        found[i] = (found.get(i, "") + " " + text).strip()
    return found


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector (reference counting still frees memory).

    Reading and scoring 100,000 responses allocates millions of tuples, strings and small
    containers, none of them in a reference cycle; the allocation bursts set off full
    collections, each walking every object of the process (~0.2 s with the app loaded,
    several per document). Nested use is harmless: only the outermost one re-enables.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _version_questionnaire(version_id: int, *, session: Session) -> Questionnaire:
    return questionnaire_of(session.get(QuestionnaireVersion, version_id))


def _place_rating_codes(data: CountedData, version_ids: list[int], rating_codes: list[str], *,
                        session: Session) -> None:
    """Decode the strings and put each version's items into the union item rows.

    Versions with the same rating items (the two built-in questionnaires) are decoded
    together: usually one decode of all respondents.
    """
    row_of = {qid: j for j, qid in enumerate(data.item_ids)}
    versions = np.asarray(version_ids, dtype=np.int64)
    layouts: dict[tuple[str, ...], list[int]] = {}
    for version_id in np.unique(versions).tolist():
        own_items = tuple(rating_item_ids(_version_questionnaire(version_id, session=session)))
        layouts.setdefault(own_items, []).append(version_id)
    for own_items, layout_versions in layouts.items():
        kept = [k for k, qid in enumerate(own_items) if qid in row_of]
        rows = [row_of[own_items[k]] for k in kept]
        if len(layouts) == 1:
            data.codes[rows] = decode_rating_codes(rating_codes, len(own_items))[:, kept].T
            continue
        columns = np.flatnonzero(np.isin(versions, layout_versions))
        matrix = decode_rating_codes(itemgetter(*columns.tolist())(rating_codes)
                                     if columns.size > 1 else [rating_codes[columns[0]]],
                                     len(own_items))
        data.codes[np.ix_(rows, columns)] = matrix[:, kept].T


def _rating_codes_from_answers(stmt, item_ids: list[str], ids: list[int],
                               version_ids: list[int], rating_codes: list[str], *,
                               session: Session) -> None:
    """Encode from their answer rows the rating codes read as '' (NULL), in place.

    Migration 0003 backfilled every response and every writer sets the column, so this
    should never run; if a row was written around the services it still counts correctly.
    (A version without rating items also reads as '', and encodes to '' again.)
    """
    missing = select(stmt.where(Response.rating_codes.is_(None)).subquery().c.id)
    values: dict[int, dict[str, str]] = {}
    for response_id, question_id, code in session.connection().execute(
            select(Answer.response_id, Answer.question_id, Answer.code)
            .where(Answer.response_id.in_(missing), Answer.question_id.in_(item_ids))):
        values.setdefault(response_id, {})[question_id] = code
    for i, code in enumerate(rating_codes):
        if not code:
            rating_codes[i] = encode_rating_codes(
                values.get(ids[i], {}), _version_questionnaire(version_ids[i], session=session))


def snapshot_id(lines: Iterable[str]) -> str:
    """sha256 of the sorted 'response_id:payload_hash' lines: names the exact data used."""
    return hashlib.sha256("\n".join(sorted(lines)).encode()).hexdigest()


def populations(campaign: Campaign, *, session: Session, project: str | None = None,
                community: str | None = None) -> dict[str, int]:
    """Roster households per group (N_h), within a project and/or community if given."""
    return roster_counts(campaign, session=session).populations(project=project,
                                                                community=community)


@dataclass(frozen=True)
class RosterCounts:
    """Roster households of a campaign counted by (group, project code, community code)."""

    counts: dict[tuple[str, str | None, str | None], int]

    def populations(self, *, project: str | None = None,
                    community: str | None = None) -> dict[str, int]:
        """N_h per group, within a project and/or community if given."""
        out: dict[str, int] = {}
        for (group, project_code, community_code), count in self.counts.items():
            if (project and project_code != project) or (
                    community and community_code != community):
                continue
            out[group] = out.get(group, 0) + count
        return out


def roster_counts(campaign: Campaign, *, session: Session) -> RosterCounts:
    """The N_h of every cell of the scores document from one grouped query."""
    # Grouped by the ids (index ix_household_cells covers it), then named: grouping by the
    # joined codes made SQLite sort every household row.
    cells = session.exec(
        select(Household.household_group, Household.project_id, Household.community_id,
               func.count())
        .where(Household.campaign_id == campaign.id)
        .group_by(Household.household_group, Household.project_id,
                  Household.community_id)).all()
    project_codes = dict(session.exec(select(Project.id, Project.code)
                                      .where(Project.campaign_id == campaign.id)).all())
    community_codes = dict(session.exec(select(Community.id, Community.code)).all())
    counts: dict[tuple[str, str | None, str | None], int] = {}
    for group, project_id, community_id, n in cells:
        key = (group, project_codes.get(project_id), community_codes.get(community_id))
        counts[key] = counts.get(key, 0) + int(n)
    return RosterCounts(counts)


# ---------------------------------------------------------------- number formatting

def _r(value: float | None, decimals: int) -> float | None:
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) or math.isinf(value) else round(value, decimals)


# ---------------------------------------------------------------- cells

def _item_cell(estimate_rate, estimate_index, summary, respondents: int) -> dict:
    """Measures of one item in one cell from the stratified estimates of analysis."""
    import analysis

    cell = {"respondents": respondents, "n_valid": summary.n_valid, "n_na": summary.n_na,
            "n_missing": summary.n_missing,
            "na_share": _r(summary.na_share, RATE_DECIMALS), "suppressed": False}
    if summary.n_valid == 0 or estimate_rate is None:
        cell.update(rate=None, rate_ci=None, score=None, score_ci=None, index=None,
                    index_ci=None, rate_se=None, index_se=None)
        return cell
    rate = estimate_rate.estimate
    n_eff = estimate_rate.effective_n
    wilson = analysis.wilson_interval(min(rate * n_eff, n_eff), n_eff)
    idx = analysis.interval_from_se(estimate_index.estimate, estimate_index.se)
    cell.update(
        rate=_r(rate, RATE_DECIMALS),
        rate_ci=[_r(wilson.low, RATE_DECIMALS), _r(wilson.high, RATE_DECIMALS)],
        rate_se=_r(estimate_rate.se, STAT_DECIMALS + 2),
        effective_n=_r(n_eff, 2),
        score=_r(20 + 0.8 * estimate_index.estimate, SCORE_DECIMALS),
        score_ci=[_r(20 + 0.8 * idx.low, SCORE_DECIMALS), _r(20 + 0.8 * idx.high,
                                                               SCORE_DECIMALS)],
        index=_r(estimate_index.estimate, SCORE_DECIMALS),
        index_ci=[_r(idx.low, SCORE_DECIMALS), _r(idx.high, SCORE_DECIMALS)],
        index_se=_r(estimate_index.se, STAT_DECIMALS + 2),
    )
    return cell


def _suppressed(respondents: int) -> dict:
    return {"respondents": respondents, "suppressed": True}


def _cell_statistics(data: CountedData, mask: np.ndarray, pops: dict[str, int], *,
                     drivers: bool = False):
    """campaign_statistics over the respondents in ``mask``; None when nothing is computable.

    Items without a valid answer in the cell are left out of the call (a stratified mean
    needs at least one answer); dimensions left without items drop out of the composite.
    Only what the document shows is computed: no bootstrap item intervals (the document
    gives Wilson and normal intervals), no reliability (see _reliability), drivers only
    when asked (the pooled cell).
    """
    import analysis

    everyone = bool(mask.all())  # the pooled cell: no copy of the matrix
    y = data.codes if everyone else data.codes[:, mask]
    groups = data.factor("groups")
    strata = groups.codes if everyone else groups.codes[mask]
    if y.shape[1] == 0:
        return None, []
    present = np.flatnonzero(data.valid_answers.any(axis=1) if everyone
                             else data.valid_answers[:, mask].any(axis=1)).tolist()
    overall_j = data.item_ids.index(data.overall_item)
    if overall_j not in present:
        return None, present
    rows = {j: k for k, j in enumerate(present)}
    dims = {}
    for dim, items in data.dimensions.items():
        kept = [rows[data.item_ids.index(i)] for i in items if data.item_ids.index(i) in rows]
        if kept:
            dims[dim] = kept
    if not dims:
        return None, present
    respondents = np.bincount(strata, minlength=len(groups.labels))
    pop = {k: max(int(pops.get(groups.labels[k], 0)), int(respondents[k]))
           for k in np.flatnonzero(respondents).tolist()}
    campaign = data.campaign
    stats = analysis.campaign_statistics(
        y if len(present) == len(data.item_ids) else y[present], strata, pop, dims,
        rows[overall_j],
        item_names=[data.item_ids[j] for j in present], na_code=NA_CODE,
        target=campaign.indicator_target, points=campaign.indicator_points,
        reliability=False, item_intervals=False, drivers=drivers)
    return stats, present


def _cell_document(data: CountedData, mask: np.ndarray, pops: dict[str, int]) -> dict:
    """Per item, per dimension, overall item and composite index for one cell."""
    return _cell_with_statistics(data, mask, pops)[0]


def _cell_with_statistics(data: CountedData, mask: np.ndarray, pops: dict[str, int], *,
                          drivers: bool = False):
    """The cell's document and the campaign_statistics it came from (None if suppressed)."""
    import analysis

    respondents = int(mask.sum())
    if respondents < MIN_CELL:
        return _suppressed(respondents), None
    stats, present = _cell_statistics(data, mask, pops, drivers=drivers)
    out = {"respondents": respondents, "suppressed": False,
           "population": {g: int(p) for g, p in sorted(pops.items())}, "items": {},
           "dimensions": {}, "composite_index": None}
    by_name = {} if stats is None else {it.name: it for it in stats.items}
    for j, qid in enumerate(data.item_ids):
        it = by_name.get(qid)
        if it is None:
            counts = analysis.category_counts(data.codes[j, mask], na_code=NA_CODE)
            summary = analysis.summary_from_counts(counts.counts, n_na=counts.n_na,
                                                   n_missing=counts.n_missing)
            out["items"][qid] = _item_cell(None, None, summary, respondents)
        else:
            out["items"][qid] = _item_cell(it.rate, it.index, it.summary, respondents)
    if stats is not None:
        for d in stats.composite.dimensions:
            item_cells = [out["items"][stats.items[i].name] for i in d.items]
            rates = [c["rate"] for c in item_cells if c["rate"] is not None]
            entry = {"index": _r(d.index, SCORE_DECIMALS),
                     "rate": _r(sum(stats.items[i].rate.estimate for i in d.items) / len(d.items),
                                RATE_DECIMALS) if rates else None,
                     "items": [stats.items[i].name for i in d.items]}
            if len(d.items) == 1:  # a one-item dimension carries its item's intervals
                entry.update({k: item_cells[0][k] for k in
                              ("rate_ci", "index_ci", "score", "score_ci", "n_valid")})
            out["dimensions"][d.name] = entry
        ci = stats.composite_interval
        out["composite_index"] = {"estimate": _r(stats.composite.overall, SCORE_DECIMALS),
                                  "ci": [_r(ci.low, SCORE_DECIMALS), _r(ci.high, SCORE_DECIMALS)],
                                  "se": _r(stats.composite_se, STAT_DECIMALS + 2)}
    return out, stats


# ---------------------------------------------------------------- the document

def _indicator(campaign: Campaign, overall_rate, overall_index) -> dict | None:
    import analysis

    measure = campaign.indicator_measure or "rate"
    if overall_rate is None:
        return None
    if measure == "rate":
        actual, se = overall_rate.estimate, overall_rate.se
    elif measure == "index":
        actual, se = overall_index.estimate, overall_index.se
    elif measure == "score":
        actual, se = 20 + 0.8 * overall_index.estimate, 0.8 * overall_index.se
    else:
        raise ScoresError(f"unknown indicator measure {measure!r}")
    result = analysis.indicator_score(actual, campaign.indicator_target, campaign.indicator_points,
                                      indicator_rule(campaign), measure=measure, se=se)
    decimals = RATE_DECIMALS if measure == "rate" else SCORE_DECIMALS
    return {"measure": measure, "actual": _r(actual, decimals), "se": _r(se, STAT_DECIMALS + 2),
            "target": result.target, "points": result.points,
            "points_earned": _r(result.points_earned, SCORE_DECIMALS),
            "probability_meets_target": _r(result.probability_meets_target, STAT_DECIMALS),
            "rule": result.rule, "convention": result.convention}


def indicator_rule(campaign: Campaign):
    """The analysis rule object for the campaign's indicator settings."""
    import analysis

    params = campaign.indicator_rule_params or {}
    if campaign.indicator_rule in (None, "", "proportional"):
        return analysis.ProportionalRule()
    if campaign.indicator_rule == "stepwise":
        return analysis.StepwiseRule(
            deduction_per_point=float(params.get("deduction_per_point", 0.5)),
            floor=float(params.get("floor", 0.0)),
            whole_points=bool(params.get("whole_points", False)))
    if campaign.indicator_rule == "bands":
        return analysis.band_rule([(float(t), float(p)) for t, p in params.get("bands", [])])
    raise ScoresError(f"unknown indicator rule {campaign.indicator_rule!r}")


def _reliability(data: CountedData) -> dict | None:
    import analysis

    scale = [j for j, qid in enumerate(data.item_ids) if qid != data.overall_item]
    y = data.codes[scale].T.copy()
    y[y == NA_CODE] = np.nan
    out = {}
    for policy in ("pairwise", "listwise"):
        usable = (~np.isnan(y)).sum(axis=1)
        rows = usable >= 2 if policy == "pairwise" else usable == len(scale)
        if rows.sum() < 3:
            out[policy] = None
            continue
        a = analysis.cronbach_alpha(y, missing=policy)
        out[policy] = {"alpha": _r(a.alpha, STAT_DECIMALS),
                       "standardized_alpha": _r(a.standardized_alpha, STAT_DECIMALS),
                       "ci": [_r(a.ci_low, STAT_DECIMALS), _r(a.ci_high, STAT_DECIMALS)],
                       "n_used": a.n_used, "n_items": a.n_items, "convention": a.convention}
    out["items"] = [data.item_ids[j] for j in scale]
    return out


def _mode_effects(data: CountedData) -> list[dict]:
    import analysis

    modes = np.where(data.factor("modes").mask(ResponseMode.PAPER.value), "paper", "web")
    groups = data.factor("groups")
    out = []
    effects = analysis.item_mode_effects(data.codes, modes, groups.codes, na_code=NA_CODE)
    for qid, item_effects in zip(data.item_ids, effects, strict=True):
        for effect in item_effects:
            row = {"item": qid, "group": groups.labels[effect.stratum], "n_web": effect.n_web,
                   "n_paper": effect.n_paper, "mann_whitney_u": None, "p_value": None,
                   "rank_biserial": None, "chi_square_p": None}
            if effect.n_web < MIN_CELL or effect.n_paper < MIN_CELL:
                row["suppressed"] = True
                out.append(row)
                continue
            row["suppressed"] = False
            if effect.mann_whitney is not None:
                row.update(mann_whitney_u=_r(effect.mann_whitney.u, 2),
                           p_value=_r(effect.mann_whitney.p_value, STAT_DECIMALS),
                           rank_biserial=_r(effect.mann_whitney.rank_biserial, STAT_DECIMALS))
            if effect.chi_square is not None:
                row["chi_square_p"] = _r(effect.chi_square.p_value, STAT_DECIMALS)
            out.append(row)
    return out


def _comments(data: CountedData) -> dict:
    import analysis

    themes = analysis.comment_themes(data.comments, top_n=10, user_words=COMMENT_USER_WORDS,
                                     segmented=data.comment_tokens)
    return {"n_comments": themes.n_comments, "n_empty": themes.n_empty,
            "themes": [{"term": t.term, "comment_count": t.comment_count,
                        "occurrences": t.occurrences, "examples": list(t.examples)}
                       for t in themes.themes]}


def _breakdown(data: CountedData, key: str, names: dict[str, str],
               roster: RosterCounts) -> list[dict]:
    rows = []
    for code in data.factor(key).values():
        pops = (roster.populations(project=code) if key == "projects"
                else roster.populations(community=code))
        cell = _cell_document(data, data.factor(key).mask(code), pops)
        rows.append({"code": code, "label": names.get(code, code), **cell})
    return rows


def scores_document(campaign: Campaign, filters: ScoreFilters | None = None, *,
                    session: Session) -> dict:
    """All scores of ``campaign`` under ``filters`` as one JSON-serialisable dict."""
    with gc_paused():
        return _scores_document(campaign, filters or ScoreFilters(), session=session)


def _scores_document(campaign: Campaign, filters: ScoreFilters, *, session: Session) -> dict:
    data = load_counted(campaign, filters, session=session)
    roster = roster_counts(campaign, session=session)
    pops = roster.populations(project=filters.project, community=filters.community)
    n = len(data.response_ids)
    all_mask = np.ones(n, dtype=bool)
    pooled, stats = _cell_with_statistics(data, all_mask, pops, drivers=True)
    doc = {
        "campaign": {"slug": campaign.slug, "title": campaign.title, "year": campaign.year,
                     "district": campaign.district},
        "filters": filters.as_dict(),
        "snapshot": snapshot_id(data.snapshot_lines),
        "n_respondents": n,
        "conventions": dict(CONVENTIONS),
        "items": [{"id": qid, "label": data.labels[qid],
                   "dimension": _dimension_of(data, qid),
                   "overall": qid == data.overall_item} for qid in data.item_ids],
        "dimensions": [{"id": d, "label": data.labels["dim:" + d], "items": items}
                       for d, items in data.dimensions.items()],
        "overall_item": data.overall_item,
        "strata": [],
        "pooled": pooled,
        "groups": [],
        "projects": [],
        "communities": [],
        "reliability": None, "drivers": [], "ipa": None, "indicator": None,
        "mode_effects": [], "comments": None,
    }
    for g in sorted(set(pops) | set(data.groups)):
        in_group = data.factor("groups").mask(g)
        r = int(in_group.sum())
        doc["strata"].append({"group": g, "label": GROUP_LABELS.get(g, g),
                              "population": int(pops.get(g, 0)), "respondents": r,
                              "design_weight": _r(max(pops.get(g, 0), r) / r, 4) if r else None})
        cell = _cell_document(data, in_group, {g: pops.get(g, 0)})
        doc["groups"].append({"code": g, "label": GROUP_LABELS.get(g, g), **cell})
    doc["projects"] = _breakdown(data, "projects", _project_names(campaign, session), roster)
    doc["communities"] = _breakdown(data, "communities", _community_names(session), roster)
    if n < MIN_CELL:
        return doc
    doc["reliability"] = _reliability(data)
    if stats is not None:
        doc["indicator"] = _indicator_of(campaign, data, stats)
        doc["drivers"] = [
            {"dimension": d.name, "label": data.labels["dim:" + d.name],
             "importance": _r(coef, STAT_DECIMALS), "p_value": _r(p, STAT_DECIMALS),
             "n_used": n_used}
            for d, coef, p, n_used in zip(stats.composite.dimensions,
                                          stats.drivers.coefficients, stats.drivers.p_values,
                                          stats.drivers.n_used, strict=True)]
        doc["ipa"] = {
            "importance_cut": _r(stats.ipa.importance_cut, STAT_DECIMALS),
            "performance_cut": _r(stats.ipa.performance_cut, SCORE_DECIMALS),
            "points": [{"dimension": p.label, "label": data.labels["dim:" + p.label],
                        "importance": _r(p.importance, STAT_DECIMALS),
                        "performance": _r(p.performance, SCORE_DECIMALS),
                        "quadrant": p.quadrant} for p in stats.ipa.points]}
    doc["mode_effects"] = _mode_effects(data)
    doc["comments"] = _comments(data)
    return doc


def _indicator_of(campaign: Campaign, data: CountedData, stats) -> dict:
    overall = next(it for it in stats.items if it.name == data.overall_item)
    return _indicator(campaign, overall.rate, overall.index)


def indicator_document(campaign: Campaign, filters: ScoreFilters | None = None, *,
                       session: Session) -> dict:
    """``n_respondents`` and ``indicator`` of :func:`scores_document`, and nothing else.

    For a figure beside the main document (the dashboard's indicator with the other
    treatment of exclusions): the pooled statistics only, without the breakdowns,
    reliability, drivers, mode effects and comment themes (half of a cold document).
    """
    filters = filters or ScoreFilters()
    with gc_paused():
        data = load_counted(campaign, filters, session=session)
        pops = roster_counts(campaign, session=session).populations(
            project=filters.project, community=filters.community)
        n = len(data.response_ids)
        doc = {"n_respondents": n, "indicator": None}
        if n >= MIN_CELL:
            _pooled, stats = _cell_with_statistics(data, np.ones(n, dtype=bool), pops)
            if stats is not None:
                doc["indicator"] = _indicator_of(campaign, data, stats)
        return doc


def _dimension_of(data: CountedData, qid: str) -> str | None:
    for d, items in data.dimensions.items():
        if qid in items:
            return d
    return None


def _project_names(campaign: Campaign, session: Session) -> dict[str, str]:
    return dict(session.exec(select(Project.code, Project.name)
                             .where(Project.campaign_id == campaign.id)).all())


def _community_names(session: Session) -> dict[str, str]:
    return dict(session.exec(select(Community.code, Community.name)).all())


# ---------------------------------------------------------------- progress

def progress_document(campaign: Campaign, *, session: Session) -> dict:
    """Fieldwork progress: sample, completes by mode, response rates by group and community.

    Response rate = counted responses from sampled households / sampled households (AAPOR
    RR1 with every sampled household taken as eligible); open-link responses are counted
    separately because they have no sample denominator.
    """
    import analysis

    hh = session.exec(
        select(Household.household_group, Community.code, Community.name, Household.sampled,
               Household.disposition, func.count())
        .join(Community, Community.id == Household.community_id)
        .where(Household.campaign_id == campaign.id)
        .group_by(Household.household_group, Community.code, Community.name,
                  Household.sampled, Household.disposition)).all()
    resp = session.exec(
        select(Response.household_group, Community.code, Response.mode, Response.excluded,
               func.count())
        .join(Household, Household.id == Response.household_id, isouter=True)
        .join(Community, Community.id == Household.community_id, isouter=True)
        .where(Response.campaign_id == campaign.id, Response.status == ResponseStatus.COMPLETE)
        .group_by(Response.household_group, Community.code, Response.mode,
                  Response.excluded)).all()
    partial = session.exec(select(func.count()).select_from(Response).where(
        Response.campaign_id == campaign.id, Response.status == ResponseStatus.PARTIAL)).one()

    def _row(code, label):
        return {"code": code, "label": label, "households": 0, "sampled": 0, "refused": 0,
                "completed": 0, "response_rate": None}

    groups: dict[str, dict] = {}
    communities: dict[str, dict] = {}
    for group, ccode, cname, sampled, disposition, count in hh:
        for table, key, label in ((groups, group, GROUP_LABELS.get(group, group)),
                                  (communities, ccode, cname)):
            row = table.setdefault(key, _row(key, label))
            row["households"] += count
            if sampled:
                row["sampled"] += count
                if disposition == "refused":
                    row["refused"] += count
    by_mode: dict[str, int] = {}
    excluded = open_link = 0
    for group, ccode, mode, is_excluded, count in resp:
        if is_excluded:
            excluded += count
            continue
        by_mode[mode] = by_mode.get(mode, 0) + count
        if ccode is None:
            open_link += count
            continue
        groups.setdefault(group, _row(group, GROUP_LABELS.get(group, group)))["completed"] += count
        communities.setdefault(ccode, _row(ccode, ccode))["completed"] += count
    for row in (*groups.values(), *communities.values()):
        if row["sampled"]:
            rates = analysis.aapor_rates(complete=row["completed"],
                                         refusal=row["refused"],
                                         non_contact=max(0, row["sampled"] - row["completed"]
                                                         - row["refused"]))
            row["response_rate"] = _r(rates.rr1, RATE_DECIMALS)
    sampled_total = sum(r["sampled"] for r in groups.values())
    completed_sampled = sum(r["completed"] for r in groups.values())
    return {
        "campaign": {"slug": campaign.slug, "title": campaign.title, "status": campaign.status,
                     "opens_on": campaign.opens_on.isoformat() if campaign.opens_on else None,
                     "closes_on": campaign.closes_on.isoformat() if campaign.closes_on else None},
        "households": sum(r["households"] for r in groups.values()),
        "sampled": sampled_total,
        "completed": sum(by_mode.values()),
        "completed_from_sample": completed_sampled,
        "completed_open_link": open_link,
        "excluded": excluded,
        "partial": int(partial),
        "completed_by_mode": dict(sorted(by_mode.items())),
        "response_rate": _r(completed_sampled / sampled_total, RATE_DECIMALS)
        if sampled_total else None,
        "groups": [groups[k] for k in sorted(groups)],
        "communities": [communities[k] for k in sorted(communities)],
        "convention": "response rate = AAPOR RR1 = completed / sampled (every sampled household "
                      "eligible); refusals from field dispositions; open-link responses have no "
                      "sample denominator and are counted separately; excluded responses "
                      "are not completed",
    }
