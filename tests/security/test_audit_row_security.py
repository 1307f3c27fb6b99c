"""Row-level security of the audit trail (migration 0032): a county account's connection
sees none of another county's audit events, nor events without a campaign, even with the
application's filter removed, and its appends still form the one hash chain that
``survey-app audit verify`` checks in the all-units scope; two counties sealing at once
take turns and chain one after the other.

As in tests/security/test_row_security.py, the tests run as a non-superuser role
(``SET LOCAL ROLE``), since row-level security never filters a superuser.
"""

from __future__ import annotations

import threading
import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlmodel import Session, select

from survey_app import create_app, row_security
from survey_app.db import make_engine
from survey_app.extensions import db
from survey_app.models import AuditEvent, AuditSeal, Role
from survey_app.row_security import ALL_UNITS, set_unit_path
from survey_app.services import audit, audit_chain, campaigns, unit_scope, units
from tests.factories import login, make_campaign, make_user
from tests.fixtures.databases import POSTGRES_URL
from tests.fixtures.settings import TEST_SETTINGS
from tests.security.test_row_security import HESHAN, OTHER_COUNTY, _postgres_only, _probe_role


def _count(connection, where: str, **params) -> int:
    """A test-only query: no filter but ``where`` (a view that forgot the unit scope)."""
    return connection.execute(text(f"SELECT count(*) FROM auditevent WHERE {where}"),
                              params).scalar_one()


def _seals_of(connection, campaign_id: int) -> int:
    return connection.execute(text(
        "SELECT count(*) FROM auditseal s JOIN auditevent e ON e.id = s.event_id "
        "WHERE e.campaign_id = :c"), {"c": campaign_id}).scalar_one()


@pytest.mark.demo_data
def test_a_county_sees_no_audit_event_of_another_county_and_its_appends_chain(
        app, session, _connection):
    _postgres_only(_connection)
    other = campaigns.get_campaign(OTHER_COUNTY, session=session)
    own = campaigns.get_campaign("heshan-2021", session=session)
    with row_security.acting_as(ALL_UNITS):
        audit.record("auth.login", "user", 1, session=session, label="test")
        audit.record("test.other", "campaign", other.id, session=session, label="test",
                     campaign_id=other.id)
        # Sealed in the all-units scope: the chain's head is now another county's seal.
        audit_chain.seal_events(session=session)
    # Not vacuous: as the superuser, each kind of event is there.
    theirs = _count(_connection, "campaign_id = :c", c=other.id)
    heshan = units.unit_by_code(HESHAN, session=session)
    ours = _count(_connection, "campaign_id IN (SELECT c.id FROM campaign c JOIN unit u "
                  "ON u.id = c.unit_id WHERE starts_with(u.path, :p))", p=heshan.path)
    global_events = _count(_connection, "campaign_id IS NULL")
    assert theirs and _count(_connection, "campaign_id = :c", c=own.id) and global_events
    assert _seals_of(_connection, other.id)
    _connection.exec_driver_sql(f'SET LOCAL ROLE "{_probe_role(_connection)}"')
    with row_security.acting_as(heshan.path):
        assert _count(_connection, "campaign_id = :c", c=other.id) == 0
        assert _count(_connection, "campaign_id IS NULL") == 0
        assert _count(_connection, "true") == ours
        assert _seals_of(_connection, other.id) == 0
        # The county appends an event of its campaign and one without (its logout) ...
        mine = audit.record("test.own", "campaign", own.id, session=session, label="test",
                            campaign_id=own.id)
        logout = audit.record("auth.logout", "user", 2, session=session, label="test")
        assert logout > mine
        # ... and seals what it sees, chained from the head it cannot see.
        sealed = audit_chain.seal_events(session=session)
        assert sealed.sealed >= 1
        assert _count(_connection, "id = :i", i=logout) == 0
    with row_security.acting_as(ALL_UNITS):
        session.expire_all()
        check = audit_chain.verify_chain(session=session)
        assert check.intact and check.head == sealed.head
        assert check.unsealed == 1  # the logout: only the all-units scope sees and seals it
        assert audit_chain.seal_events(session=session).sealed == 1
        check = audit_chain.verify_chain(session=session)
        assert check.intact and check.unsealed == 0
        assert session.exec(select(AuditSeal).where(AuditSeal.event_id == mine)).one()


