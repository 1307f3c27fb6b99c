"""SMS invitations and reminders through the outbox (issue 21 item 4), against a local stub
of Alibaba Cloud's SMS HTTP API (tests/services/sms_stub.py): who a wave reaches, the
preview, one message per household and wave, quiet hours with a fake clock, the provider's
callbacks (receipts, TD), and no phone number in any log line.

The SIGKILL test of the sender process is in test_sms_crash.py.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from survey_app.extensions import db
from survey_app.models import AuditEvent, Household, MessageStatus, OutboxMessage, Response
from survey_app.services import sms_callbacks, sms_gateways, sms_sender, sms_waves
from survey_app.services.answer_copies import answer_copies
from survey_app.services.sms_gateways import GatewayError, rpc_signature
from tests.fixtures.settings import TEST_SETTINGS
from tests.services import sms_stub
from tests.services.sms_field import build_field

SECRET = "callback-secret"
# 10:00 and 22:00 in Beijing.
DAY, NIGHT = datetime(2021, 12, 1, 2, 0, tzinfo=UTC), datetime(2021, 12, 1, 14, 0, tzinfo=UTC)


def test_the_request_signature_is_alibaba_clouds_worked_example():
    # Alibaba Cloud SMS documentation, 签名机制 (help.aliyun.com/document_detail/56189):
    # GET with AccessKeySecret "testSecret" gives zJDF+Lrzhj/ThnlvIToysFRq6t4=.
    params = {"AccessKeyId": "testId", "Action": "SendSms", "Format": "XML", "OutId": "123",
              "PhoneNumbers": "15300000001", "RegionId": "cn-hangzhou",
              "SignName": "阿里云短信测试专用", "SignatureMethod": "HMAC-SHA1",
              "SignatureNonce": "45e25e9b-0a6f-4070-8c85-2956eda1b466",
              "SignatureVersion": "1.0", "TemplateCode": "SMS_71390007",
              "TemplateParam": '{"customer":"test"}', "Timestamp": "2017-07-12T02:42:19Z",
              "Version": "2017-05-25"}
    assert rpc_signature(params, secret="testSecret", method="GET") == \
        "zJDF+Lrzhj/ThnlvIToysFRq6t4="


@pytest.fixture
def stub():
    provider = sms_stub.SmsStub()
    server, url = sms_stub.start(provider)
    provider.url = url
    yield provider
    provider.release()
    server.shutdown()
    server.server_close()


@pytest.fixture
def sms_app(make_app, stub):
    return make_app(SMS_CALLBACK_SECRET=SECRET, **sms_stub.gateway_settings(stub.url))


@pytest.fixture
def sms_session(sms_app):
    with sms_app.app_context():
        yield db.session


def _send(app, *, clock=lambda: DAY, **settings):
    gateway = sms_gateways.gateway_from_config(app.config, app.instance_path)
    return sms_sender.send_pass(
        write=db.write, gateway=gateway, clock=clock,
        settings=sms_sender.SenderSettings(
            contact_key=TEST_SETTINGS["CONTACT_KEY"], base_url="http://survey.test",
            sign_name=app.config["SMS_SIGN_NAME"], **settings))


def _messages(session, campaign_id):
    return session.exec(select(OutboxMessage).where(OutboxMessage.campaign_id == campaign_id)
                        .execution_options(populate_existing=True)).all()


def _campaign(session, field):
    from survey_app.models import Campaign

    return session.get(Campaign, field.campaign_id)


def test_the_preview_counts_who_is_reached_and_shows_the_text_without_phone_or_link(
        sms_session):
    field = build_field(sms_session, 40)
    preview = sms_waves.preview_wave(_campaign(sms_session, field), session=sms_session,
                                     base_url="http://survey.test", sign_name="鹤山区住建局")
    assert (preview.number, preview.kind, preview.households) == (0, "invitation", 24)
    assert preview.left_out == {"answered": 4, "opted_out": 4, "no_mobile": 8, "no_link": 0}
    assert preview.text.startswith(
        "【鹤山区住建局】鹤山区住房和城乡建设局邀请您参加鹤山区满意度调查")
    assert "http://survey.test/s/••••••••" in preview.text and preview.segments == 2
    assert not any(phone in preview.text for phone in field.phones)
    assert sms_session.exec(select(OutboxMessage)).all() == []  # a preview writes nothing


def test_a_wave_to_500_households_sends_exactly_one_message_to_each_eligible_one(
        sms_app, sms_session, stub, caplog):
    caplog.set_level(logging.DEBUG)
    field = build_field(sms_session, 500)
    with db.write() as session:
        wave = sms_waves.create_wave(_campaign(session, field), session=session)
    assert wave.messages == len(field.eligible) == 300

    result = _send(sms_app)

    assert result.counts == {"sent": 300} and not result.quiet
    sent = {a.out_id: a for a in stub.ledger}
    assert len(stub.ledger) == len(sent) == 300  # none twice
    expected = {sms_waves.client_ref(field.campaign_id, h, 0): phone
                for h, phone in field.eligible.items()}
    assert {ref: a.phone for ref, a in sent.items()} == expected  # none to the others
    assert stub.bad_signatures == 0 and stub.lookups == 0
    first = stub.ledger[0]
    assert (first.template_code, first.sign_name) == ("SMS_100000001", "鹤山区住建局")
    assert first.params["link"].startswith("http://survey.test/s/")
    ledger = {m.client_ref: m for m in _messages(sms_session, field.campaign_id)}
    assert {m.status for m in ledger.values()} == {MessageStatus.SENT}
    assert {ref: m.provider_message_id for ref, m in ledger.items()} == \
        {ref: a.biz_id for ref, a in sent.items()}
    # A second pass finds nothing to do; the wave cannot be written twice for a household.
    assert _send(sms_app).handled == 0
    message = next(iter(ledger.values()))
    with pytest.raises(IntegrityError), db.write() as session:
        session.add(OutboxMessage(campaign_id=message.campaign_id,
                                  household_id=message.household_id, wave_id=wave.id,
                                  wave_number=0, client_ref="another"))
    # No phone number in any log line (and no survey token either).
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert not any(phone in logged for phone in field.phones)
    assert "/s/" not in logged or "/s/<token>" in logged


def test_no_message_leaves_in_quiet_hours_and_a_pass_stops_when_they_begin(
        sms_app, sms_session, stub):
    field = build_field(sms_session, 30)
    with db.write() as session:
        sms_waves.create_wave(_campaign(session, field), session=session)

    at_night = _send(sms_app, clock=lambda: NIGHT)
    assert at_night.quiet and at_night.handled == 0 and stub.ledger == []

    ticks = iter(DAY.replace(hour=12, minute=59, second=55) + timedelta(seconds=s)
                 for s in range(10_000))  # 20:59:55 Beijing, one second per reading
    evening = _send(sms_app, clock=lambda: next(ticks), batch=4)
    assert evening.quiet and 0 < len(stub.ledger) < len(field.eligible)
    statuses = [m.status for m in _messages(sms_session, field.campaign_id)]
    assert MessageStatus.SENDING not in statuses  # claimed ones given back
    assert statuses.count(MessageStatus.SENT) == len(stub.ledger)

    morning = _send(sms_app, clock=lambda: DAY.replace(hour=0))  # 08:00 Beijing
    assert not morning.quiet
    assert sorted(a.out_id for a in stub.ledger) == sorted(
        sms_waves.client_ref(field.campaign_id, h, 0) for h in field.eligible)


def test_households_that_answer_or_opt_out_after_the_wave_are_not_messaged(
        sms_app, sms_session, stub):
    field = build_field(sms_session, 20)
    campaign = _campaign(sms_session, field)
    with db.write() as session:
        sms_waves.create_wave(campaign, session=session)
    answering, replying, *_ = field.eligible
    version = sms_session.exec(select(Response)).first().questionnaire_version_id
    from survey_app.models import QuestionnaireVersion
    from survey_app.services import questionnaire_versions

    questionnaire = questionnaire_versions.questionnaire_of(
        sms_session.get(QuestionnaireVersion, version))
    with db.write() as session:
        session.add(Response(campaign_id=campaign.id, household_id=answering,
                             household_group="relocated", questionnaire_version_id=version,
                             mode="paper", instance_id="late", **answer_copies({}, questionnaire)))
    client = sms_app.test_client()
    reply = client.post(f"/gateway/sms/reply?key={SECRET}", json=[
        {"phone_number": field.eligible[replying], "content": " td ", "sign_name": "x"}])
    assert reply.status_code == 200 and reply.json["code"] == 0

    result = _send(sms_app)

    assert result.counts == {"sent": len(field.eligible) - 2, "cancelled": 1}
    ledger = {m.household_id: m for m in _messages(sms_session, field.campaign_id)}
    assert ledger[answering].status == MessageStatus.CANCELLED
    assert ledger[answering].error == "answered"
    assert ledger[replying].status == MessageStatus.CANCELLED  # cancelled by the reply
    assert sms_session.get(Household, replying).sms_opted_out_at is not None
    event = sms_session.exec(select(AuditEvent).where(AuditEvent.action == "sms.opt_out")).one()
    assert field.eligible[replying] not in str(event.details)
    # The reminder leaves both out.
    preview = sms_waves.preview_wave(campaign, session=sms_session, base_url="http://x",
                                     sign_name="")
    assert (preview.kind, preview.households) == ("reminder", len(field.eligible) - 2)


def test_delivery_receipts_update_the_outbox_and_the_callbacks_need_the_secret(
        sms_app, make_app, sms_session, stub):
    field = build_field(sms_session, 10)
    with db.write() as session:
        sms_waves.create_wave(_campaign(session, field), session=session)
    _send(sms_app)
    delivered, lost = stub.ledger[:2]
    client = sms_app.test_client()
    receipts = [{"out_id": delivered.out_id, "biz_id": delivered.biz_id, "success": True,
                 "err_code": "DELIVERED", "phone_number": delivered.phone},
                {"biz_id": lost.biz_id, "success": False, "err_code": "MK:0001"},
                {"out_id": "unknown", "success": True}]
    assert client.post("/gateway/sms/report", json=receipts).status_code == 403
    assert client.post("/gateway/sms/report?key=wrong", json=receipts).status_code == 403
    assert client.post(f"/gateway/sms/report?key={SECRET}", data="x").status_code == 400
    answer = client.post(f"/gateway/sms/report?key={SECRET}", json=receipts)
    assert answer.status_code == 200 and (answer.json["applied"], answer.json["ignored"]) == (2, 1)
    ledger = {m.client_ref: m for m in _messages(sms_session, field.campaign_id)}
    assert ledger[delivered.out_id].status == MessageStatus.DELIVERED
    assert (ledger[lost.out_id].status, ledger[lost.out_id].error) == ("failed", "MK:0001")
    unconfigured = make_app(SMS_CALLBACK_SECRET="").test_client()
    assert unconfigured.post("/gateway/sms/report?key=", json=[]).status_code == 404


def test_a_transient_refusal_is_tried_again_and_asks_the_provider_first(
        sms_app, sms_session, stub, monkeypatch):
    field = build_field(sms_session, 10)
    with db.write() as session:
        sms_waves.create_wave(_campaign(session, field), session=session)
    real = stub._send
    calls = {"n": 0}

    def throttled(form):
        calls["n"] += 1
        if calls["n"] == 1:  # accepted, but the answer says "throttled" (worst case)
            real(form)
            return {"Code": "isv.BUSINESS_LIMIT_CONTROL"}
        return real(form)

    monkeypatch.setattr(stub, "_send", throttled)
    first = _send(sms_app)
    assert first.counts == {"retry": 1, "sent": len(field.eligible) - 1}
    second = _send(sms_app)
    assert second.counts == {"found": 1} and stub.lookups == 1
    assert len({a.out_id for a in stub.ledger}) == len(stub.ledger) == len(field.eligible)


def test_a_wave_is_refused_for_a_campaign_not_in_the_field(sms_session):
    field = build_field(sms_session, 5)
    campaign = _campaign(sms_session, field)
    campaign.status = "closed"
    with pytest.raises(sms_waves.WaveRefused) as refused:
        sms_waves.create_wave(campaign, session=sms_session)
    assert refused.value.reason == "not_open"


def test_a_message_refused_again_and_again_is_given_up_after_a_last_lookup(
        sms_app, sms_session, stub, monkeypatch):
    field = build_field(sms_session, 5)  # only household 4 is eligible
    with db.write() as session:
        sms_waves.create_wave(_campaign(session, field), session=session)
    monkeypatch.setattr(stub, "_send", lambda form: {"Code": "isv.BUSINESS_LIMIT_CONTROL"})

    outcomes = [_send(sms_app, max_attempts=2).counts for _ in range(3)]

    assert outcomes == [{"retry": 1}, {"retry": 1}, {"failed": 1}]
    assert stub.lookups == 2  # before the second try and before giving up
    (message,) = _messages(sms_session, field.campaign_id)
    assert (message.status, message.error, message.attempts) == ("failed", "attempts", 3)


def test_guessing_the_callback_secret_is_limited(make_app, stub):
    app = make_app(SMS_CALLBACK_SECRET=SECRET, RATELIMIT_ENABLED=True,
                   TOKEN_RATE_LIMIT="3 per minute", SMS_CALLBACK_RATE_LIMIT="2 per minute")
    client = app.test_client()
    wrong = [client.post("/gateway/sms/report?key=guess", json=[]).status_code
             for _ in range(4)]
    assert wrong == [403, 403, 403, 429]
    other = app.test_client()
    right = [other.post(f"/gateway/sms/report?key={SECRET}", json=[],
                        environ_base={"REMOTE_ADDR": "10.0.0.9"}).status_code
             for _ in range(3)]
    assert right == [200, 200, 429]


# A delivery receipt that arrives while the sender still waits for the provider's answer
# (receipts come within seconds; a slow SendSms answer or a timeout can be slower) is kept.
@dataclass
class ReceiptDuringSend:
    """The real gateway, with the provider's receipt pushed before ``send`` returns."""

    real: sms_gateways.Gateway
    success: bool
    then_raise: GatewayError | None = None
    name: str = "race"

    def send(self, request):
        message_id = self.real.send(request)
        with db.write() as session:
            sms_callbacks.apply_receipts([{"out_id": request.client_ref,
                                           "success": self.success, "err_code": "MK:0001"}],
                                         session=session)
        if self.then_raise is not None:
            raise self.then_raise
        return message_id

    def find(self, request):
        return self.real.find(request)


