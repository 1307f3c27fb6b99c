import pytest
from sqlalchemy import func
from sqlmodel import select

from survey_app.models import AuditEvent, Household, PaperForm, Project, Response, User
from survey_app.services import demo


def _counts(session):
    def count(model, *where):
        return session.exec(select(func.count()).select_from(model).where(*where)).one()

    return {
        "relocated": count(Household, Household.household_group == "relocated"),
        "rental_subsidy": count(Household, Household.household_group == "rental_subsidy"),
        "projects": count(Project),
        "sampled": count(Household, Household.sampled),
        "responses": count(Response),
        "paper_forms": count(PaperForm),
        "users": count(User),
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
    planned = session.exec(select(func.sum(Project.planned_households))).one()
    assert planned == 600
    # Both web and paper responses exist so every screen has data.
    modes = set(session.exec(select(Response.mode)).all())
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
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "sample.draw")).one()
    assert event.details["seed"] == demo.SEED
    assert event.details["strata"]["relocated"]["n"] == 235  # METHODS.md section 3


@pytest.mark.demo_data
def test_demo_households_carry_sealed_synthetic_contacts(app, session):
    """Every demo household has its contact in the vault; a demo worker opens one of their
    community's sampled households (a synthetic name 演示…, a 170 number)."""
    from flask import current_app

    from survey_app.models import Campaign
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
