import io
import logging

import pytest

from survey_app import log_redaction
from survey_app.log_redaction import redact


@pytest.mark.parametrize(("line", "expected"), [
    ("GET /s/4mNTg4jpETpQY6JdcOas9pkxhYk HTTP/1.1", "GET /s/<token> HTTP/1.1"),
    ("phone 13812345678 called", "phone <phone> called"),
    ("id 43090319900101123X here", "id <id-number> here"),
    ("id 430903199001011234", "id <id-number>"),
    ("order 123456789012 is fine", "order 123456789012 is fine"),
    ("GET /c/heshan-2021", "GET /c/heshan-2021"),
    # Phone and ID numbers as residents write them: spaces, dashes, +86, area codes.
    ("phone 138 1234 5678 called", "phone <phone> called"),
    ("phone +86-138-1234-5678", "phone <phone>"),
    ("tel (0731)8555-1234", "tel <phone>"),
    ("id 4309 0319 9001 0112 3X", "id <id-number>"),
    # A receipt path holds the response's instance id; query values that identify.
    ("GET /c/heshan-2021/relocated/receipt/5b0e2b64-3f1c-4c1e-9a57-0c4c1d2f8a10 HTTP/1.1",
     "GET /c/heshan-2021/relocated/receipt/<instance-id> HTTP/1.1"),
    ("GET /c/heshan-2021?instance_id=abc&group=relocated&receipt=QWERTYUP",
     "GET /c/heshan-2021?instance_id=<redacted>&group=relocated&receipt=<redacted>"),
    ("form 5b0e2b64-3f1c-4c1e-9a57-0c4c1d2f8a10 posted", "form <uuid> posted"),
    # The signed identification of an open-link answer answers as that household for two
    # days (attack3: it stood in the access log).
    ('"GET /c/heshan-2021/relocated?who=WyJoZXNoYW4tMjAyMSIsNDk2LCJjb2RlIl0.axW6hg.xyz '
     'HTTP/1.1" 200', '"GET /c/heshan-2021/relocated?who=<redacted> HTTP/1.1" 200'),
    # Log lines' own numbers stay.
    ('127.0.0.1 "GET /entry/ HTTP/1.1" 200 15234 0.012345s',
     '127.0.0.1 "GET /entry/ HTTP/1.1" 200 15234 0.012345s'),
    ("2026-12-06 07:45:00,123 INFO started", "2026-12-06 07:45:00,123 INFO started"),
])
def test_redact(line, expected):
    assert redact(line) == expected


ID_NUMBER, PHONE = "430903199001011234", "13812345678"


@pytest.fixture
def logged():
    """What a handler on the root logger prints (as a deployment's root handler would)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    yield stream
    root.removeHandler(handler)


def _assert_clean(written: str) -> None:
    assert ID_NUMBER not in written and PHONE not in written
    assert ID_NUMBER[:17] not in written and "138 1234 5678" not in written


def test_every_record_is_redacted_whoever_logs_it(logged):
    """A module's logger (a child: a filter on its parent never sees its records), with the
    numbers in the message, in its arguments, in the exception's message and in the
    stack."""
    log_redaction.install()
    log_redaction.install()  # once is enough; a second call changes nothing
    logger = logging.getLogger("test.redaction.module.child")
    logger.warning(f"household {ID_NUMBER} called")
    logger.warning("visit %s from %s", "/s/AbCdEfGhIjKlMnOp", "138 1234 5678")
    try:
        raise ValueError(f"no household with ID {ID_NUMBER} or phone {PHONE}")
    except ValueError:
        logger.exception("Exception on /entry/households [POST]")
    logger.warning("look-up of %s", PHONE, stack_info=True)
    written = logged.getvalue()
    assert "household <id-number> called" in written
    assert "visit /s/<token> from <phone>" in written
    assert "ValueError: no household with ID <id-number> or phone <phone>" in written
    assert "Stack (most recent call last)" in written and "look-up of <phone>" in written
    _assert_clean(written)


def test_a_logging_call_whose_arguments_do_not_fit_still_logs_redacted(logged):
    log_redaction.install()
    logging.getLogger("test.redaction.broken").warning("calling %s at %d", PHONE, "noon")
    written = logged.getvalue()
    assert "calling %s at %d (arguments that do not fit: ('<phone>', 'noon'))" in written
    _assert_clean(written)


def test_the_apps_output_is_redacted(make_app, logged, capsys):
    """The app's own logger (Flask's handler, a request's 500) and a module's logger: an ID
    number or a phone in a message, its arguments or an exception's traceback is masked."""
    app = make_app(PROPAGATE_EXCEPTIONS=False)

    def leaky():
        logging.getLogger("survey_app.services.roster").warning("row of %s", ID_NUMBER)
        app.logger.warning("calling %s", PHONE)
        raise ValueError(f"no household with ID {ID_NUMBER} or phone {PHONE}")

    app.add_url_rule("/test-leaky", "test_leaky", leaky)
    assert app.test_client().get("/test-leaky").status_code == 500
    # Flask's default handler (where the app's logger has it) prints to the request's error
    # stream; otherwise the app's records reach the root handler.
    written = logged.getvalue() + capsys.readouterr().err
    assert "survey_app.services.roster WARNING row of <id-number>" in written
    assert "calling <phone>" in written
    assert "Exception on /test-leaky [GET]" in written
    assert "ValueError: no household with ID <id-number> or phone <phone>" in written
    _assert_clean(written)
