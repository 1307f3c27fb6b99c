"""Response.rating_codes, Response.comment and Response.comment_terms: written by every
path that writes answers, and the scores read from them are the scores read from the answer
rows (and from comments segmented when the scores are computed)."""

from __future__ import annotations

import re
import uuid

import jieba
import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from analysis import is_praise
from questionnaires import load_builtin
from survey_app.models import (
    Answer,
    Campaign,
    Community,
    Household,
    Project,
    QuestionnaireVersion,
    Response,
)
from survey_app.services import campaigns, counted_data, demo, score_sources, scores
from survey_app.services.answer_copies import (
    RatingCodesError,
    encode_rating_codes,
    joined_comment,
)
from survey_app.services.counted_data import decode_rating_codes
from survey_app.services.questionnaire_versions import questionnaire_of, version_for_group
from survey_app.services.score_filters import ScoreFilters
from tests.entry.conftest import UserClient, build_field, typed_answers
from tests.entry.conftest import form_data as entry_form
from tests.public.conftest import RELOCATED_ANSWERS, build_survey_campaign
from tests.public.conftest import form_data as survey_form

RELOCATED = load_builtin("relocated")


def _copies_from_answer_rows(session, response: Response) -> tuple[str, str]:
    """The expected rating codes and comment, spelled out from the answer rows."""
    questionnaire = questionnaire_of(
        session.get(QuestionnaireVersion, response.questionnaire_version_id))
    rows = session.exec(select(Answer.question_id, Answer.code, Answer.text)
                        .where(Answer.response_id == response.id).order_by(Answer.id)).all()
    codes = {qid: code for qid, code, _ in rows}
    expected = ""
    for item in questionnaire.rating_items():
        code = codes.get(item.id)
        expected += "-" if not code else "9" if code == questionnaire.scale.na_code else code
    texts = [text.strip() for _, _, text in rows if text and text.strip()]
    return expected, " ".join(texts)


def _tokens_spelled_out(comment: str) -> str:
    # jieba's precise mode, punctuation and white space dropped (the domain words are in
    # jieba's dictionary once anything was stored).
    return " ".join(t for t in jieba.lcut(comment) if re.search("[\u4e00-\u9fffA-Za-z0-9]", t))


def _assert_agrees_with_answers(session, responses) -> None:
    session.expire_all()
    assert responses
    for response in responses:
        session.refresh(response)
        assert (response.rating_codes, response.comment) == \
            _copies_from_answer_rows(session, response), response.id
        assert response.comment_terms == _tokens_spelled_out(response.comment), response.id


# --- the encoding -----------------------------------------------------------------------

def test_encoding_of_answers_not_applicable_and_skipped_items():
    values = dict(RELOCATED_ANSWERS, has_complained="2")
    del values["complaint_handling"]  # hidden by skip logic
    codes = encode_rating_codes(values, RELOCATED)
    assert [item.id for item in RELOCATED.rating_items()][6] == "information_disclosure"
    assert codes == "4345459" + "4" + "-" + "4"
    assert_array_equal(decode_rating_codes([codes, "-" * 10], 10),
                       [[4, 3, 4, 5, 4, 5, 9, 4, np.nan, 4], [np.nan] * 10])


def test_an_answer_outside_the_scale_is_refused():
    with pytest.raises(RatingCodesError, match="policy_publicity"):
        encode_rating_codes({"policy_publicity": "7"}, RELOCATED)


def test_comment_is_the_stripped_free_text():
    assert joined_comment(dict(RELOCATED_ANSWERS, comments="\u3000希望加快进度 "),
                          RELOCATED) == "希望加快进度"
    assert joined_comment(dict(RELOCATED_ANSWERS, comments=""), RELOCATED) == ""
    assert joined_comment({"age_band": "2"}, RELOCATED) == ""


@pytest.mark.parametrize("stored", [["4345459-4"], ["4345459-44", "4345459-4"],
                                    ["4345459x44"], ["434545é-44"]])
def test_malformed_stored_codes_are_refused(stored):
    with pytest.raises(RatingCodesError):
        decode_rating_codes(stored, 10)


# --- every writer of answers ------------------------------------------------------------

