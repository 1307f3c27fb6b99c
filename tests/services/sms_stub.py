"""A local stub of Alibaba Cloud SMS's RPC HTTP API (SendSms, QuerySendDetails), a real HTTP
server on a thread, for the outbox tests. It checks each request's signature and keeps a
ledger of every message it accepted.

``hold_at=n``: the n-th SendSms is recorded, then its answer waits until :meth:`release`
(the test kills the sender meanwhile: the provider has the message, the outbox does not know).
"""

from __future__ import annotations

import json
import threading
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from survey_app.services.sms_gateways import rpc_signature

ACCESS_KEY_ID, ACCESS_KEY_SECRET = "stub-key-id", "stub-key-secret"


@dataclass
class Accepted:
    biz_id: str
    out_id: str
    phone: str
    template_code: str
    sign_name: str
    params: dict


@dataclass
class SmsStub:
    hold_at: int | None = None
    ledger: list[Accepted] = field(default_factory=list)
    lookups: int = 0
    bad_signatures: int = 0
    held: threading.Event = field(default_factory=threading.Event)
    _release: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def release(self) -> None:
        self._release.set()

    def handle(self, form: dict[str, str]) -> dict:
        given = form.pop("Signature", "")
        if form.get("AccessKeyId") != ACCESS_KEY_ID or given != rpc_signature(
                form, secret=ACCESS_KEY_SECRET):
            self.bad_signatures += 1
            return {"Code": "SignatureDoesNotMatch", "Message": "bad signature"}
        if form["Action"] == "SendSms":
            return self._send(form)
        if form["Action"] == "QuerySendDetails":
            return self._query(form)
        return {"Code": "InvalidAction.NotFound"}

    def _send(self, form: dict[str, str]) -> dict:
        with self._lock:
            biz_id = f"biz{len(self.ledger) + 1:06d}"
            self.ledger.append(Accepted(biz_id, form.get("OutId", ""), form["PhoneNumbers"],
                                        form["TemplateCode"], form["SignName"],
                                        json.loads(form["TemplateParam"])))
            hold = self.hold_at is not None and len(self.ledger) == self.hold_at
        if hold:
            self.held.set()
            self._release.wait(60)
        return {"Code": "OK", "Message": "OK", "BizId": biz_id, "RequestId": "r"}

    def _query(self, form: dict[str, str]) -> dict:
        with self._lock:
            self.lookups += 1
            found = [{"OutId": a.out_id, "PhoneNum": a.phone, "SendStatus": 3,
                      "TemplateCode": a.template_code}
                     for a in self.ledger if a.phone == form["PhoneNumber"]]
        return {"Code": "OK", "TotalCount": len(found),
                "SmsSendDetailDTOs": {"SmsSendDetailDTO": found}}


class _Handler(BaseHTTPRequestHandler):
    stub: SmsStub

    def do_POST(self):  # noqa: N802 - http.server's name
        length = int(self.headers.get("Content-Length", 0))
        form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
        body = json.dumps(self.server.stub.handle(form)).encode()
        try:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the sender was killed while waiting

    def log_message(self, *args):  # keep the test output quiet
        pass


def start(stub: SmsStub) -> tuple[ThreadingHTTPServer, str]:
    """Serve ``stub`` on 127.0.0.1 (a free port); the server and its URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    server.stub = stub
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


def gateway_settings(url: str) -> dict:
    """App settings that send through the stub."""
    return {"SMS_GATEWAY": "aliyun", "SMS_ALIYUN_ENDPOINT": url,
            "SMS_ALIYUN_ACCESS_KEY_ID": ACCESS_KEY_ID,
            "SMS_ALIYUN_ACCESS_KEY_SECRET": ACCESS_KEY_SECRET,
            "SMS_SIGN_NAME": "鹤山区住建局", "SMS_TEMPLATE_INVITATION": "SMS_100000001",
            "SMS_TEMPLATE_REMINDER": "SMS_100000002", "SMS_HTTP_TIMEOUT_SECONDS": 5}
