"""``/gateway/sms/report`` and ``/gateway/sms/reply``: Alibaba Cloud's HTTP pushes of
delivery receipts (SmsReport) and replies (SmsUp), see ``services.sms_callbacks``.

The provider signs nothing it pushes, so the configured URL carries a shared secret
(``?key=<SMS_CALLBACK_SECRET>``, masked in logs): a wrong or missing key is 403 and costs the
address a guess (``TOKEN_RATE_LIMIT``, then 429), no secret configured is 404. Accepted
calls are rate-limited per address (``SMS_CALLBACK_RATE_LIMIT``); exempt from CSRF
(a server-to-server API without cookies). Answers ``{"code": 0, "msg": "成功"}`` as the
provider expects; a body that is not a JSON list is 400.
"""

from __future__ import annotations

import hmac

from flask import abort, current_app, jsonify, request

from survey_app.extensions import db, limiter
from survey_app.gateway import bp
from survey_app.guessing import count_failed_lookup
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


def _items() -> list:
    body = request.get_json(silent=True)
    if isinstance(body, dict):
        body = [body]
    if not isinstance(body, list) or not all(isinstance(item, dict) for item in body):
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
        result = sms_callbacks.apply_receipts(items, session=session)
    return _accepted(result)


@bp.route("/sms/reply", methods=["POST"])
@limiter.limit(_rate_limit)
def sms_reply():
    items = _items()
    with db.write() as session:
        result = sms_callbacks.apply_replies(items, pii_key=current_app.config["PII_KEY"],
                                             session=session)
    return _accepted(result)
