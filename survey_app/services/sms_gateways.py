"""Gateways that deliver the outbox's text messages: a console/file adapter for development
(the default) and Alibaba Cloud SMS (阿里云短信服务, ``SendSms`` of API version 2017-05-25).

A gateway is given an :class:`SmsRequest` (the phone, the template and its parameters, the
rendered text and the outbox's ``client_ref``) and returns the provider's message id, or
raises :class:`GatewayError`, ``transient`` when trying again later may succeed. ``find``
answers whether the provider already accepted a message with this ``client_ref``: the
sender asks before sending again a message whose earlier attempt ended without an answer
(a crash, a timeout), see ``services.sms_sender``.

Alibaba Cloud
    Chinese carriers deliver only messages of a template registered and approved in the
    console, signed with an approved 签名: the request names ``SignName`` and
    ``TemplateCode`` (settings ``SMS_SIGN_NAME``, ``SMS_TEMPLATE_INVITATION``,
    ``SMS_TEMPLATE_REMINDER``) and the values of the template's variables
    (``TemplateParam``: ``title``, ``link``, ``deadline``, ``issuer``); register the texts of
    :data:`TEMPLATES` with those variables. ``OutId`` carries ``client_ref``; the
    delivery receipts and replies come back to ``/gateway/sms/...`` (``gateway/routes.py``).
    Requests are signed with the RPC signature (HMAC-SHA1 over the sorted, percent-encoded
    parameters, key ``AccessKeySecret&``). ``SendSms`` has no idempotency key: ``find``
    uses ``QuerySendDetails`` (the day's messages to that phone, with their ``OutId``).

Nothing here logs: a request holds a phone number and a live survey link.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Protocol

from survey_app.config import ConfigurationError

#: The texts as rendered by the console gateway and the preview; register the same texts,
#: with ${title}, ${link}, ${deadline}, ${issuer}, as the provider's templates.
TEMPLATES = {
    "invitation": "【{sign}】{issuer}邀请您参加{title}（约5分钟）。请点击 {link} 作答，"
                  "{deadline}前有效。回复TD退订",
    "reminder": "【{sign}】您家尚未完成{title}，您的意见很重要。请点击 {link} 作答，"
                "{deadline}前有效。回复TD退订",
}


@dataclass(frozen=True)
class SmsRequest:
    """One message for a gateway. Never logged: ``phone`` and the link in ``params``."""

    phone: str
    template: str  # a key of TEMPLATES
    params: Mapping[str, str]
    client_ref: str
    #: The Beijing day of the earlier attempt, where :meth:`Gateway.find` looks.
    attempted_on: date | None = None
    sign_name: str = ""

    @property
    def text(self) -> str:
        return render_text(self.template, self.params, sign=self.sign_name)

    def __repr__(self) -> str:
        return f"SmsRequest(client_ref={self.client_ref!r}, template={self.template!r})"


def render_text(template: str, params: Mapping[str, str], *, sign: str) -> str:
    """The message text of ``template`` with ``params`` filled in (no ``sign`` yet: 签名).

    >>> text = render_text("reminder", {"title": "满意度调查", "link": "https://x.cn/s/T",
    ...                                 "deadline": "12月31日", "issuer": ""}, sign="住建局")
    >>> text.startswith("【住建局】您家尚未完成满意度调查"), text.endswith("前有效。回复TD退订")
    (True, True)
    """
    return TEMPLATES[template].format(sign=sign or "签名", **params)


class GatewayError(RuntimeError):
    """The gateway did not accept the message; ``code`` is the provider's (or ours)."""

    def __init__(self, code: str, *, transient: bool) -> None:
        super().__init__(code)
        self.code = code[:64]
        self.transient = transient


class Gateway(Protocol):
    name: str

    def send(self, request: SmsRequest) -> str:
        """Send; the provider's message id. Raises :class:`GatewayError`."""

    def find(self, request: SmsRequest) -> bool:
        """Has the provider already accepted a message with ``request.client_ref``?"""


@dataclass
class ConsoleGateway:
    """Development: appends each message as a JSON line to a file (phone masked)."""

    path: Path
    name: str = "console"

    def send(self, request: SmsRequest) -> str:
        from survey_app.services.personal_data import mask_phone

        message_id = "console-" + uuid.uuid4().hex[:16]
        line = json.dumps({"at": datetime.now(UTC).isoformat(timespec="seconds"),
                           "to": mask_phone(request.phone), "client_ref": request.client_ref,
                           "message_id": message_id, "text": request.text},
                          ensure_ascii=False)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as out:
            out.write(line + "\n")
        return message_id

    def find(self, request: SmsRequest) -> bool:
        if not self.path.exists():
            return False
        needle = json.dumps(request.client_ref)
        with self.path.open(encoding="utf-8") as lines:
            return any(f'"client_ref": {needle}' in line for line in lines)


#: Alibaba Cloud codes after which sending again later may succeed (flow control, outage).
_ALIYUN_TRANSIENT = ("isv.BUSINESS_LIMIT_CONTROL", "isp.SYSTEM_ERROR", "isp.RAM_PERMISSION_DENY",
                     "Throttling", "ServiceUnavailable", "InternalError")


def percent_encode(value: str) -> str:
    """RFC 3986 encoding as Alibaba Cloud's RPC signature wants it.

    >>> percent_encode("a b*~/")
    'a%20b%2A~%2F'
    """
    return urllib.parse.quote(value, safe="~")


