"""Keep secrets and personal data out of logs.

Survey links carry the household's token in the path (``/s/<token>``): anyone who
reads an access log could answer in the household's name. Phone and ID numbers
never belong in logs either. ``redact`` masks all three; the gunicorn logger class
and the logging filter below apply it to every line.
"""

from __future__ import annotations

import logging
import re

from gunicorn.glogging import Logger as GunicornLogger

_PATTERNS = (
    (re.compile(r"(/s/)[A-Za-z0-9_\-]{8,}"), r"\1<token>"),
    (re.compile(r"(?<!\d)\d{17}[\dXx](?!\d)"), "<id-number>"),
    (re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)"), "<phone>"),
)


def redact(text: str) -> str:
    """Mask survey tokens, ID numbers and mobile numbers in ``text``.

    >>> redact("GET /s/AbCdEf0123456789xyz HTTP/1.1 13812345678")
    'GET /s/<token> HTTP/1.1 <phone>'
    """
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = ()
        return True


class RedactingGunicornLogger(GunicornLogger):
    """gunicorn's logger with tokens and personal data masked in access and error lines."""

    def setup(self, cfg) -> None:
        super().setup(cfg)
        for log in (self.access_log, self.error_log):
            log.addFilter(RedactingFilter())
