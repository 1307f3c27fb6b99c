"""Field progress per community and group, and the printable paper questionnaire."""

from __future__ import annotations

import math

from sqlmodel import select

from survey_app.models import Response, ResponseStatus
from survey_app.services import progress
from survey_app.services.paper_entry import printed_code
from survey_app.services.questionnaire_versions import questionnaire_of, version_for_group
from survey_app.services.responses import store_response
from tests.entry.conftest import UserClient, add_household, build_field, typed_answers


def _respond(session, world, household, mode, status=ResponseStatus.COMPLETE):
    from questionnaires import validate_answers
    version = version_for_group(world.campaign, household.household_group, session=session)
    q = questionnaire_of(version)
    store_response(session=session, campaign=world.campaign, version=version,
                   group=household.household_group, mode=mode,
                   instance_id=f"{mode}-{household.id}",
                   values=validate_answers(q, typed_answers(q, household.id)).values,
                   household=household, status=status)


def test_progress_counts_each_outcome_once(app, session):
    world = build_field(session, count_a=10, count_b=2)
    h = world.households_a
    _respond(session, world, h[0], "web_token")
    _respond(session, world, h[1], "web_token")
    _respond(session, world, h[2], "paper")
    _respond(session, world, h[3], "web_token", ResponseStatus.PARTIAL)
    _respond(session, world, h[9], "interview")  # a worker's phone, offline (issue 22)
    for household, disposition in zip(h[4:9], ["refused", "not_at_home", "moved",
                                               "wrong_address", "contacted"], strict=True):
        household.disposition = disposition
    add_household(session, world.campaign, world.community_a, "PG90000", sampled=False)
    rows, total = progress.field_progress(world.campaign, world.admin, session=session)
    (row_a,) = [r for r in rows if r.community == world.community_a.name]
    assert row_a.sampled == 10
    assert row_a.counts == {"completed_web": 2, "completed_paper": 1, "completed_interview": 1,
                            "partial": 1, "refused": 1, "not_at_home": 1, "moved": 1,
                            "wrong_address": 1, "contacted": 1, "pending": 0}
    assert row_a.completed == 4 and row_a.contacted == 4 + 1 + 1 + 1
    assert row_a.response_rate == 0.4
    assert math.isclose(row_a.aapor.rr1, 0.4)
    assert math.isclose(row_a.aapor.coop1, 4 / (4 + 1 + 1 + 1))
    assert total.sampled == 12
    worker_rows, _ = progress.field_progress(world.campaign, world.worker_b, session=session)
    assert [r.community for r in worker_rows] == [world.community_b.name]
    page = UserClient(app, world.worker_a).get(f"/entry/{world.campaign.slug}/progress")
    html = page.get_data(as_text=True)
    assert "40.0%" in html and "已完成（入户访问）" in html
    document = progress.progress_document(world.campaign, session=session)
    assert document.response_rate == round(4 / 12, 4)
    assert document.completed_by_mode["interview"] == 1


def test_progress_document_rates_follow_the_field_tables_convention(app, session):
    """One AAPOR convention: the document's RR1 is outcome_rates over sampled households,
    as in the field table, except that an excluded response does not complete a household.
    A response from a household outside the sample is counted but is no completed case
    (it used to enter the numerator over the sample's denominator)."""
    world = build_field(session, count_a=10, count_b=2)
    h = world.households_a
    _respond(session, world, h[0], "web_token")
    _respond(session, world, h[1], "web_token")
    _respond(session, world, h[2], "paper")
    _respond(session, world, h[3], "web_token", ResponseStatus.PARTIAL)
    h[4].disposition = "refused"
    _respond(session, world, h[5], "paper")
    h[5].disposition = "refused"  # refused first, answered later: completed, not a refusal
    outsider = add_household(session, world.campaign, world.community_a, "PG90000",
                             sampled=False)
    _respond(session, world, outsider, "paper")
    session.flush()
    rows, _ = progress.field_progress(world.campaign, world.admin, session=session)
    (field_row,) = [r for r in rows if r.community == world.community_a.name]
    document = progress.progress_document(world.campaign, session=session)
    (community,) = [c for c in document.communities if c.label == world.community_a.name]
    assert field_row.response_rate == 0.4
    assert community.model_dump() == {"code": community.code, "label": world.community_a.name,
                                      "households": 11, "sampled": 10, "refused": 1,
                                      "completed": 5, "response_rate": 0.4}
    assert document.response_rate == round(4 / 12, 4)

    excluded = session.exec(select(Response).where(Response.household_id == h[0].id)).one()
    excluded.excluded = True
    session.flush()
    rows, _ = progress.field_progress(world.campaign, world.admin, session=session)
    (field_row,) = [r for r in rows if r.community == world.community_a.name]
    document = progress.progress_document(world.campaign, session=session)
    (community,) = [c for c in document.communities if c.label == world.community_a.name]
    assert field_row.response_rate == 0.4
    assert (community.completed, community.response_rate) == (4, 0.3)
    assert document.excluded == 1 and document.response_rate == round(3 / 12, 4)
    assert progress.outcome_rates(dict.fromkeys(progress.OUTCOMES, 0)) is None


def test_blank_questionnaire_prints_every_option_code(app, session, world):
    html = UserClient(app, world.worker_a).get(
        f"/entry/{world.campaign.slug}/print/blank/relocated").get_data(as_text=True)
    version = version_for_group(world.campaign, "relocated", session=session)
    questionnaire = questionnaire_of(version)
    for q in questionnaire.questions():
        assert q.text.zh_CN in html
    for code in ("5", "4", "3", "2", "1", "9"):
        assert f"<b>{code}</b>" in html
    assert "____________-__" in html
    assert 'href="/static/entry.css"' in html


def test_personalised_forms_one_per_sampled_household(app, world):
    admin = UserClient(app, world.admin)
    html = admin.get(f"/entry/{world.campaign.slug}/print/sample"
                     f"?community={world.community_b.id}").get_data(as_text=True)
    assert html.count('<article class="sheet">') == len(world.households_b)
    for household in world.households_b:
        assert printed_code(household) in html
    single = admin.get(f"/entry/{world.campaign.slug}/print/households/"
                       f"{world.households_a[0].id}").get_data(as_text=True)
    assert printed_code(world.households_a[0]) in single
    static = admin.get("/static/entry.css")
    css = static.get_data(as_text=True)
    static.close()
    assert "break-after:page" in css and "size:A4" in css