@pytest.mark.demo_data
def test_a_county_accounts_request_appends_an_event_without_campaign(
        app, client, session, _connection):
    """A county admin's logout (its event names no campaign, which its scope cannot read
    back) is appended, through the whole request, as the app's non-superuser role."""
    _postgres_only(_connection)
    admin = make_user(session, Role.ADMIN)
    unit_scope.grant_unit(admin, units.unit_by_code(HESHAN, session=session), session=session)
    session.commit()
    login(client, admin)
    _connection.exec_driver_sql(f'SET LOCAL ROLE "{_probe_role(_connection)}"')
    assert client.post("/auth/logout").status_code == 302
    with row_security.acting_as(ALL_UNITS):
        assert session.exec(select(AuditEvent).where(
            AuditEvent.action == "user.logout", AuditEvent.actor_id == admin.id)).one()


def _two_counties(url: str) -> dict[str, tuple[str, int]]:
    """Commit a city with two counties, each with a campaign: {code: (path, campaign id)}."""
    app = create_app({**TEST_SETTINGS, "DATABASE_URL": url})
    rows = [units.UnitRow(2, "430000", "湖南省", ""),
            units.UnitRow(3, "430900", "益阳市", "430000"),
            units.UnitRow(4, "430903", "赫山区", "430900"),
            units.UnitRow(5, "430902", "资阳区", "430900")]
    found = {}
    with app.app_context(), db.write() as session:
        units.import_units(rows, session=session)
        for code in ("430903", "430902"):
            unit = units.unit_by_code(code, session=session)
            campaign = make_campaign(session)
            units.assign_campaign(campaign, unit, session=session)
            found[code] = (unit.path, campaign.id)
    db.dispose(app)
    return found


def _acting(session: Session, role: str, path: str) -> None:
    connection = session.connection()
    connection.exec_driver_sql(f'SET LOCAL ROLE "{role}"')
    set_unit_path(connection, path)


def _append_and_seal(session: Session, role: str, path: str, campaign_id: int) -> int:
    _acting(session, role, path)
    event = audit.record("test.append", "campaign", campaign_id, session=session,
                         label="test", campaign_id=campaign_id)
    audit_chain.seal_events(session=session)
    return event


def test_two_counties_sealing_at_once_form_one_chain(fresh_database_url):
    if not fresh_database_url.startswith("postgresql"):
        pytest.skip("row-level security is PostgreSQL's")
    counties = _two_counties(fresh_database_url)
    role = f"survey_probe_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    engine = make_engine(fresh_database_url)
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE ROLE "{role}" NOLOGIN NOSUPERUSER NOBYPASSRLS')
    try:
        with engine.begin() as conn:
            for grant in ("USAGE ON SCHEMA public", "ALL ON ALL TABLES IN SCHEMA public",
                          "ALL ON ALL SEQUENCES IN SCHEMA public"):
                conn.exec_driver_sql(f'GRANT {grant} TO "{role}"')
        (path_a, campaign_a), (path_b, campaign_b) = counties["430903"], counties["430902"]
        first = Session(engine)
        event_a = _append_and_seal(first, role, path_a, campaign_a)  # holds the sealing lock
        outcome: dict[str, object] = {}

        def second() -> None:
            with Session(engine) as other:
                try:
                    outcome["event"] = _append_and_seal(other, role, path_b, campaign_b)
                    outcome["sees_a"] = other.exec(select(AuditEvent).where(
                        AuditEvent.campaign_id == campaign_a)).all()
                    other.commit()
                except Exception as exc:  # noqa: BLE001 - reported by the assertion below
                    outcome["error"] = exc

        thread = threading.Thread(target=second)
        thread.start()
        thread.join(timeout=2)
        assert thread.is_alive()  # waiting for the first county's seals to commit
        first.commit()
        first.close()
        thread.join(timeout=60)
        assert "error" not in outcome, outcome
        assert outcome["sees_a"] == []
        with Session(engine) as check:
            _acting(check, role, ALL_UNITS)
            result = audit_chain.verify_chain(session=check)
            sealed = check.exec(select(AuditSeal.event_id, AuditEvent.campaign_id).join(
                AuditEvent, AuditEvent.id == AuditSeal.event_id).order_by(AuditSeal.seq)).all()
        assert result.intact, result
        # The first county's seals (its campaign's events so far), then the second's,
        # chained from the first's last seal, which it could not see.
        owners = [campaign for _event, campaign in sealed]
        split = owners.index(campaign_b)
        assert set(owners[:split]) == {campaign_a} and set(owners[split:]) == {campaign_b}
        assert sealed[split - 1][0] == event_a and sealed[-1][0] == outcome["event"]
    finally:
        with engine.begin() as conn:
            conn.exec_driver_sql(f'DROP OWNED BY "{role}"')
        engine.dispose()
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP ROLE "{role}"')
        admin.dispose()