def test_web_submission_and_draft(client, session):
    survey = build_survey_campaign(session)
    token = survey.token(index=0)
    assert client.post(f"/s/{token}", data=survey_form(
        RELOCATED_ANSWERS, str(uuid.uuid4()))).status_code == 302
    # A draft (most items unanswered), then the same form completed with other answers.
    other = survey.token(index=1)
    client.post(f"/s/{other}", data={"instance_id": str(uuid.uuid4()), "save": "暂存",
                                     "a_benefit_standard": "2", "a_staff_attitude": "9"})
    [draft] = session.exec(select(Response).where(Response.status == "partial")).all()
    assert (draft.rating_codes, draft.comment) == ("-2---9----", "")
    _assert_agrees_with_answers(session, [draft])
    instance = re.search(r'name="instance_id" type="hidden" value="([^"]+)"',
                         client.get(f"/s/{other}").get_data(as_text=True)).group(1)
    completed = dict(RELOCATED_ANSWERS, has_complained="2", overall_satisfaction="5")
    del completed["complaint_handling"]
    assert client.post(f"/s/{other}", data=survey_form(completed, instance)).status_code == 302
    responses = session.exec(select(Response).order_by(Response.id)).all()
    assert [r.status for r in responses] == ["complete", "complete"]
    assert responses[1].id == draft.id and responses[1].rating_codes == "43454594-5"
    assert responses[0].comment == "希望加快进度"
    assert responses[0].comment_terms.replace(" ", "") == "希望加快进度"
    _assert_agrees_with_answers(session, responses)


def test_paper_double_entry_and_response_edit(app, session):
    world = build_field(session, double_entry=True, count_a=2)
    first, second = UserClient(app, world.worker_a), UserClient(app, world.worker_a2)
    for seed, household in enumerate(world.households_a):
        version = version_for_group(world.campaign, household.household_group, session=session)
        typed = typed_answers(questionnaire_of(version), seed=seed)
        url = f"/entry/{world.campaign.slug}/households/{household.id}/enter"
        assert first.post(url, data=entry_form(typed)).status_code == 302
        assert second.post(url, data=entry_form(typed)).status_code == 302
    responses = session.exec(select(Response).where(
        Response.campaign_id == world.campaign.id).order_by(Response.id)).all()
    assert len(responses) == 2 and {r.mode for r in responses} == {"paper"}
    _assert_agrees_with_answers(session, responses)

    edited = responses[0]
    version = session.get(QuestionnaireVersion, edited.questionnaire_version_id)
    typed = typed_answers(questionnaire_of(version), seed=0)
    changed = "1" if typed["overall_satisfaction"] != "1" else "2"
    before = edited.rating_codes
    admin = UserClient(app, world.admin)
    assert admin.post(f"/entry/{world.campaign.slug}/responses/{edited.id}/edit",
                      data={**entry_form({**typed, "overall_satisfaction": changed}),
                            "reason": "typo on the paper"}).status_code == 302
    _assert_agrees_with_answers(session, [edited])
    assert edited.rating_codes == before[:-1] + changed


@pytest.mark.demo_data
def test_demo_responses(session):
    responses = session.exec(select(Response)).all()
    assert len(responses) > 300
    _assert_agrees_with_answers(session, responses)
    assert any("9" in r.rating_codes for r in responses)
    assert any("-" in r.rating_codes for r in responses)
    assert any(r.comment for r in responses) and any(not r.comment for r in responses)


# --- the scores read from rating_codes ----------------------------------------------------

def _from_answer_table(data: counted_data.CountedData, *, session) -> tuple[np.ndarray, list]:
    """The reference reader: the rating answer rows placed into the items x respondents
    matrix and the text answers joined per respondent, as load_counted read them before
    rating_codes and comment existed."""
    row_of = {qid: j for j, qid in enumerate(data.item_ids)}
    column_of = {rid: i for i, rid in enumerate(data.response_ids)}
    codes = np.full((len(data.item_ids), len(data.response_ids)), np.nan)
    comments = [""] * len(data.response_ids)
    for response_id, question_id, code, text in session.exec(
            select(Answer.response_id, Answer.question_id, Answer.code, Answer.text)
            .order_by(Answer.response_id, Answer.id)).all():
        i = column_of.get(response_id)
        if i is None:
            continue
        if question_id in row_of and code:
            codes[row_of[question_id], i] = float(code)
        if question_id == "comments" and text:
            comments[i] = (comments[i] + " " + text).strip()
    return codes, comments


@pytest.mark.demo_data
def test_scores_from_rating_codes_equal_scores_from_answer_rows(session, monkeypatch):
    campaign = campaigns.get_campaign(demo.SLUG, session=session)
    filters = [ScoreFilters(), ScoreFilters(mode="paper"),
               ScoreFilters(group="relocated", include_excluded=True)]
    from_codes = [scores.scores_document(campaign, f, session=session) for f in filters]
    data = counted_data.load_counted(campaign, session=session)
    assert data.codes.shape[1] > 300
    codes, comments = _from_answer_table(data, session=session)
    assert_array_equal(data.codes, codes)
    assert data.comments == comments and any(comments)

    load_counted = counted_data.load_counted

    def from_answer_rows(*args, **kwargs):
        data = load_counted(*args, **kwargs)
        data.codes, data.comments = _from_answer_table(data, session=session)
        data.comment_tokens = {}  # every comment segmented now, none from comment_terms
        return data

    monkeypatch.setattr(score_sources, "load_counted", from_answer_rows)
    assert [scores.scores_document(campaign, f, session=session, rows=True)
            for f in filters] == from_codes


