"""Guards of the SMS provider's callbacks (review findings F14 and F15): a post carries at
most SMS_CALLBACK_MAX_RECEIPTS items (over it: 413 and nothing applied), a full batch of
receipts costs a fixed number of statements, and with SMS_CALLBACK_SIGNING_KEY set every
post needs its HMAC-SHA256 signature (unsigned or badly signed: 401, nothing applied)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from survey_app.extensions import db
from survey_app.models import MessageStatus
from survey_app.services import sms_callbacks, sms_waves
from tests.services import test_sms_outbox as outbox
from tests.services.sms_field import build_field, phone_of

stub, sms_app, sms_session = outbox.stub, outbox.sms_app, outbox.sms_session
SECRET = outbox.SECRET
SIGNING_KEY = "relay-signing-key"
REPORT, REPLY = f"/gateway/sms/report?key={SECRET}", f"/gateway/sms/reply?key={SECRET}"


def _sent(app, session, n: int):
    field = build_field(session, n)
    with db.write() as write:
        sms_waves.create_wave(outbox._campaign(write, field), session=write)
    outbox._send(app)
    return field


def _statuses(session, field) -> dict[str, str]:
    return {m.client_ref: m.status for m in outbox._messages(session, field.campaign_id)}


class _Statements:
    """Counts the statements that touch the outbox while it is entered."""

    def __enter__(self):
        self.count = 0
        event.listen(Engine, "before_cursor_execute", self._seen)
        return self

    def _seen(self, conn, cursor, statement, parameters, context, executemany):
        self.count += "outboxmessage" in statement.lower()

    def __exit__(self, *exc):
        event.remove(Engine, "before_cursor_execute", self._seen)


def test_a_post_over_the_cap_is_refused_whole_with_413(sms_app, sms_session, stub):
    field = _sent(sms_app, sms_session, 5)
    (first,) = stub.ledger
    cap = sms_app.config["SMS_CALLBACK_MAX_RECEIPTS"]
    assert cap == 1000
    receipts = [{"out_id": first.out_id, "success": True}] + [
        {"out_id": f"unknown-{i}", "success": True} for i in range(cap)]
    answer = sms_app.test_client().post(REPORT, json=receipts)
    assert answer.status_code == 413
    assert answer.json["error"] == "too_many" and answer.json["max"] == cap
    assert answer.json["code"] != 0  # the provider keeps the batch and pushes it again
    assert _statuses(sms_session, field) == {first.out_id: MessageStatus.SENT}
    replies = [{"phone_number": phone_of(4), "content": "TD"}] * (cap + 1)
    assert sms_app.test_client().post(REPLY, json=replies).status_code == 413
    fits = sms_app.test_client().post(REPORT, json=receipts[:cap])
    assert fits.status_code == 200 and fits.json["applied"] == 1


def test_a_full_batch_costs_the_same_statements_as_a_small_one(sms_app, sms_session, stub):
    field = _sent(sms_app, sms_session, 10)
    client = sms_app.test_client()

    half = len(stub.ledger) // 2

    def statements(messages, unknown):
        receipts = [{"out_id": m.out_id, "biz_id": m.biz_id, "success": True}
                    for m in messages] + [{"out_id": f"x-{i}", "biz_id": f"b-{i}"}
                                          for i in range(unknown)]
        with _Statements() as seen:
            assert client.post(REPORT, json=receipts).status_code == 200
        return seen.count

    small = statements(stub.ledger[:half], 5)
    full = statements(stub.ledger[half:], 1000 - len(stub.ledger[half:]))
    assert full == small <= 2, (small, full)  # one read, one (executemany) update
    assert set(_statuses(sms_session, field).values()) == {MessageStatus.DELIVERED}


def test_receipts_of_one_message_in_one_batch_apply_in_order(sms_app, sms_session, stub):
    # A failure then a delivery: delivered. A delivery then a failure: still delivered (a
    # receipt never undoes a delivery), as when they come in separate posts.
    field = build_field(sms_session, 15)
    with db.write() as write:
        sms_waves.create_wave(outbox._campaign(write, field), session=write)
    outbox._send(sms_app)
    one, two = stub.ledger[:2]
    answer = sms_app.test_client().post(REPORT, json=[
        {"out_id": one.out_id, "success": False, "err_code": "MK:0001"},
        {"biz_id": one.biz_id, "success": True},
        {"out_id": two.out_id, "success": True},
        {"out_id": two.out_id, "success": False, "err_code": "MK:0002"}])
    assert (answer.json["applied"], answer.json["ignored"]) == (3, 1)
    statuses = _statuses(sms_session, field)
    assert statuses[one.out_id] == statuses[two.out_id] == MessageStatus.DELIVERED


def _signed(body: bytes, key: str = SIGNING_KEY, at: int | None = None) -> dict[str, str]:
    """The header of README's format: ``t=<unix seconds>,sha256=<hex HMAC-SHA256 of
    "<t>." followed by the raw body>``."""
    stamp = str(int(time.time()) if at is None else at)
    digest = hmac.new(key.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return {"Content-Type": "application/json",
            "X-Survey-Signature": f"t={stamp},sha256={digest}"}


@pytest.fixture
def signed_app(make_app, stub):
    from tests.services import sms_stub

    return make_app(SMS_CALLBACK_SECRET=SECRET, SMS_CALLBACK_SIGNING_KEY=SIGNING_KEY,
                    **sms_stub.gateway_settings(stub.url))


def test_with_a_signing_key_unsigned_or_badly_signed_posts_are_refused(
        signed_app, sms_session, stub):
    field = _sent(signed_app, sms_session, 5)
    (message,) = stub.ledger
    body = json.dumps([{"out_id": message.out_id, "success": True}]).encode()
    client = signed_app.test_client()
    refused = [
        client.post(REPORT, data=body, content_type="application/json"),
        client.post(REPORT, data=body, headers=_signed(body, "another-key")),
        client.post(REPORT, data=body + b" ", headers=_signed(body)),  # body changed
        client.post(REPORT, data=body, headers={**_signed(body),
                                               "X-Survey-Signature": "sha256=zz"}),
        client.post(REPORT, data=body, headers={
            **_signed(body), "X-Survey-Signature": _signed(body)["X-Survey-Signature"][7:]}),
        # The body's HMAC without a timestamp (the format before timestamps) is replayable.
        client.post(REPORT, data=body, headers={
            "Content-Type": "application/json", "X-Survey-Signature": "sha256=" + hmac.new(
                SIGNING_KEY.encode(), body, hashlib.sha256).hexdigest()}),
    ]
    assert [r.status_code for r in refused] == [401] * 6
    assert all(r.json["error"] == "signature" for r in refused)
    assert _statuses(sms_session, field) == {message.out_id: MessageStatus.SENT}
    reply = json.dumps([{"phone_number": phone_of(4), "content": "TD"}]).encode()
    assert client.post(REPLY, data=reply, content_type="application/json").status_code == 401
    assert client.post("/gateway/sms/report?key=wrong", data=body,
                       headers=_signed(body)).status_code == 403  # the URL secret still counts
    accepted = client.post(REPORT, data=body, headers=_signed(body))
    assert accepted.status_code == 200 and accepted.json["applied"] == 1
    assert _statuses(sms_session, field) == {message.out_id: MessageStatus.DELIVERED}
    assert client.post(REPLY, data=reply, headers=_signed(reply)).status_code == 200


def test_without_a_signing_key_a_signature_is_not_needed(sms_app, sms_session, stub):
    _sent(sms_app, sms_session, 5)
    (message,) = stub.ledger
    answer = sms_app.test_client().post(REPORT, json=[{"out_id": message.out_id,
                                                       "success": True}])
    assert answer.status_code == 200 and answer.json["applied"] == 1


def test_a_body_over_the_size_limit_is_a_json_413_too(sms_app):
    limit = sms_app.config["MAX_CONTENT_LENGTH"]
    answer = sms_app.test_client().post(REPORT, data=b"[" + b" " * limit + b"]",
                                        content_type="application/json")
    assert answer.status_code == 413 and answer.is_json


def test_a_signed_post_is_accepted_once_and_within_five_minutes_of_its_timestamp(
        signed_app, sms_session, stub):
    """A captured signed post cannot be replayed: its timestamp is signed with the body,
    a stale one is 401 "stale", the same signature again 409 "replayed" (a replayed TD
    would opt a household out again after a roster re-import)."""
    _sent(signed_app, sms_session, 5)
    client = signed_app.test_client()
    reply = json.dumps([{"phone_number": phone_of(4), "content": "TD"}]).encode()
    now = int(time.time())
    for stale in (now - 301, now + 301):
        refused = client.post(REPLY, data=reply, headers=_signed(reply, at=stale))
        assert (refused.status_code, refused.json["error"]) == (401, "stale")
    # Changing the signed timestamp breaks the signature.
    headers = _signed(reply, at=now - 301)
    headers["X-Survey-Signature"] = headers["X-Survey-Signature"].replace(
        f"t={now - 301}", f"t={now}")
    assert client.post(REPLY, data=reply, headers=headers).json["error"] == "signature"
    (household,) = sms_callbacks.households_of_phone(
        phone_of(4), pii_key=signed_app.config["PII_KEY"], session=sms_session)
    assert household.sms_opted_out_at is None
    captured = _signed(reply, at=now - 200)
    assert client.post(REPLY, data=reply, headers=captured).status_code == 200
    sms_session.refresh(household)
    assert household.sms_opted_out_at is not None
    household.sms_opted_out_at = None  # the roster re-imported: the household opted in again
    sms_session.add(household)
    sms_session.flush()
    replayed = client.post(REPLY, data=reply, headers=captured)
    assert (replayed.status_code, replayed.json["error"]) == (409, "replayed")
    sms_session.refresh(household)
    assert household.sms_opted_out_at is None
    # A fresh signature of the same body is a new post.
    assert client.post(REPLY, data=reply, headers=_signed(reply)).status_code == 200


def test_accepted_signatures_are_forgotten_once_their_timestamp_leaves_the_window(
        sms_session):
    from datetime import timedelta

    from sqlmodel import func, select

    from survey_app.models import SmsCallbackSignature, utcnow
    from survey_app.services import sms_callback_signatures as signatures

    now = utcnow()
    for n, age in enumerate((400, 100)):
        signatures.claim(signatures.SignedPost(f"{n:064d}", now - timedelta(seconds=age)),
                         session=sms_session, now=now - timedelta(seconds=age),
                         window_seconds=300)
    signatures.claim(signatures.SignedPost("f" * 64, now), session=sms_session, now=now,
                     window_seconds=300)
    kept = sms_session.exec(select(SmsCallbackSignature.digest)).all()
    assert sorted(kept) == [f"{1:064d}", "f" * 64]
    with pytest.raises(signatures.SignatureRefused) as refused:
        signatures.claim(signatures.SignedPost("f" * 64, now), session=sms_session, now=now,
                         window_seconds=300)
    assert (refused.value.error, refused.value.status) == ("replayed", 409)
    assert sms_session.exec(select(func.count()).select_from(SmsCallbackSignature)).one() == 2
