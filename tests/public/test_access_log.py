"""The access log ties no client address to a response: no survey token, form instance id
or receipt code in a logged line, and no phone or ID number a resident typed, however
written. The requests of a real submission are logged by gunicorn's logger class as
survey_app/gunicorn_conf.py configures it (and by a format with the whole request line and the
referer), and by the development server's logger."""

from __future__ import annotations

import logging
import re
import uuid
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

from gunicorn.config import Config
from sqlmodel import select

from survey_app.log_redaction import RedactingGunicornLogger
from survey_app.models import Response
from tests.public.conftest import RELOCATED_ANSWERS, form_data

ROOT = Path(__file__).resolve().parents[2]
TYPED = "我叫王芳，电话138 1234 5678，座机0731-8555 1234，身份证4309 0319 9001 0112 34"
SECRET_NUMBERS = ("13812345678", "073185551234", "430903199001011234")
FULL_FORMAT = '%(h)s "%(r)s" %(s)s %(B)s "%(f)s" "%(a)s"'


def _project_access_format() -> str:
    text = (ROOT / "survey_app" / "gunicorn_conf.py").read_text(encoding="utf-8")
    return re.search(r"^access_log_format = '(.*)'$", text, re.M).group(1)


def _recorded_requests(app):
    """Wrap the app so every request's environ, status and headers are kept."""
    recorded, inner = [], app.wsgi_app

    def recording(environ, start_response):
        def start(status, headers, exc_info=None):
            recorded.append((dict(environ), status, headers))
            return start_response(status, headers, exc_info)
        return inner(environ, start)

    app.wsgi_app = recording
    return recorded


def _gunicorn_lines(recorded, access_format: str, path: Path) -> str:
    cfg = Config()
    cfg.set("accesslog", str(path))
    cfg.set("access_log_format", access_format)
    logger = RedactingGunicornLogger(cfg)
    for environ, status, headers in recorded:
        query = environ.get("QUERY_STRING")
        environ.setdefault("RAW_URI", environ["PATH_INFO"] + (f"?{query}" if query else ""))
        request = SimpleNamespace(headers=[(k[5:].replace("_", "-"), v)
                                           for k, v in environ.items() if k.startswith("HTTP_")])
        logger.access(SimpleNamespace(status=status, headers=headers, sent=100), request,
                      environ, timedelta(milliseconds=12))
    for handler in list(logger.access_log.handlers):
        handler.close()
        logger.access_log.removeHandler(handler)
    return path.read_text(encoding="utf-8")


def _leaks(text: str, secrets: list[str]) -> list[str]:
    digits = re.sub(r"\D", "", text)
    return ([s for s in secrets if s in text]
            + [n for n in SECRET_NUMBERS if n in digits])


def test_logged_requests_hold_no_token_instance_id_receipt_or_typed_number(
        app, client, session, survey_campaign, caplog, tmp_path):
    caplog.set_level(logging.DEBUG)
    recorded = _recorded_requests(app)
    token, instance = survey_campaign.token(), str(uuid.uuid4())
    submitted = client.post(f"/s/{token}", data=form_data(
        dict(RELOCATED_ANSWERS, comments=TYPED), instance))
    assert submitted.status_code == 302 and instance in submitted.headers["Location"]
    receipt_code = session.exec(select(Response)).one().receipt_code
    receipt_url = submitted.headers["Location"]
    assert client.get(receipt_url, headers={"Referer": f"http://x/s/{token}"}).status_code == 200
    slug = survey_campaign.campaign.slug
    client.get(f"/c/{slug}/relocated/receipt/{instance}?instance_id={instance}"
               f"&receipt={receipt_code}&phone=138-1234-5678",
               headers={"Referer": f"http://x{receipt_url}"})
    assert len(recorded) == 3
    secrets = [token, instance, receipt_code]

    project = _gunicorn_lines(recorded, _project_access_format(), tmp_path / "access.log")
    assert project.count("\n") == 3 and "/s/<token>/receipt/<instance-id>" in project
    full = _gunicorn_lines(recorded, FULL_FORMAT, tmp_path / "full.log")
    assert "instance_id=<redacted>" in full and "receipt=<redacted>" in full
    werkzeug = logging.getLogger("werkzeug")
    for environ, status, _headers in recorded:
        werkzeug.info('%s - - [06/Dec/2026 08:00:00] "%s %s %s" %s -', "127.0.0.1",
                      environ["REQUEST_METHOD"], environ["RAW_URI"],
                      environ["SERVER_PROTOCOL"], status.split()[0])
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "/receipt/<instance-id>" in logged
    for where, text in (("gunicorn", project), ("full format", full), ("app logs", logged)):
        assert _leaks(text, secrets) == [], where