@pytest.mark.parametrize(("success", "then_raise", "expected"), [
    (True, None, MessageStatus.DELIVERED),
    (False, None, MessageStatus.FAILED),
    (True, GatewayError("network", transient=True), MessageStatus.DELIVERED),
])
def test_a_receipt_pushed_during_the_send_is_not_overwritten(
        sms_app, sms_session, stub, monkeypatch, success, then_raise, expected):
    field = build_field(sms_session, 5)
    with db.write() as session:
        sms_waves.create_wave(_campaign(session, field), session=session)
    real_factory = sms_gateways.gateway_from_config
    monkeypatch.setattr(sms_gateways, "gateway_from_config", lambda config, path: (
        ReceiptDuringSend(real_factory(config, path), success, then_raise)))

    _send(sms_app)

    (message,) = _messages(sms_session, field.campaign_id)
    assert message.status == expected
    assert message.claim is None


def test_callbacks_with_nul_characters_or_odd_types_apply_the_rest(
        sms_app, sms_session, stub):
    # PostgreSQL cannot compare text holding NUL: one such receipt failed the whole batch.
    field = build_field(sms_session, 5)
    with db.write() as session:
        sms_waves.create_wave(_campaign(session, field), session=session)
    _send(sms_app)
    (sent,) = stub.ledger
    client = sms_app.test_client()
    answer = client.post(f"/gateway/sms/report?key={SECRET}", json=[
        {"out_id": "a\u0000", "success": True}, {"biz_id": "\u0000", "success": False},
        {"out_id": ["x"]}, {"out_id": sent.out_id, "success": True, "err_code": "\u0000"}])
    assert answer.status_code == 200 and answer.json["applied"] == 1
    replies = client.post(f"/gateway/sms/reply?key={SECRET}", json=[
        {"phone_number": "\u0000", "content": "TD\u0000"}, {"content": ["TD"]}])
    assert replies.status_code == 200
    (message,) = _messages(sms_session, field.campaign_id)
    assert message.status == MessageStatus.DELIVERED


def test_a_receipt_after_a_timeout_marks_the_message_delivered_and_it_is_not_sent_again(
        sms_app, sms_session, stub, monkeypatch):
    # The provider accepted the message but its answer timed out (back to pending, to be
    # looked up); the delivery receipt that follows is the answer the sender lacked.
    field = build_field(sms_session, 5)
    with db.write() as session:
        sms_waves.create_wave(_campaign(session, field), session=session)
    real = stub._send

    def accepted_then_timeout(form):
        real(form)
        return {"Code": "isp.SYSTEM_ERROR"}

    monkeypatch.setattr(stub, "_send", accepted_then_timeout)
    assert _send(sms_app).counts == {"retry": 1}
    (accepted,) = stub.ledger
    answer = sms_app.test_client().post(f"/gateway/sms/report?key={SECRET}", json=[
        {"out_id": accepted.out_id, "biz_id": accepted.biz_id, "success": True}])
    assert answer.json["applied"] == 1
    monkeypatch.setattr(stub, "_send", real)
    assert _send(sms_app).counts == {}
    (message,) = _messages(sms_session, field.campaign_id)
    assert message.status == MessageStatus.DELIVERED and len(stub.ledger) == 1
