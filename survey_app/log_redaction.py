"""Keep secrets and personal data out of logs.

Survey links carry the household's token in the path (``/s/<token>``): anyone who
reads an access log could answer in the household's name. A receipt page's path carries
the form instance id (``.../receipt/<instance_id>``), which is the response's own key:
logged beside the client address, it would tie an address to a response. Phone and ID
numbers never belong in logs either, written with spaces or dashes or not (the same
patterns as the comment scrubber, ``services/text_scrub.py``). ``redact`` masks all of
them, including such values in query strings.

One place applies it to every line the process logs: :func:`install` makes every log record
redacted as it is made (``logging.setLogRecordFactory``): its message with its arguments,
its exception's traceback and its stack. Whatever logger wrote it and whatever handler
prints it, the record is already clean: the app's and its modules' loggers, werkzeug's,
gunicorn's error and access logs, the RQ worker's, a CLI command's, a library's. A filter on
a logger would miss the records of its child loggers (filters do not apply to propagated
records), and a filter on handlers would miss handlers added later (RQ adds its own when the
worker starts). ``create_app`` installs it, and so does the gunicorn logger class (before
the app is imported).
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


def redact_record(record: logging.LogRecord) -> logging.LogRecord:
    """Redact ``record`` in place: the message with its arguments, the exception's
    traceback (its last line is the exception's message: a ValueError naming the ID number
    it refused, a request's 500) and the stack; returns it."""
    try:
        message = record.getMessage()
    except Exception:  # noqa: BLE001 - a broken logging call must not raise at its caller
        message = f"{record.msg} (arguments that do not fit: {record.args!r})"
    record.msg = redact(message)
    record.args = ()
    # Formatters print the cached exc_text when there is one.
    if record.exc_info and not record.exc_text:
        record.exc_text = logging.Formatter().formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
    return record


def install() -> None:
    """Make every log record of this process redacted as it is made (idempotent)."""
    made = logging.getLogRecordFactory()
    if getattr(made, "redacting", False):
        return

    def redacted_record(*args, **kwargs) -> logging.LogRecord:
        return redact_record(made(*args, **kwargs))

    redacted_record.redacting = True
    logging.setLogRecordFactory(redacted_record)


class RedactingGunicornLogger(GunicornLogger):
    """gunicorn's logger, its access and error lines redacted (:func:`install`): set up
    when gunicorn starts, before the app is imported."""

    def setup(self, cfg) -> None:
        install()
        super().setup(cfg)