def rpc_signature(params: Mapping[str, str], *, secret: str, method: str = "POST") -> str:
    """Alibaba Cloud RPC signature v1.0 (HMAC-SHA1) of the request ``params``; the test
    checks it against the SMS documentation's worked example (``zJDF+Lrzhj/...``).

    >>> rpc_signature({"Action": "SendSms", "B": "x y"}, secret="s")
    'TY/SGi5TnHdmAceRj6wgbUirboA='
    """
    canonical = "&".join(f"{percent_encode(k)}={percent_encode(v)}"
                         for k, v in sorted(params.items()))
    to_sign = f"{method}&{percent_encode('/')}&{percent_encode(canonical)}"
    digest = hmac.new(f"{secret}&".encode(), to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


@dataclass
class AliyunGateway:
    """Alibaba Cloud SMS through its RPC HTTP API (no SDK)."""

    access_key_id: str
    access_key_secret: str
    sign_name: str
    template_codes: Mapping[str, str]
    endpoint: str = "https://dysmsapi.aliyuncs.com/"
    region: str = "cn-hangzhou"
    timeout: float = 10.0
    name: str = "aliyun"

    def _call(self, action: str, params: Mapping[str, str]) -> dict:
        now = datetime.now(UTC)
        full = {"AccessKeyId": self.access_key_id, "Action": action, "Format": "JSON",
                "RegionId": self.region, "SignatureMethod": "HMAC-SHA1",
                "SignatureNonce": uuid.uuid4().hex, "SignatureVersion": "1.0",
                "Timestamp": now.strftime("%Y-%m-%dT%H:%M:%SZ"), "Version": "2017-05-25",
                **params}
        full["Signature"] = rpc_signature(full, secret=self.access_key_secret)
        body = urllib.parse.urlencode(full, quote_via=urllib.parse.quote).encode()
        if not self.endpoint.startswith(("https://", "http://")):
            raise GatewayError("endpoint_scheme", transient=False)
        http = urllib.request.Request(  # noqa: S310 - http(s) only, checked above
            self.endpoint, data=body, method="POST",
            headers={"Content-Type": "application/x-www-form-urlencoded"})
        try:
            with urllib.request.urlopen(http, timeout=self.timeout) as answer:  # noqa: S310
                return json.loads(answer.read())
        except ValueError:  # not JSON: a proxy's error page, a truncated answer
            raise GatewayError("bad_answer", transient=True) from None
        except urllib.error.HTTPError as exc:
            try:
                return json.loads(exc.read())
            except ValueError:
                raise GatewayError(f"http_{exc.code}", transient=exc.code >= 500) from None
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise GatewayError("network", transient=True) from exc

    def send(self, request: SmsRequest) -> str:
        code = self.template_codes.get(request.template, "")
        if not (code and self.sign_name):
            raise GatewayError("not_configured", transient=True)
        answer = self._call("SendSms", {
            "PhoneNumbers": request.phone, "SignName": self.sign_name, "TemplateCode": code,
            "TemplateParam": json.dumps(dict(request.params), ensure_ascii=False),
            "OutId": request.client_ref})
        if answer.get("Code") == "OK":
            return str(answer.get("BizId", ""))
        result = str(answer.get("Code", "unknown"))
        raise GatewayError(result, transient=result.startswith(_ALIYUN_TRANSIENT))

    def find(self, request: SmsRequest) -> bool:
        day = request.attempted_on or datetime.now(UTC).date()
        page = 1
        while True:
            answer = self._call("QuerySendDetails", {
                "PhoneNumber": request.phone, "SendDate": day.strftime("%Y%m%d"),
                "PageSize": "50", "CurrentPage": str(page)})
            if answer.get("Code") != "OK":
                result = str(answer.get("Code", "unknown"))
                raise GatewayError(result, transient=True)
            found = (answer.get("SmsSendDetailDTOs") or {}).get("SmsSendDetailDTO") or []
            if any(item.get("OutId") == request.client_ref for item in found):
                return True
            if page * 50 >= int(answer.get("TotalCount", 0)) or not found:
                return False
            page += 1


def gateway_from_config(config: Mapping, instance_path: str) -> Gateway:
    """The gateway the settings choose (``SMS_GATEWAY``)."""
    kind = config["SMS_GATEWAY"]
    if kind == "console":
        path = config["SMS_CONSOLE_FILE"] or str(Path(instance_path) / "sms-console.txt")
        return ConsoleGateway(Path(path))
    if kind == "aliyun":
        needed = ("SMS_ALIYUN_ACCESS_KEY_ID", "SMS_ALIYUN_ACCESS_KEY_SECRET", "SMS_SIGN_NAME",
                  "SMS_TEMPLATE_INVITATION", "SMS_TEMPLATE_REMINDER")
        missing = [f"SURVEY_{key}" for key in needed if not config[key]]
        if missing:
            raise ConfigurationError(f"SURVEY_SMS_GATEWAY=aliyun needs {', '.join(missing)} "
                                     "(README, Configuration)")
        return AliyunGateway(
            access_key_id=config["SMS_ALIYUN_ACCESS_KEY_ID"],
            access_key_secret=config["SMS_ALIYUN_ACCESS_KEY_SECRET"],
            sign_name=config["SMS_SIGN_NAME"],
            template_codes={"invitation": config["SMS_TEMPLATE_INVITATION"],
                            "reminder": config["SMS_TEMPLATE_REMINDER"]},
            endpoint=config["SMS_ALIYUN_ENDPOINT"], region=config["SMS_ALIYUN_REGION"],
            timeout=float(config["SMS_HTTP_TIMEOUT_SECONDS"]))
    raise ConfigurationError(f"SURVEY_SMS_GATEWAY={kind!r}: expected 'console' or 'aliyun'")
