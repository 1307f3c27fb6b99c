"""The contact vault: sealing bound to the household row, who may see the clear text,
audited reveals, purge after fieldwork and key rotation."""

from __future__ import annotations

import pytest
from sqlmodel import select

from survey_app.models import AuditEvent, CampaignStatus, Household, Role
from survey_app.services import contact_vault, roster
from survey_app.services.contact_vault import Contact
from tests.factories import make_campaign, make_user
from tests.fixtures.settings import TEST_SETTINGS

KEY = TEST_SETTINGS["CONTACT_KEY"]
ALICE = Contact(name="王小明", address="桃花仑街道龙岭路12号3栋201室", phone="13900000012")


def _row(i: int, code: str, community: str) -> roster.RosterRow:
    return roster.RosterRow(i, {"household_code": code, "group": "租赁补贴",
                                "community": community, "street": "桃花仑街道",
                                "head_name": f"李{i}华", "phone": f"1390000{i:04d}",
                                "address": f"龙岭路{i}号{i}栋"})


@pytest.fixture
def field(session):
    """An open campaign: three households in community A (two sampled), one in B."""
    campaign = make_campaign(session, status=CampaignStatus.OPEN)
    roster.import_roster(campaign, [_row(2, "A1", "甲社区"), _row(3, "A2", "甲社区"),
                                    _row(4, "A3", "甲社区"), _row(5, "B1", "乙社区")],
                         session=session, pii_key=TEST_SETTINGS["PII_KEY"], contact_key=KEY)
    households = {h.household_code: h for h in session.exec(
        select(Household).where(Household.campaign_id == campaign.id)).all()}
    for code in ("A1", "A2", "B1"):
        households[code].sampled = True
    session.flush()
    a, b = households["A1"].community_id, households["B1"].community_id
    from survey_app.models import Community

    worker_a = make_user(session, Role.WORKER, community=session.get(Community, a))
    worker_b = make_user(session, Role.WORKER, community=session.get(Community, b))
    return campaign, households, worker_a, worker_b


def test_a_sealed_contact_opens_only_for_its_own_household_and_key():
    blob = contact_vault.seal(ALICE, campaign_id=1, household_code="A1", secret=KEY)
    assert "王小明".encode() not in blob and b"13900000012" not in blob
    assert contact_vault.open_sealed(blob, campaign_id=1, household_code="A1",
                                     secret=KEY) == ALICE
    for campaign_id, code, key in ((1, "A2", KEY), (2, "A1", KEY), (1, "A1", "other-key")):
        with pytest.raises(contact_vault.VaultError):
            contact_vault.open_sealed(blob, campaign_id=campaign_id, household_code=code,
                                      secret=key)
    tampered = blob[:-1] + bytes([blob[-1] ^ 1])
    with pytest.raises(contact_vault.VaultError):
        contact_vault.open_sealed(tampered, campaign_id=1, household_code="A1", secret=KEY)
    # Two seals of the same contact differ (fresh nonce): equal values are not linkable.
    assert blob != contact_vault.seal(ALICE, campaign_id=1, household_code="A1", secret=KEY)
    assert "王" not in repr(ALICE)


def test_a_blob_swapped_between_household_rows_does_not_open(session, field):
    campaign, households, worker_a, _ = field
    a1, a2 = households["A1"], households["A2"]
    a1.contact_sealed, a2.contact_sealed = a2.contact_sealed, a1.contact_sealed
    session.flush()
    with pytest.raises(contact_vault.VaultError):
        contact_vault.reveal([a1], user=worker_a, campaign=campaign, purpose="visit",
                             secret=KEY, session=session)


def test_the_worker_of_the_community_sees_sampled_households_and_each_reveal_is_audited(
        session, field):
    campaign, households, worker_a, _ = field
    shown = contact_vault.reveal([households["A1"], households["A2"]], user=worker_a,
                                 campaign=campaign, purpose="visit_list", secret=KEY,
                                 session=session)
    assert shown[households["A1"].id] == Contact("李2华", "龙岭路2号2栋", "13900000002")
    events = session.exec(select(AuditEvent).where(AuditEvent.action == "contact.reveal")
                          .order_by(AuditEvent.id)).all()
    assert [(e.actor_id, e.object_id, e.reason) for e in events] == [
        (worker_a.id, str(households["A1"].id), "visit_list"),
        (worker_a.id, str(households["A2"].id), "visit_list")]
    assert all("李" not in str(e.details) and "139" not in str(e.details) for e in events)


