import re

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import func
from sqlmodel import select

from questionnaires import load_builtin
from survey_app.models import (
    Answer,
    AuditEvent,
    Campaign,
    Household,
    PaperForm,
    Project,
    Response,
    Unit,
    User,
)
from survey_app.services import campaigns, demo, demo_previous, demo_region


def _heshan_id(session) -> int:
    return session.exec(select(Campaign.id).where(Campaign.slug == demo.SLUG)).one()


def _counts(session):
    """Heshan's rows (the other demo counties have campaigns of their own), and the totals."""
    heshan = _heshan_id(session)

    def count(model, *where):
        return session.exec(select(func.count()).select_from(model).where(*where)).one()

    return {
        "relocated": count(Household, Household.household_group == "relocated",
                           Household.campaign_id == heshan),
        "rental_subsidy": count(Household, Household.household_group == "rental_subsidy",
                                Household.campaign_id == heshan),
        "projects": count(Project, Project.campaign_id == heshan),
        "sampled": count(Household, Household.sampled, Household.campaign_id == heshan),
        "responses": count(Response, Response.campaign_id == heshan),
        "paper_forms": count(PaperForm),
        "users": count(User),
        "all_households": count(Household), "all_responses": count(Response),
        "campaigns": count(Campaign), "units": count(Unit),
    }


@pytest.mark.slow
def test_demo_load_is_idempotent_and_matches_the_seed_report(app, session):
    first = demo.load_demo(session=session)
    after_first = _counts(session)
    second = demo.load_demo(session=session)
    assert first.created and not second.created
    assert _counts(session) == after_first
    # Heshan 2021 self-evaluation: 3 projects, 600 relocated and 2,500 rental-subsidy households.
    assert after_first["relocated"] == 600
    assert after_first["rental_subsidy"] == 2500
    assert after_first["projects"] == 3
    previous = campaigns.get_campaign(demo_previous.SLUG, session=session)
    assert (previous.status, previous.year) == ("closed", 2020)
    assert campaigns.get_campaign(demo.SLUG, session=session).previous_campaign_id == previous.id
    planned = session.exec(select(func.sum(Project.planned_households))
                           .where(Project.campaign_id == _heshan_id(session))).one()
    assert planned == 600
    # Both web and paper responses exist so every screen has data.
    modes = set(session.exec(select(Response.mode)
                             .where(Response.campaign_id == _heshan_id(session))).all())
    assert modes == {"web_token", "web_open", "paper"}
    assert after_first["paper_forms"] == session.exec(
        select(func.count()).select_from(Response).where(Response.mode == "paper")).one()


@pytest.mark.demo_data
def test_demo_roster_holds_no_raw_personal_data(app, session):
    household = session.exec(select(Household)).first()
    assert household.is_demo
    assert "*" in household.id_number_masked and len(household.id_number_hmac) == 64
    assert household.phone_masked.startswith("170****")
    assert household.head_name_masked.startswith("演")


@pytest.mark.demo_data
def test_demo_sample_draw_is_audited_with_its_seed(app, session):
    event = session.exec(select(AuditEvent).where(
        AuditEvent.action == "sample.draw", AuditEvent.campaign_id == _heshan_id(session))).one()
    assert event.details["seed"] == demo.SEED
    assert event.details["strata"]["relocated"]["n"] == 235  # METHODS.md section 3


def _cronbach_alpha_pairwise(items: pd.DataFrame) -> float:
    """Cronbach's alpha as pingouin's ``cronbach_alpha(nan_policy="pairwise")`` computes it:
    k / (k - 1) * (1 - trace(C) / sum(C)), C the pairwise-complete covariance matrix
    (independent of analysis/reliability.py)."""
    cov = items.cov()  # pandas: pairwise-complete, ddof = 1
    k = cov.shape[0]
    return k / (k - 1) * (1 - np.trace(cov.to_numpy()) / cov.to_numpy().sum())


def _demo_ratings(session) -> pd.DataFrame:
    """One row per counted demo response (roster households), one column per rating item;
    不清楚 and unanswered items are missing."""
    rating_ids = {}
    for group in ("relocated", "rental_subsidy"):
        for q in load_builtin(group).questions():
            if q.type == "rating":
                rating_ids[q.id] = q.dimension
    rows = session.exec(
        select(Response.id, Response.household_group, Answer.question_id, Answer.code)
        .join(Answer, Answer.response_id == Response.id)
        .where(Response.status == "complete", Response.household_id.is_not(None),
               Response.campaign_id == _heshan_id(session),
               Answer.question_id.in_(rating_ids))).all()
    frame = pd.DataFrame(rows, columns=["response", "group", "item", "code"])
    frame["value"] = pd.to_numeric(frame["code"].where(frame["code"] != "9"))
    wide = frame.pivot(index=["response", "group"], columns="item", values="value")
    return wide.rename(columns=rating_ids)


