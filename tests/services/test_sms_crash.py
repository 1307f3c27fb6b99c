"""The outbox sender killed with SIGKILL mid-wave and started again sends no message twice
and loses none (issue 21, done when): ``survey-app outbox send --once`` runs as a process
against a committed database and a local stub of Alibaba Cloud's SMS API; the stub holds
the answer to its 120th message, the test kills the sender while it waits (the provider has
the message, the outbox still says ``sending``), then runs a second sender to the end and
compares the outbox with the stub's ledger.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlmodel import select

from survey_app import create_app
from survey_app.extensions import db
from survey_app.models import Campaign, MessageStatus, OutboxMessage
from survey_app.services import sms_waves
from tests.fixtures.settings import TEST_SETTINGS
from tests.services import sms_stub
from tests.services.sms_field import build_field

SURVEY_APP = str(Path(sys.executable).parent / "survey-app")
CLAIM_TIMEOUT = 2


def _environment(url: str, endpoint: str) -> dict[str, str]:
    settings = {"DATABASE_URL": url, "SECRET_KEY": "s" * 32, "PII_KEY": TEST_SETTINGS["PII_KEY"],
                "CONTACT_KEY": TEST_SETTINGS["CONTACT_KEY"],
                "PUBLIC_BASE_URL": "http://survey.test", "SMS_QUIET_HOURS": "",
                "SMS_CLAIM_TIMEOUT_SECONDS": str(CLAIM_TIMEOUT),
                **{k: str(v) for k, v in sms_stub.gateway_settings(endpoint).items()},
                "SMS_HTTP_TIMEOUT_SECONDS": "60"}
    return {**os.environ, **{f"SURVEY_{k}": v for k, v in settings.items()}}


def _ledger(url: str, campaign_id: int) -> dict[str, OutboxMessage]:
    app = create_app({**TEST_SETTINGS, "DATABASE_URL": url})
    with app.app_context():
        rows = db.session.exec(select(OutboxMessage).where(
            OutboxMessage.campaign_id == campaign_id)).all()
    db.dispose(app)
    return {m.client_ref: m for m in rows}


@pytest.mark.slow
def test_a_sender_killed_mid_wave_and_restarted_sends_none_twice_and_loses_none(
        fresh_database_url):
    provider = sms_stub.SmsStub(hold_at=120)
    server, endpoint = sms_stub.start(provider)
    builder = create_app({**TEST_SETTINGS, "DATABASE_URL": fresh_database_url})
    with builder.app_context(), db.write() as session:
        field = build_field(session, 500)
        sms_waves.create_wave(session.get(Campaign, field.campaign_id), session=session)
    db.dispose(builder)
    environment = _environment(fresh_database_url, endpoint)
    try:
        first = subprocess.Popen([SURVEY_APP, "outbox", "send", "--once"], env=environment,
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        assert provider.held.wait(120), first.communicate(timeout=5)
        first.send_signal(signal.SIGKILL)
        first_output = first.communicate(timeout=30)[0].decode()
        provider.release()
        assert first.returncode == -signal.SIGKILL
        killed = _ledger(fresh_database_url, field.campaign_id)
        in_flight = [m for m in killed.values() if m.status == MessageStatus.SENDING]
        assert in_flight and len(provider.ledger) == 120  # accepted, not recorded as sent

        time.sleep(CLAIM_TIMEOUT + 0.5)  # the dead sender's claims expire
        second = subprocess.run([SURVEY_APP, "outbox", "send", "--once"], env=environment,
                                capture_output=True, text=True, timeout=300)
        assert second.returncode == 0, second.stdout + second.stderr
    finally:
        provider.release()
        server.shutdown()
        server.server_close()

    ledger = _ledger(fresh_database_url, field.campaign_id)
    sent_to = Counter(accepted.out_id for accepted in provider.ledger)
    expected = {sms_waves.client_ref(field.campaign_id, h, 0): p for h, p in field.eligible.items()}
    assert max(sent_to.values()) == 1  # no duplicate
    assert set(sent_to) == set(expected) == set(ledger)  # none lost, none to the others
    assert {a.out_id: a.phone for a in provider.ledger} == expected
    assert {m.status for m in ledger.values()} == {MessageStatus.SENT}
    held = provider.ledger[119].out_id
    assert ledger[held].error == "found" and ledger[held].attempts == 2
    assert provider.lookups == len(in_flight)  # only the interrupted ones were looked up
    for ref, message in ledger.items():
        if message.provider_message_id is not None:
            assert next(a.biz_id for a in provider.ledger if a.out_id == ref) == \
                message.provider_message_id
    output = first_output + second.stdout + second.stderr
    assert "sent" in second.stdout
    assert not any(phone in output for phone in field.phones)


@pytest.mark.slow
def test_two_senders_at_once_share_the_wave_without_sending_anything_twice(
        fresh_database_url):
    provider = sms_stub.SmsStub()
    server, endpoint = sms_stub.start(provider)
    builder = create_app({**TEST_SETTINGS, "DATABASE_URL": fresh_database_url})
    with builder.app_context(), db.write() as session:
        field = build_field(session, 200)
        sms_waves.create_wave(session.get(Campaign, field.campaign_id), session=session)
    db.dispose(builder)
    environment = _environment(fresh_database_url, endpoint)
    try:
        senders = [subprocess.Popen([SURVEY_APP, "outbox", "send", "--once"],
                                    env=environment, stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT, text=True) for _ in range(2)]
        outputs = [sender.communicate(timeout=300)[0] for sender in senders]
    finally:
        server.shutdown()
        server.server_close()
    assert [sender.returncode for sender in senders] == [0, 0], outputs
    sent_to = Counter(accepted.out_id for accepted in provider.ledger)
    assert max(sent_to.values()) == 1 and len(sent_to) == len(field.eligible)
    ledger = _ledger(fresh_database_url, field.campaign_id)
    assert {m.status for m in ledger.values()} == {MessageStatus.SENT}
    assert provider.lookups == 0  # no claim was taken from a live sender