@pytest.mark.parametrize(("who", "code", "status", "purpose", "reason"), [
    ("worker_b", "A1", CampaignStatus.OPEN, "visit", "community"),
    ("worker_a", "A3", CampaignStatus.OPEN, "visit", "not_sampled"),
    ("worker_a", "A1", CampaignStatus.CLOSED, "visit", "not_in_field"),
    ("worker_a", "A1", CampaignStatus.DRAFT, "visit", "not_in_field"),
    ("worker_a", "A1", CampaignStatus.OPEN, "curiosity", "purpose"),
    ("worker_a", "A1", CampaignStatus.OPEN, "backcheck", "role"),  # back-checks: evaluators
    ("evaluator", "A1", CampaignStatus.OPEN, "backcheck", "not_drawn"),  # not in a draw
    ("admin", "A1", CampaignStatus.OPEN, "visit", "role"),
    ("evaluator", "A1", CampaignStatus.OPEN, "visit", "role"),
])
def test_who_may_not_see_the_clear_contact(session, field, who, code, status, purpose, reason):
    campaign, households, worker_a, worker_b = field
    users = {"worker_a": worker_a, "worker_b": worker_b,
             "admin": make_user(session, Role.ADMIN), "evaluator": make_user(session)}
    campaign.status = status
    with pytest.raises(contact_vault.RevealRefused) as refused:
        contact_vault.reveal([households[code]], user=users[who], campaign=campaign,
                             purpose=purpose, secret=KEY, session=session)
    assert refused.value.reason == reason
    assert session.exec(select(AuditEvent).where(
        AuditEvent.action == "contact.reveal")).first() is None


def test_purge_is_refused_while_open_and_complete_once_closed(session, field):
    campaign, households, worker_a, _ = field
    hashes = {h.household_code: h.phone_hmac for h in households.values()}
    for status in (CampaignStatus.OPEN, CampaignStatus.DRAFT):
        campaign.status = status
        with pytest.raises(contact_vault.PurgeRefused, match="fieldwork"):
            contact_vault.purge(campaign, session=session)
        assert all(h.contact_sealed for h in households.values())
    campaign.status = CampaignStatus.CLOSED
    assert contact_vault.purge(campaign, session=session) == 4
    session.expire_all()
    stored = session.exec(select(Household).where(Household.campaign_id == campaign.id)).all()
    assert all(h.contact_sealed is None and h.contact_key_id is None for h in stored)
    assert {contact_vault.contact_state(h) for h in stored} == {"purged"}
    # Matching still works: the keyed hashes stay.
    assert {h.household_code: h.phone_hmac for h in stored} == hashes
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "contact.purge")).one()
    assert event.details == {"households": 4}


def test_rotate_key_round_trip(session, field):
    campaign, households, worker_a, _ = field
    new_key = "a-new-contact-key"
    other = make_campaign(session, status=CampaignStatus.OPEN)
    roster.import_roster(other, [_row(9, "X1", "丙社区")], session=session,
                         pii_key=TEST_SETTINGS["PII_KEY"], contact_key=KEY)
    assert contact_vault.rotate_key(old_secret=KEY, new_secret=new_key, session=session) == 5
    session.expire_all()
    sealed = session.exec(select(Household).where(
        Household.contact_sealed.is_not(None))).all()
    assert {h.contact_key_id for h in sealed} == {contact_vault.key_id(new_key)}
    a1 = session.get(Household, households["A1"].id)
    with pytest.raises(contact_vault.VaultError):
        contact_vault.open_sealed(a1.contact_sealed, campaign_id=campaign.id,
                                  household_code="A1", secret=KEY)
    assert contact_vault.open_sealed(a1.contact_sealed, campaign_id=campaign.id,
                                     household_code="A1", secret=new_key).phone == "13900000002"
    # A second run finds nothing left under the old key; back again restores the old key.
    assert contact_vault.rotate_key(old_secret=KEY, new_secret=new_key, session=session) == 0
    assert contact_vault.rotate_key(old_secret=new_key, new_secret=KEY, session=session) == 5
    shown = contact_vault.reveal([session.get(Household, households["A2"].id)], user=worker_a,
                                 campaign=campaign, purpose="phone_call", secret=KEY,
                                 session=session)
    assert list(shown.values())[0].name == "李3华"


def test_rotate_key_refuses_blobs_under_a_third_key_and_changes_nothing(session, field):
    _, households, _, _ = field
    contact_vault.seal_household(households["A3"], ALICE, secret="third-key")
    session.flush()
    before = {h.id: h.contact_sealed for h in households.values()}
    with pytest.raises(contact_vault.VaultError, match="under neither key"):
        contact_vault.rotate_key(old_secret=KEY, new_secret="new", session=session)
    assert {h.id: h.contact_sealed for h in households.values()} == before


def test_households_without_a_sealed_contact_say_so(session, field):
    campaign, households, worker_a, _ = field
    a1 = households["A1"]
    a1.contact_sealed = None
    assert contact_vault.contact_state(a1) == "none"
    shown = contact_vault.reveal([a1], user=worker_a, campaign=campaign, purpose="visit",
                                 secret=KEY, session=session)
    assert shown == {a1.id: None}
    assert session.exec(select(AuditEvent).where(
        AuditEvent.action == "contact.reveal")).first() is None