@pytest.mark.demo_data
def test_demo_answers_hang_together_like_a_real_survey(app, session):
    ratings = _demo_ratings(session)
    items = ratings.drop(columns=["overall"])  # alpha of the dimension items, as reported
    assert items.shape[1] == 9
    alphas = {"pooled": _cronbach_alpha_pairwise(items)}
    for group, rows in items.groupby(level="group"):
        alphas[group] = _cronbach_alpha_pairwise(rows)
    assert all(0.8 <= a <= 0.9 for a in alphas.values()), alphas

    # Dimension differences: the money is rated lower than the staff, in both groups.
    satisfied = (ratings >= 4).where(ratings.notna()).groupby(level="group").mean()
    for group in ("relocated", "rental_subsidy"):
        rates = satisfied.loc[group]
        assert rates["staff_attitude"] - rates["benefit_standard"] >= 0.05, rates.to_dict()
        assert 0.8 <= rates["overall"] <= 0.97, rates.to_dict()


@pytest.mark.demo_data
def test_demo_comments_are_residents_phrases_from_unhappy_and_content_households(app, session):
    comments = session.exec(select(Response.comment).where(
        Response.status == "complete", Response.campaign_id == _heshan_id(session))).all()
    written = [c for c in comments if c.strip()]
    assert 0.2 <= len(written) / len(comments) <= 0.6
    # Whole sentences, several distinct ones, no digits that could be a phone or an ID.
    assert len(set(written)) >= 15
    assert all(len(c) >= 8 and c.endswith("。") and not re.search(r"\d", c) for c in written)


@pytest.mark.demo_data
def test_demo_households_carry_sealed_synthetic_contacts(app, session):
    """Every demo household has its contact in the vault; a demo worker opens one of their
    community's sampled households (a synthetic name 演示…, a 170 number)."""
    from flask import current_app

    from survey_app.services import contact_vault

    campaign = session.exec(select(Campaign).where(Campaign.slug == demo.SLUG)).one()
    summary = contact_vault.vault_summary(campaign, session=session)
    assert summary.sealed == summary.households == 3100
    worker = session.exec(select(User).where(User.username == "worker-thl")).one()
    household = session.exec(select(Household).where(
        Household.campaign_id == campaign.id, Household.sampled,
        Household.community_id == worker.community_id)).first()
    shown = contact_vault.reveal([household], user=worker, campaign=campaign, purpose="visit",
                                 secret=current_app.config["CONTACT_KEY"], session=session)
    contact = shown[household.id]
    assert contact.name.startswith("演示") and contact.phone.startswith("170")
    assert contact.address.endswith("号")


@pytest.mark.demo_data
def test_demo_visit_log_matches_the_households_outcomes(session):
    """Each demo household's last attempt has its final outcome; paper forms end completed."""
    from survey_app.models import Visit

    last: dict[int, Visit] = {}
    for visit in session.exec(select(Visit).order_by(Visit.attempted_at)).all():
        last[visit.household_id] = visit
    assert len(last) > 50
    paper = set(session.exec(select(PaperForm.household_id)).all())
    for household_id, visit in last.items():
        household = session.get(Household, household_id)
        expected = "completed" if household_id in paper else household.disposition
        assert visit.outcome == expected
        assert session.get(User, visit.worker_id).community_id == household.community_id


@pytest.mark.demo_data
def test_demo_region_holds_three_counties_of_yiyang_with_their_campaigns(session):
    """湖南省 → 益阳市 → 赫山区, 资阳区, 桃江县, each county with its 2021 campaign (赫山区 with
    its 2020 one too)."""
    units = {u.code: u for u in session.exec(select(Unit)).all()}
    assert {code: u.name for code, u in units.items()} == {
        "430000": "湖南省", "430900": "益阳市", "430902": "资阳区", "430903": "赫山区",
        "430922": "桃江县"}
    placed = dict(session.exec(select(Campaign.slug, Unit.code)
                               .join(Unit, Campaign.unit_id == Unit.id)).all())
    assert placed == {demo.SLUG: "430903", "heshan-2020": "430903", "ziyang-2021": "430902",
                      "taojiang-2021": "430922"}
    for spec in demo_region.COUNTIES:
        campaign = session.exec(select(Campaign).where(Campaign.slug == spec.slug)).one()
        answered = session.exec(select(func.count()).select_from(Response).where(
            Response.campaign_id == campaign.id, Response.status == "complete")).one()
        assert campaign.status == "closed" and 150 <= answered <= 400
