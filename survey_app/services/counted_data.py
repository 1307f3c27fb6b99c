"""The counted responses of a campaign as arrays: the read path every score starts from.

:func:`load_counted` is the one way in. Counted responses are ``status == "complete"`` and
not excluded (unless the filters say otherwise; paper responses exist only once verified).
One aggregate query reads the response rows' copies of their answers
(:mod:`survey_app.services.answer_copies`), not the ~15 answer rows per response, and the
columns arrive as one joined string each, parsed by numpy: on 100,000 responses this read
is most of a cold scores document (docs/BENCHMARKS.md).
"""

from __future__ import annotations

import gc
import hashlib
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from operator import itemgetter

import numpy as np
from sqlalchemy import Text, and_, cast, func
from sqlmodel import Session, select

from questionnaires import Questionnaire
from questionnaires.model import RATING_CODES
from survey_app.models import (
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
    NO_ANSWER,
    NOT_APPLICABLE,
    RatingCodesError,
    rating_item_ids,
)
from survey_app.services.questionnaire_versions import BUILTIN_FOR_GROUP, questionnaire_of
from survey_app.services.score_filters import (
    BEIJING,
    NA_CODE,
    WEB_MODES,
    ScoreFilters,
    ScoresError,
)

# Response.rating_codes (written by services.answer_copies): byte -> value of the decoded
# matrix; -1 marks a byte no encoder writes.
_DECODE = np.full(256, -1.0)
_DECODE[[ord(code) for code in RATING_CODES]] = [float(code) for code in RATING_CODES]
_DECODE[ord(NOT_APPLICABLE)] = float(NOT_APPLICABLE)
_DECODE[ord(NO_ANSWER)] = np.nan


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
        # An array as it is (fromiter walked load_counted's arrays element by element).
        ids = (np.asarray(ids, dtype=np.int64) if isinstance(ids, np.ndarray)
               else np.fromiter(ids, dtype=np.int64, count=len(ids)))
        distinct, codes = np.unique(ids, return_inverse=True)
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


#: An open-link answer that identified no roster household (services.open_identity).
UNVERIFIED = and_(Response.mode == ResponseMode.WEB_OPEN, Response.household_id.is_(None))


def counted_query(campaign: Campaign, filters: ScoreFilters, *, codes: bool = True):
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
    if not filters.include_unverified:
        stmt = stmt.where(~UNVERIFIED)
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


def unverified_count(campaign: Campaign, filters: ScoreFilters, *, session: Session) -> int:
    """How many open-link answers that identified no household match ``filters`` otherwise
    (counted in the scores only with ``include_unverified``)."""
    stmt = counted_query(campaign, replace(filters, include_unverified=True), codes=False)
    stmt = (stmt.where(UNVERIFIED).order_by(None)
            .with_only_columns(func.count(Response.id)))
    return int(session.exec(stmt).one())


def snapshot_id(lines: Iterable[str]) -> str:
    """sha256 of the sorted 'response_id:payload_hash' lines: names the exact data used."""
    return hashlib.sha256("\n".join(sorted(lines)).encode()).hexdigest()


def counted_snapshot(campaign: Campaign, filters: ScoreFilters | None = None, *,
                     session: Session) -> str:
    """The :func:`snapshot_id` of the counted responses under ``filters``, read without
    their answers (what an export of those responses anchors in the audit chain)."""
    stmt = counted_query(campaign, filters or ScoreFilters(), codes=False)
    lines = session.connection().execute(stmt.with_only_columns(
        cast(Response.id, Text) + ":" + Response.payload_hash)).scalars().all()
    return snapshot_id(lines)


def load_counted(campaign: Campaign, filters: ScoreFilters | None = None, *,
                 session: Session) -> CountedData:
    """The counted responses matching ``filters`` with their rating codes and comments."""
    filters = filters or ScoreFilters()
    questionnaires = campaign_questionnaires(campaign, session=session)
    if not questionnaires:
        raise ScoresError("the campaign has no questionnaire attached")
    item_ids, overall, dimensions, labels = questionnaire_layout(questionnaires)
    data = CountedData(campaign, questionnaires, item_ids, overall, dimensions, labels)
    stmt = counted_query(campaign, filters, codes=False)
    with gc_paused():
        # On PostgreSQL the projects and communities come from the campaign's households
        # read apart (_household_cells): without a household column in the aggregate the
        # planner drops its join, ~20 % of the aggregate's server time.
        apart = session.get_bind().dialect.name == "postgresql"
        columns = _counted_columns(stmt, session=session, apart=apart)
        if apart and not _household_cells(campaign, columns, session=session):
            columns = _counted_columns(stmt, session=session)  # a household elsewhere
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
        data.codes = np.full((len(item_ids), n), np.nan)
        _place_rating_codes(data, columns["versions"], columns["codes"], session=session)
        if columns["comments"] is None:  # a comment holding the separator: read one by one
            data.comments = list(session.connection().execute(
                stmt.with_only_columns(Response.comment)).scalars())
            return data
        data.comments = columns["comments"]
        if columns["terms"] is not None:
            # Split once per distinct comment (a repeated comment has the same tokens);
            # without usable stored tokens the themes segment the comments.
            stored = dict(zip(columns["comments"], columns["terms"], strict=True))
            stored.pop("", None)
            data.comment_tokens = {comment: terms.split() for comment, terms in stored.items()}
    return data


