"""The hash chain over the audit trail (issue 16, item 9): a superuser's edit is found."""

import hashlib
import json
from datetime import UTC

import pytest
from sqlalchemy import text
from sqlmodel import select

from survey_app.models import AuditEvent, AuditSeal
from survey_app.services import audit, audit_chain
from tests.factories import make_campaign


def _events(session, count, start=0):
    return [audit.record("test.event", "thing", n, session=session, label="test",
                         details={"n": n, "名称": "桃花仑"}) for n in range(start, start + count)]


def _as_superuser(session, *statements, **params):
    """Run ``statements`` as a database superuser could: append-only triggers and foreign
    keys out of the way (inside the test's transaction: its rollback brings them back)."""
    if session.get_bind().dialect.name == "postgresql":
        session.exec(text("SET LOCAL session_replication_role = replica"))
    else:
        session.exec(text("PRAGMA defer_foreign_keys = ON"))
        for trigger in ("auditevent_no_update", "auditevent_no_delete",
                        "auditseal_no_update", "auditseal_no_delete"):
            session.exec(text(f"DROP TRIGGER {trigger}"))
    for statement in statements:
        session.exec(text(statement).bindparams(**params))
    session.expire_all()


def _utc_iso(at):
    at = at if at.tzinfo is not None else at.replace(tzinfo=UTC)
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def test_each_seal_hashes_the_previous_one_and_its_event(session):
    ids = _events(session, 3)
    result = audit_chain.seal_events(session=session)
    seals = session.exec(select(AuditSeal).order_by(AuditSeal.seq)).all()
    sealed = [s for s in seals if s.event_id in ids]
    assert result.sealed == len(seals) and len(sealed) == 3
    # Independent recomputation with hashlib and json from the stored rows.
    previous = audit_chain.GENESIS
    for seal in seals:
        event = session.get(AuditEvent, seal.event_id)
        content = json.dumps(
            {"id": event.id, "at": _utc_iso(event.at), "actor_id": event.actor_id,
             "actor_label": event.actor_label, "action": event.action,
             "object_type": event.object_type, "object_id": event.object_id,
             "campaign_id": event.campaign_id, "reason": event.reason,
             "details": event.details},
            sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()
        previous = hashlib.sha256(previous.encode() + content).hexdigest()
        assert seal.chain_hash == previous
    assert result.head == previous
    assert audit_chain.seal_events(session=session).sealed == 0  # nothing left to seal


def test_an_intact_chain_verifies_and_counts_what_is_not_sealed_yet(session):
    _events(session, 4)
    audit_chain.seal_events(session=session)
    _events(session, 2, start=10)
    check = audit_chain.verify_chain(session=session)
    assert check.intact and check.unsealed == 2
    assert check.head == session.exec(select(AuditSeal.chain_hash).order_by(
        AuditSeal.seq.desc())).first()


@pytest.mark.parametrize(("statements", "offset", "reason"), [
    (["UPDATE auditevent SET details = '{\"n\": 99}' WHERE id = :id"], 0, "changed"),
    (["UPDATE auditevent SET actor_label = 'user:nobody' WHERE id = :id"], 0, "changed"),
    (["DELETE FROM auditevent WHERE id = :id"], 0, "missing"),
    # Removing the event with its seal breaks the link of the next event.
    (["DELETE FROM auditseal WHERE event_id = :id", "DELETE FROM auditevent WHERE id = :id"],
     1, "changed"),
    # One hex digit of the seal changed (to another digit, whatever it was).
    (["UPDATE auditseal SET chain_hash = CASE WHEN substr(chain_hash, 1, 1) = '0' THEN '1' "
      "ELSE '0' END || substr(chain_hash, 2) WHERE event_id = :id"], 0, "changed"),
])
def test_a_superusers_edit_is_named_at_its_event(session, statements, offset, reason):
    ids = _events(session, 5)
    audit_chain.seal_events(session=session)
    assert audit_chain.verify_chain(session=session).intact
    _as_superuser(session, *statements, id=ids[2])
    check = audit_chain.verify_chain(session=session)
    assert not check.intact
    assert check.broken_event_id == ids[2 + offset]
    assert reason in check.reason


def test_a_scores_snapshot_is_anchored_in_the_chain(session):
    campaign = make_campaign(session)
    result = audit_chain.anchor_snapshot(campaign.id, "ab" * 32, session=session)
    event = session.exec(select(AuditEvent).where(
        AuditEvent.action == "scores.snapshot")).one()
    assert event.details == {"snapshot": "ab" * 32, "for": "scores"}
    seal = session.exec(select(AuditSeal).where(AuditSeal.event_id == event.id)).one()
    assert seal.chain_hash == result.head


def test_seals_are_append_only(session):
    _events(session, 1)
    audit_chain.seal_events(session=session)
    with pytest.raises(Exception, match="append-only"):
        session.exec(text("UPDATE auditseal SET chain_hash = 'x'"))


def test_the_cli_seals_verifies_and_names_the_broken_event(runner, session):
    ids = _events(session, 3)
    result = runner.invoke(args=["audit", "seal"])
    assert result.exit_code == 0 and "sealed" in result.output
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0 and "intact" in result.output
    _as_superuser(session, "UPDATE auditevent SET reason = 'rewritten' WHERE id = :id",
                  id=ids[1])
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"event {ids[1]}" in result.output
