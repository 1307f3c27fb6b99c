"""The contact vault through the web: only community A's worker sees A's clear contact, only
in the answer to a reveal that says why, each reveal audited; the admin purge button.

The scenario's roster rows carry names 王<i>明, addresses 龙岭路<i>号 and mobiles 139…
(tests/security/conftest.py): household A001 is row 2.
"""

from __future__ import annotations

import logging

from sqlmodel import select

from survey_app.extensions import db
from survey_app.models import AuditEvent, Campaign, CampaignStatus, Household, utcnow
from survey_app.services import visits
from tests.security.conftest import login_cookie
from tests.services.rosters import phone

A001 = ("王2明", "龙岭路2号", phone(2))


def _client(app, scenario, role):
    client = app.test_client()
    client.set_cookie("session", login_cookie(app, scenario.usernames[role]))
    return client


def _reveal(client, scenario, purpose="visit", household=None):
    return client.post(f"/entry/{scenario.slug}/households/"
                       f"{household or scenario.household_a}/contact", data={"purpose": purpose})


def _reveals(app) -> list[AuditEvent]:
    with app.app_context():
        return list(db.session.exec(select(AuditEvent).where(
            AuditEvent.action == "contact.reveal").order_by(AuditEvent.id)))


def test_the_community_worker_sees_the_contact_after_saying_why_and_it_is_audited(
        app, scenario, caplog):
    caplog.set_level(logging.DEBUG)
    worker = _client(app, scenario, "worker_a")
    page = worker.get(f"/entry/{scenario.slug}/households/{scenario.household_a}")
    assert page.status_code == 200
    assert not any(value in page.get_data(as_text=True) for value in A001)
    shown = _reveal(worker, scenario, "phone_call")
    body = shown.get_data(as_text=True)
    assert shown.status_code == 200
    assert all(value in body for value in A001)
    assert f'href="tel:{A001[2]}"' in body
    assert shown.headers["Cache-Control"] == "no-store"
    [event] = _reveals(app)
    assert (event.actor_id, event.object_id, event.reason) == (
        scenario.user_ids["worker_a"], str(scenario.household_a), "phone_call")
    assert event.campaign_id == scenario.campaign_id
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert not any(value in logged for value in A001)


def test_no_purpose_no_reveal(app, scenario):
    worker = _client(app, scenario, "worker_a")
    for purpose in ("", "curiosity"):
        response = _reveal(worker, scenario, purpose)
        assert response.status_code == 200
        assert not any(value in response.get_data(as_text=True) for value in A001)
    assert _reveals(app) == []


def test_another_community_gets_not_found_and_other_roles_are_forbidden(app, scenario):
    assert _reveal(_client(app, scenario, "worker_b"), scenario).status_code == 404
    assert _reveal(_client(app, scenario, "worker_a"), scenario,
                   household=scenario.household_b).status_code == 404
    for role in ("admin", "evaluator"):
        response = _reveal(_client(app, scenario, role), scenario)
        assert response.status_code == 403
        assert A001[0] not in response.get_data(as_text=True)
    assert _reveals(app) == []


def _set_status(app, scenario, status):
    with app.app_context():
        campaign = db.session.get(Campaign, scenario.campaign_id)
        campaign.status = status
        db.session.commit()


def test_out_of_the_field_the_reveal_is_refused_with_its_reason(app, scenario):
    _set_status(app, scenario, CampaignStatus.CLOSED)
    response = _reveal(_client(app, scenario, "worker_a"), scenario)
    assert response.status_code == 403
    body = response.get_data(as_text=True)
    assert "while the campaign is in the field" in body or "调查实施期间" in body
    assert A001[0] not in body and _reveals(app) == []


def test_a_household_imported_before_the_vault_says_it_has_no_clear_data(app, scenario):
    with app.app_context():
        db.session.get(Household, scenario.household_a).contact_sealed = None
        db.session.commit()
    worker = _client(app, scenario, "worker_a")
    page = worker.get(f"/entry/{scenario.slug}/households/{scenario.household_a}?lang=en")
    assert "imported before contact data was stored encrypted" in page.get_data(as_text=True)


def test_the_admin_purge_button_is_refused_while_open_and_purges_once_closed(app, scenario):
    admin = _client(app, scenario, "admin")
    url = f"/admin/campaigns/{scenario.slug}/contacts/purge"
    refused = admin.post(url, follow_redirects=True)
    assert "close the campaign first" in refused.get_data(as_text=True) or \
        "请先结束调查" in refused.get_data(as_text=True)
    with app.app_context():
        households = db.session.exec(select(Household).where(
            Household.campaign_id == scenario.campaign_id)).all()
        assert all(h.contact_sealed for h in households)
    _set_status(app, scenario, CampaignStatus.CLOSED)
    done = admin.post(url)
    assert done.status_code == 302
    with app.app_context():
        db.session.expire_all()
        households = db.session.exec(select(Household).where(
            Household.campaign_id == scenario.campaign_id)).all()
        assert all(h.contact_sealed is None and h.contact_purged_at for h in households)
        assert all(h.phone_hmac for h in households)
        event = db.session.exec(select(AuditEvent).where(
            AuditEvent.action == "contact.purge")).one()
        assert event.actor_id == scenario.user_ids["admin"]
    page = _client(app, scenario, "worker_a").get(
        f"/entry/{scenario.slug}/households/{scenario.household_a}?lang=en")
    assert "deleted after fieldwork" in page.get_data(as_text=True)


def _document_bytes(data: bytes) -> bytes:
    """The bytes to scan: an XLSX/DOCX is a zip of XML parts, scanned unpacked."""
    import io
    import zipfile

    if data[:2] != b"PK":
        return data
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return b"\n".join(archive.read(name) for name in archive.namelist())


def test_no_export_or_report_carries_a_name_address_phone_or_visit_note(app, scenario):
    """After a reveal and a visit whose note names the head, every export format and the
    report hold none of the roster's contact details (raw bytes, XLSX parts unpacked)."""
    from survey_app.services.exports import EXPORTERS

    worker = _client(app, scenario, "worker_a")
    assert A001[1] in _reveal(worker, scenario).get_data(as_text=True)
    recorded = worker.post(f"/entry/{scenario.slug}/households/{scenario.household_a}/visits",
                           data={"channel": "visit", "outcome": "contacted",
                                 # now: the scenario's campaign was set up just now
                                 "attempted_at": visits.beijing(utcnow()).strftime(
                                     "%Y-%m-%d %H:%M"),
                                 "note": f"{A001[0]}说晚上在家 {A001[2]}"})
    assert recorded.status_code == 302
    rows = range(2, 8)
    secrets = [f"王{i}明" for i in rows] + [f"龙岭路{i}号" for i in rows] + [
        phone(i) for i in rows]
    evaluator = _client(app, scenario, "evaluator")
    scanned = []
    for fmt in sorted(EXPORTERS):
        response = evaluator.get(f"/evaluate/{scenario.slug}/export/{fmt}")
        assert response.status_code == 200, fmt
        scanned.append((fmt, _document_bytes(response.data)))
    report = evaluator.get(f"/evaluate/{scenario.slug}/report.docx")
    scanned.append(("report", _document_bytes(report.data)))
    leaked = [(name, value) for name, blob in scanned for value in secrets
              if value.encode() in blob or value.encode("utf-16-le") in blob]
    assert leaked == []
    assert all(len(blob) > 500 for _, blob in scanned)
