import logging

import pytest

from survey_app.log_redaction import RedactingFilter, redact


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


def test_filter_masks_formatted_arguments(caplog):
    logger = logging.getLogger("test.redaction")
    logger.addFilter(RedactingFilter())
    with caplog.at_level(logging.INFO, logger="test.redaction"):
        logger.info("visit %s from %s", "/s/AbCdEfGhIjKlMnOp", "13900001111")
    assert caplog.messages == ["visit /s/<token> from <phone>"]


def test_filter_masks_the_traceback_of_a_logged_exception():
    """A request's 500 (Flask logs it with logger.exception) or a failing job: the traceback
    ends with the exception's message, which may quote the value it refused."""
    import io

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger = logging.getLogger("test.redaction.traceback")
    logger.propagate = False
    logger.addHandler(handler)
    logger.addFilter(RedactingFilter())
    try:
        raise ValueError("no household with ID 430903199001011234 or phone 13812345678")
    except ValueError:
        logger.exception("Exception on /entry/households [POST]")
    logger.removeHandler(handler)
    written = stream.getvalue()
    assert "ValueError: no household with ID <id-number> or phone <phone>" in written
    assert "430903199001011234" not in written and "13812345678" not in written
