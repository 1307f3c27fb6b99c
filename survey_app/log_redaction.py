"""Keep secrets and personal data out of logs.

Survey links carry the household's token in the path (``/s/<token>``): anyone who
reads an access log could answer in the household's name. A receipt page's path carries
the form instance id (``.../receipt/<instance_id>``), which is the response's own key:
logged beside the client address, it would tie an address to a response. Phone and ID
numbers never belong in logs either, written with spaces or dashes or not (the same
patterns as the comment scrubber, ``services/text_scrub.py``). ``redact`` masks all of
them, including such values in query strings; the gunicorn logger class and the logging
filter below apply it to every line.
"""

from __future__ import annotations

import logging
import re

from gunicorn.glogging import Logger as GunicornLogger

from survey_app.services.text_scrub import ID_LABEL, NUMBER_PATTERNS

# Query parameters whose values identify a household or a response.
_IDENTIFYING_PARAMETERS = ("instance_id|receipt|receipt_code|token|household_code|check_code"
                           "|phone|id_tail|key|who")
_PATTERNS = (
    (re.compile(r"(/s/)[A-Za-z0-9_\-]{8,}"), r"\1<token>"),
    (re.compile(r"(/receipt/)[^/\s?#\"]+"), r"\1<instance-id>"),
    (re.compile(r"(?i)\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b"),
     "<uuid>"),
    (re.compile(f"(?i)([?&](?:{_IDENTIFYING_PARAMETERS})=)[^&\\s\"#]*"), r"\1<redacted>"),
    *((pattern, "<id-number>" if label == ID_LABEL else "<phone>")
      for pattern, label in NUMBER_PATTERNS),
)


def redact(text: str) -> str:
    """Mask survey tokens, instance ids, ID numbers and phone numbers in ``text``.

    >>> redact("GET /s/AbCdEf0123456789xyz/receipt/5b0e2b64-3f1c-4c1e-9a57-0c4c1d2f8a10 "
    ...        "HTTP/1.1 138-1234-5678")
    'GET /s/<token>/receipt/<instance-id> HTTP/1.1 <phone>'
    """
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = ()
        # A traceback's last line is the exception's message (a ValueError naming the ID
        # number it refused, a request's 500): formatters print the cached exc_text.
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


class RedactingGunicornLogger(GunicornLogger):
    """gunicorn's logger with tokens and personal data masked in access and error lines."""

    def setup(self, cfg) -> None:
        super().setup(cfg)
        for log in (self.access_log, self.error_log):
            log.addFilter(RedactingFilter())