@pytest.mark.demo_data
@pytest.mark.parametrize("column", ["rating_codes", "comment", "comment_terms"])
def test_the_database_refuses_a_response_without_its_copies(session, column):
    # The scores read only the copies: a row written around the services must fail, not
    # be counted without its answers (migration 0009).
    response_id = session.exec(select(Response.id).order_by(Response.id)).first()
    with pytest.raises(IntegrityError), session.begin_nested():
        session.exec(update(Response).where(Response.id == response_id)
                     .values({column: None}))


@pytest.mark.demo_data
def test_a_comment_holding_the_separator_is_read_from_its_column(session):
    campaign = campaigns.get_campaign(demo.SLUG, session=session)
    expected = counted_data.load_counted(campaign, session=session)
    ids = expected.response_ids
    # questionnaires.clean_text removes control characters, so only a row written around
    # the services can hold the separator of the aggregated comments.
    session.exec(update(Response).where(Response.id == ids[1]).values(comment="a\x1fb"))
    session.expire_all()
    data = counted_data.load_counted(campaign, session=session)
    assert data.comments == [*expected.comments[:1], "a\x1fb", *expected.comments[2:]]
    assert data.comment_tokens == {}  # the themes segment every comment
    assert_array_equal(data.codes, expected.codes)


@pytest.mark.demo_data
def test_comment_themes_count_the_stored_tokens(session):
    campaign = campaigns.get_campaign(demo.SLUG, session=session)
    before = scores.scores_document(campaign, session=session).comments
    assert before.themes
    # Stored tokens are used as they are, not segmented again from the comment.
    session.exec(update(Response).where(Response.comment != "")
                 .values(comment_terms="存储词 存储词"))
    session.expire_all()
    after = scores.scores_document(campaign, session=session).comments
    assert after.themes[0].term == "存储词"
    # Every written comment carries the stored term, but those that only thank give no theme.
    written = session.exec(select(Response.comment).where(
        Response.campaign_id == campaign.id, Response.comment != "",
        Response.status == "complete", Response.excluded.is_(False),
        Response.household_id.is_not(None))).all()
    raising = [c for c in written if not is_praise(c)]
    assert len(written) == before.n_comments - before.n_empty > len(raising) > 0
    assert after.themes[0].comment_count == len(raising)


def _cells_by_join(session, response_ids) -> dict[int, tuple]:
    """Each response's project and community code, read through the household join."""
    rows = session.exec(
        select(Response.id, Project.code, Community.code)
        .join(Household, Household.id == Response.household_id, isouter=True)
        .join(Project, Project.id == Household.project_id, isouter=True)
        .join(Community, Community.id == Household.community_id, isouter=True)
        .where(Response.id.in_(response_ids))).all()
    return {rid: (project, community) for rid, project, community in rows}


def _cells_loaded(data: counted_data.CountedData) -> dict[int, tuple]:
    projects, communities = data.factor("projects"), data.factor("communities")
    return {rid: (projects.labels[p], communities.labels[c]) for rid, p, c in zip(
        data.response_ids, projects.codes.tolist(), communities.codes.tolist(), strict=True)}


@pytest.mark.demo_data
def test_projects_and_communities_of_the_responses_as_the_household_join_gives_them(session):
    # On PostgreSQL load_counted reads the households apart from the responses (no join in
    # the aggregate); a response whose household is another campaign's (not written by the
    # services) is read through the join again.
    campaign = campaigns.get_campaign(demo.SLUG, session=session)
    data = counted_data.load_counted(campaign, ScoreFilters(include_unverified=True),
                                     session=session)
    expected = _cells_by_join(session, data.response_ids)
    assert _cells_loaded(data) == expected
    assert any(p is None for p, _c in expected.values())  # open-link and rental households
    assert len({c for _p, c in expected.values()}) > 2

    other = session.exec(select(Campaign.id).where(Campaign.id != campaign.id)).first()
    moved = session.exec(select(Household).where(Household.id == select(Response.household_id)
                                                 .where(Response.id == data.response_ids[3])
                                                 .scalar_subquery())).one()
    moved.campaign_id = other
    session.flush()
    session.expire_all()
    again = counted_data.load_counted(campaign, ScoreFilters(include_unverified=True),
                                      session=session)
    assert _cells_loaded(again) == expected
