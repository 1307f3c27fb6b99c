"""``/gateway/sms/report`` and ``/gateway/sms/reply``: Alibaba Cloud's HTTP pushes of
delivery receipts (SmsReport) and replies (SmsUp), see ``services.sms_callbacks``.

The provider signs nothing it pushes, so the configured URL carries a shared secret
(``?key=<SMS_CALLBACK_SECRET>``, masked in logs): a wrong or missing key is 403 and costs the
address a guess (``TOKEN_RATE_LIMIT``, then 429), no secret configured is 404. Accepted
calls are rate-limited per address (``SMS_CALLBACK_RATE_LIMIT``); exempt from CSRF
(a server-to-server API without cookies). Answers ``{"code": 0, "msg": "成功"}`` as the
provider expects; a body that is not a JSON list is 400.

With ``SMS_CALLBACK_SIGNING_KEY`` set (a relay in front of the provider, or a provider that
signs), every post must also carry ``X-Survey-Signature: t=<unix seconds>,sha256=<hex
HMAC-SHA256 of "<t>." and the raw body under that key>``; missing or wrong is 401
"signature", a timestamp more than five minutes off 401 "stale", a signature accepted before
409 "replayed", and nothing is applied (``services.sms_callback_signatures``). A post of more than
``SMS_CALLBACK_MAX_RECEIPTS`` items is 413 and nothing of it is applied: the provider keeps
it and pushes again (the setting must stay above the provider's batch size), and no post
holds the write lock for long.
"""

from __future__ import annotations

import hmac
import json

from flask import abort, current_app, g, jsonify, make_response, request

from survey_app.extensions import db, limiter
from survey_app.gateway import bp
from survey_app.guessing import count_failed_lookup
from survey_app.models import utcnow
from survey_app.services import sms_callback_signatures as signatures
from survey_app.services import sms_callbacks


def _rate_limit() -> str:
    return current_app.config["SMS_CALLBACK_RATE_LIMIT"]


@bp.before_request
def _require_secret():
    secret = current_app.config["SMS_CALLBACK_SECRET"]
    if not secret:
        abort(404)
    given = request.args.get("key", "")
    if not hmac.compare_digest(given.encode(), secret.encode()):
        count_failed_lookup()  # guessing the secret: 429 once the address's budget is spent
        abort(403)
    signing_key = current_app.config["SMS_CALLBACK_SIGNING_KEY"]
    g.pop("sms_signed", None)
    if signing_key:
        try:
            g.sms_signed = signatures.verify(
                request.headers.get(signatures.SIGNATURE_HEADER, ""),
                request.get_data(cache=True), key=signing_key, now=utcnow(),
                window_seconds=current_app.config["SMS_CALLBACK_SIGNATURE_WINDOW_SECONDS"])
        except signatures.SignatureRefused as exc:
            return _refused(exc)
    return None


_MESSAGES = {"signature": "签名错误", "stale": "签名已过期", "replayed": "重复提交"}


def _refused(exc: signatures.SignatureRefused):
    return jsonify(code=exc.status, msg=_MESSAGES[exc.error], error=exc.error), exc.status


def _claim_signature(session) -> None:
    """Accept this post's signature once (in the write that applies the post); a replayed
    one ends the request with 409 and the write rolled back."""
    signed = g.get("sms_signed")
    if signed is None:
        return
    try:
        signatures.claim(signed, session=session, now=utcnow(), window_seconds=current_app
                         .config["SMS_CALLBACK_SIGNATURE_WINDOW_SECONDS"])
    except signatures.SignatureRefused as exc:
        abort(make_response(_refused(exc)))


def _items() -> list:
    body = request.get_json(silent=True)
    if isinstance(body, dict):
        body = [body]
    if not isinstance(body, list):
        abort(400)
    largest = current_app.config["SMS_CALLBACK_MAX_RECEIPTS"]
    if len(body) > largest:
        abort(current_app.response_class(json.dumps(
            {"code": 413, "msg": f"一次最多 {largest} 条", "error": "too_many", "max": largest},
            ensure_ascii=False), status=413, mimetype="application/json"))
    if not all(isinstance(item, dict) for item in body):
        abort(400)
    return body


def _accepted(result: sms_callbacks.CallbackResult):
    return jsonify({"code": 0, "msg": "成功", "applied": result.applied,
                    "ignored": result.ignored})


@bp.route("/sms/report", methods=["POST"])
@limiter.limit(_rate_limit)
def sms_report():
    items = _items()
    with db.write() as session:
        _claim_signature(session)
        result = sms_callbacks.apply_receipts(items, session=session)
    return _accepted(result)


@bp.route("/sms/reply", methods=["POST"])
@limiter.limit(_rate_limit)
def sms_reply():
    items = _items()
    with db.write() as session:
        _claim_signature(session)
        result = sms_callbacks.apply_replies(items, pii_key=current_app.config["PII_KEY"],
                                             session=session)
    return _accepted(result)
