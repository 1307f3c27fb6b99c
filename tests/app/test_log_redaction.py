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
])
def test_redact(line, expected):
    assert redact(line) == expected


def test_filter_masks_formatted_arguments(caplog):
    logger = logging.getLogger("test.redaction")
    logger.addFilter(RedactingFilter())
    with caplog.at_level(logging.INFO, logger="test.redaction"):
        logger.info("visit %s from %s", "/s/AbCdEfGhIjKlMnOp", "13900001111")
    assert caplog.messages == ["visit /s/<token> from <phone>"]
