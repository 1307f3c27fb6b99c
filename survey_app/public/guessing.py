"""Throttling the guessing of survey links: only *failed* lookups count.

A household's link must open and submit whatever else comes from its address: households
behind one carrier NAT, one Wi-Fi or the evaluators' proxy share an address, and a shared
budget of page loads let one guesser (or one busy stairwell) lock residents out, and a
refused submit lost a finished questionnaire. So a valid link is never counted or refused;
each unknown (or closed) link costs its address one unit of ``TOKEN_RATE_LIMIT``, and once
the budget is spent further failed lookups get 429. 160-bit tokens make guessing hopeless
anyway; the limit keeps it from loading the server.

With the rate-limit storage (Redis) unreachable, failed lookups are counted in this
process's memory and a warning is logged: pages keep working.
"""

from __future__ import annotations

import math
import time

from flask import current_app
from flask_limiter.util import get_remote_address
from limits import parse
from limits.storage import MemoryStorage
from limits.strategies import FixedWindowRateLimiter
from werkzeug.exceptions import TooManyRequests

from survey_app.extensions import limiter

_FALLBACK = "survey_guess_fallback"


def count_failed_lookup() -> None:
    """Count one failed token lookup of this request's address; TooManyRequests (with
    Retry-After) once its budget is spent."""
    if not current_app.config["RATELIMIT_ENABLED"]:
        return
    item = parse(current_app.config["TOKEN_RATE_LIMIT"])
    key = (current_app.config["RATELIMIT_KEY_PREFIX"], "token-guess", get_remote_address())
    try:
        strategy = limiter.limiter
        allowed = strategy.hit(item, *key)
    except Exception:  # noqa: BLE001 - any storage failure: degrade, never fail the page
        current_app.logger.warning("rate-limit storage unreachable: counting failed link "
                                   "lookups in this process's memory")
        strategy = current_app.extensions.get(_FALLBACK)
        if strategy is None:
            strategy = current_app.extensions.setdefault(
                _FALLBACK, FixedWindowRateLimiter(MemoryStorage()))
        allowed = strategy.hit(item, *key)
    if not allowed:
        reset_at = strategy.get_window_stats(item, *key).reset_time
        raise TooManyRequests(retry_after=max(1, math.ceil(reset_at - time.time())))
