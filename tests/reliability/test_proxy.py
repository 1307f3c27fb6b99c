"""Behind the documented reverse proxy, each client is throttled on its own address.

gunicorn (``SURVEY_TRUSTED_PROXIES=1``, limits in a Redis of the test's own) sits behind
:class:`tests.reliability.tcp_proxy.TcpProxy`, which appends the address a client connects
from to ``X-Forwarded-For`` as nginx does. Clients connect from distinct loopback addresses
(127.0.0.2: the attacker, 127.0.0.3: a resident and the evaluator). The attacker spends its
whole budget of failed token lookups and of logins, while also sending a forged
``X-Forwarded-For`` of its own each time; the resident's link, the resident's own mistyped
link and the evaluator's correct login are then served as if nothing had happened.

Without trusted proxies, a client's own ``X-Forwarded-For`` is ignored: rotating it does
not buy a guesser a fresh budget.
"""

import random

import pytest

from tests.reliability.browser import (
    Browser,
    answer_fields,
    log_in,
    path_of,
    read_page,
    survey_form,
)
from tests.reliability.harness import GunicornServer, demo_password, issue_demo_tokens
from tests.reliability.tcp_proxy import TcpProxy

pytestmark = pytest.mark.slow

LIMIT = 5  # failed token lookups, and login posts, per address and minute
ATTACKER, RESIDENT = "127.0.0.2", "127.0.0.3"
EVALUATOR = ("evaluator", demo_password("evaluator"))


def _limits(redis_url: str, **extra: str) -> dict[str, str]:
    return {"SURVEY_RATELIMIT_STORAGE_URI": redis_url,
            "SURVEY_TOKEN_RATE_LIMIT": f"{LIMIT} per minute",
            "SURVEY_LOGIN_RATE_LIMIT": f"{LIMIT} per minute", **extra}


def _guesses(client: Browser, count: int) -> list[int]:
    """Unknown token links, each with a different forged X-Forwarded-For."""
    return [client.get(f"/s/guess{i:03d}{random.getrandbits(64):016x}",  # noqa: S311
                       headers={"X-Forwarded-For": f"198.51.100.{i + 1}"}).status
            for i in range(count)]


def _login(client: Browser, username: str, password: str) -> int:
    forged = {"X-Forwarded-For": f"198.51.100.{random.randint(1, 254)}"}  # noqa: S311
    return log_in(client, username, password, headers=forged)


def _answer_link(client: Browser, token: str) -> tuple[int, int, int]:
    """Statuses of the link's page, its submit and the receipt it leads to."""
    page = client.get(f"/s/{token}")
    form = survey_form(read_page(page.text))
    submitted = client.post(f"/s/{token}", answer_fields(form, random.Random(3).choice))
    receipt = client.get(path_of(submitted.location)) if "/receipt/" in submitted.location \
        else None
    return page.status, submitted.status, receipt.status if receipt else 0


@pytest.fixture
def demo_with_links(fresh_demo_database_url):
    return fresh_demo_database_url, issue_demo_tokens(fresh_demo_database_url, 2)


def test_one_address_does_not_throttle_another_behind_the_proxy(demo_with_links,
                                                                 private_redis):
    url, (resident_token, attacker_token) = demo_with_links
    server = GunicornServer(url, workers=2,
                            extra_env=_limits(private_redis.url, SURVEY_TRUSTED_PROXIES="1"))
    server.start()
    proxy = TcpProxy(server.port).start()
    attacker = Browser("127.0.0.1", proxy.port, source=ATTACKER)
    resident = Browser("127.0.0.1", proxy.port, source=RESIDENT)
    evaluator = Browser("127.0.0.1", proxy.port, source=RESIDENT)
    try:
        guessed = _guesses(attacker, LIMIT + 3)
        wrong_logins = [_login(attacker, "admin", f"wrong-{i}") for i in range(LIMIT + 2)]
        # The attacker's own household link (a NAT shared with a resident) still opens.
        attacker_link = attacker.get(f"/s/{attacker_token}").status
        answered = _answer_link(resident, resident_token)
        mistyped = _guesses(resident, 1)
        logged_in = _login(evaluator, *EVALUATOR)
        # A correct login from the throttled address is refused like any other attempt.
        attacker_correct = _login(attacker, *EVALUATOR)
    finally:
        proxy.stop()
        server.stop()
    # Figures for docs/RELIABILITY.md (shown with -s).
    print(f"\nvia proxy {proxy.requests} requests; attacker guesses {guessed}, wrong logins "
          f"{wrong_logins}, own link {attacker_link}, correct login {attacker_correct}; "
          f"resident link/submit/receipt {answered}, mistyped link {mistyped}; evaluator "
          f"login {logged_in}")
    assert proxy.requests > 2 * LIMIT  # every request went through the proxy
    assert guessed == [404] * LIMIT + [429] * 3, "a forged X-Forwarded-For escaped the limit"
    assert wrong_logins == [200] * LIMIT + [429] * 2
    assert attacker_link == 200
    assert answered == (200, 302, 200)
    assert mistyped == [404], "the attacker's guesses throttled another address"
    assert logged_in == 302, "the attacker's wrong logins throttled the evaluator"
    assert attacker_correct == 429


def test_without_trusted_proxies_a_forged_forwarded_for_is_ignored(fresh_database_url,
                                                                    private_redis):
    server = GunicornServer(fresh_database_url, workers=2,
                            extra_env=_limits(private_redis.url))
    server.start()
    try:
        guessed = _guesses(Browser("127.0.0.1", server.port, source=ATTACKER), LIMIT + 3)
        other = _guesses(Browser("127.0.0.1", server.port, source=RESIDENT), 1)
    finally:
        server.stop()
    print(f"\ndirect, forged X-Forwarded-For: guesses {guessed}; other address {other}")
    assert guessed == [404] * LIMIT + [429] * 3
    assert other == [404]  # counted per real peer address, not one counter for all