#: Separator of the aggregated columns of _counted_columns: no value contains it (integers,
#: hex digests, rating codes, and household groups and modes from fixed vocabularies).
_SEPARATOR = ","
#: Separator of the comments: a control character that questionnaires.clean_text removes
#: from every free-text answer.
_TEXT_SEPARATOR = "\x1f"


def _joined_ids(column):
    return func.aggregate_strings(cast(func.coalesce(column, 0), Text), _SEPARATOR)


def _counted_columns(stmt, *, session: Session, apart: bool = False) -> dict:
    """The counted responses as columns, in ascending response id order.

    One aggregate row: each column arrives as one string (the values joined by a comma)
    that numpy parses or Python splits in C, instead of 100,000 rows of tuples and Python
    objects (a third of the time on SQLite). All aggregates of one query see the rows in
    the same order, which need not be the id order: the columns are sorted by id here.
    ``apart``: the households' ids ("households") instead of their projects and
    communities, for :func:`_household_cells`.
    """
    def joined(column):
        return func.aggregate_strings(column, _SEPARATOR)

    # Projects and communities as ids (0: none, an open-link response), named later.
    cells = ({"households": _joined_ids(Response.household_id)} if apart else
             {"projects": _joined_ids(Household.project_id),
              "communities": _joined_ids(Household.community_id)})
    row = session.connection().execute(stmt.order_by(None).with_only_columns(
        joined(cast(Response.id, Text)),
        # The snapshot's 'response_id:payload_hash' lines, put together by the database.
        joined(cast(Response.id, Text) + ":" + Response.payload_hash),
        joined(Response.household_group), joined(Response.mode), *cells.values(),
        joined(cast(Response.questionnaire_version_id, Text)),
        joined(Response.rating_codes),
        func.aggregate_strings(Response.comment, _TEXT_SEPARATOR),
        func.aggregate_strings(Response.comment_terms, _TEXT_SEPARATOR))).one()
    if row[0] is None:  # no counted response
        empty = np.zeros(0, dtype=np.int64)
        return {"ids": empty, "lines": [], "groups": [], "modes": [], "projects": empty,
                "communities": empty, "versions": empty, "codes": [], "comments": [],
                "terms": []}
    k = len(cells)
    columns = {
        "ids": np.fromstring(row[0], dtype=np.int64, sep=_SEPARATOR),
        "lines": row[1].split(_SEPARATOR), "groups": row[2].split(_SEPARATOR),
        "modes": row[3].split(_SEPARATOR),
        **{name: np.fromstring(value, dtype=np.int64, sep=_SEPARATOR)
           for name, value in zip(cells, row[4:4 + k], strict=True)},
        "versions": np.fromstring(row[4 + k], dtype=np.int64, sep=_SEPARATOR),
        "codes": row[5 + k].split(_SEPARATOR),
        "comments": row[6 + k].split(_TEXT_SEPARATOR),
        "terms": row[7 + k].split(_TEXT_SEPARATOR)}
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


def _household_cells(campaign: Campaign, columns: dict, *, session: Session) -> bool:
    """Replace ``columns["households"]`` by the households' "projects" and "communities"
    (ids, 0 for none), read from the campaign's households in one aggregate row; False
    (columns unchanged) when a household is not the campaign's."""
    if "households" not in columns:  # no counted response
        return True
    row = session.connection().execute(
        select(func.aggregate_strings(cast(Household.id, Text), _SEPARATOR),
               _joined_ids(Household.project_id), _joined_ids(Household.community_id))
        .where(Household.campaign_id == campaign.id)).one()
    households = columns["households"]
    if row[0] is None:  # no roster: only open-link responses (no household) may be counted
        if households.any():
            return False
        del columns["households"]
        columns["projects"] = columns["communities"] = np.zeros_like(households)
        return True
    ids, projects, communities = (np.fromstring(v, dtype=np.int64, sep=_SEPARATOR)
                                  for v in row)
    order = np.argsort(ids, kind="stable")
    ids = ids[order]
    at = np.minimum(np.searchsorted(ids, households), ids.size - 1)
    none = households == 0  # an open-link response without a household
    if not np.all(none | (ids[at] == households)):
        return False
    del columns["households"]
    columns["projects"] = np.where(none, 0, projects[order][at])
    columns["communities"] = np.where(none, 0, communities[order][at])
    return True


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


def _place_rating_codes(data: CountedData, version_ids: Sequence[int] | np.ndarray,
                        rating_codes: list[str], *, session: Session) -> None:
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


def decode_rating_codes(strings: Sequence[str], width: int) -> np.ndarray:
    """Stored strings of one questionnaire version as a respondents x items float matrix.

    Scale codes become 1.0..5.0, not applicable 9.0, no answer NaN. Every string must have
    ``width`` characters (the version's number of rating items).
    """
    if not strings:
        return np.empty((0, width))
    if set(map(len, strings)) != {width}:
        raise RatingCodesError(f"rating codes of the wrong length (expected {width})")
    joined = "".join(strings)
    try:
        raw = np.frombuffer(joined.encode("ascii"), dtype=np.uint8)
    except UnicodeEncodeError:
        raise RatingCodesError("rating codes contain non-ASCII characters") from None
    matrix = _DECODE[raw].reshape(len(strings), width)
    if (matrix == -1.0).any():
        raise RatingCodesError("rating codes contain characters no encoder writes")
    return matrix
