"""Throttling guesses of survey links and API tokens: only *failed* lookups count.

A household's link must open and submit whatever else comes from its address: households
behind one carrier NAT, one Wi-Fi or the evaluators' proxy share an address, and a shared
budget of page loads let one guesser (or one busy stairwell) lock residents out, and a
refused submit lost a finished questionnaire. So a valid link is never counted or refused;
each unknown (or closed) link costs its address one unit of ``TOKEN_RATE_LIMIT``, and once
the budget is spent further failed lookups get 429. 160-bit tokens make guessing hopeless
anyway; the limit keeps it from loading the server.

The API counts a bearer token it does not know the same way (``api.routes``): a valid token
is never refused because of other traffic from its address.

With the rate-limit storage (Redis) unreachable, failed lookups are counted in this
process's memory and a warning is logged once per outage (not per request, which a guesser
could use to fill the log): pages keep working.
"""

from __future__ import annotations

import math
import time

from flask import current_app
from limits import parse
from limits.storage import MemoryStorage
from limits.strategies import FixedWindowRateLimiter
from werkzeug.exceptions import TooManyRequests

from survey_app.client_address import client_key
from survey_app.extensions import limiter

_FALLBACK = "survey_guess_fallback"
_WARNED = "survey_guess_fallback_warned"


def count_failed_lookup() -> None:
    """Count one failed token lookup (or failed open-link identification) of this request's
    address; TooManyRequests (with Retry-After) once its budget is spent."""
    retry_after = _spend("TOKEN_RATE_LIMIT", "token-guess", client_key(),
                         counting="failed link lookups")
    if retry_after is not None:
        raise TooManyRequests(retry_after=retry_after)


def open_submit_refused(device: str) -> int | None:
    """Spend one unverified open-link submit of this address and of ``device`` (a keyed
    hash of the client); the seconds to wait if either budget is spent, else None.

    Only answers that identify no household are limited: they are counted nowhere unless an
    evaluator includes them, so the limit protects storage and the unverified tally, and
    residents behind one address (a carrier NAT, a Wi-Fi) share a generous budget. An
    identified answer is bounded by the roster (one per household) and never refused.
    """
    for setting, scope, key in (("OPEN_LINK_RATE_LIMIT", "open-address", client_key()),
                                ("OPEN_LINK_DEVICE_LIMIT", "open-device", device)):
        retry_after = _spend(setting, scope, key, counting="unverified open-link submits")
        if retry_after is not None:
            return retry_after
    return None


def _spend(setting: str, scope: str, key: str, *, counting: str) -> int | None:
    """Hit the limit named by config ``setting`` for ``key``; the seconds until its window
    resets when it is spent, else None. Falls back to this process's memory (with a
    warning) when the rate-limit storage is unreachable."""
    if not current_app.config["RATELIMIT_ENABLED"]:
        return None
    item = parse(current_app.config[setting])
    keys = (current_app.config["RATELIMIT_KEY_PREFIX"], scope, key)
    try:
        strategy = limiter.limiter
        allowed = strategy.hit(item, *keys)
        current_app.extensions.pop(_WARNED, None)  # the storage is back
    except Exception:  # noqa: BLE001 - any storage failure: degrade, never fail the page
        if counting not in current_app.extensions.setdefault(_WARNED, set()):
            current_app.extensions[_WARNED].add(counting)
            current_app.logger.warning("rate-limit storage unreachable: counting %s in this "
                                       "process's memory until it is back", counting)
        strategy = current_app.extensions.get(_FALLBACK)
        if strategy is None:
            strategy = current_app.extensions.setdefault(
                _FALLBACK, FixedWindowRateLimiter(MemoryStorage()))
        allowed = strategy.hit(item, *keys)
    if allowed:
        return None
    reset_at = strategy.get_window_stats(item, *keys).reset_time
    return max(1, math.ceil(reset_at - time.time()))
