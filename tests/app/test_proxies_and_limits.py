"""Client addresses behind a reverse proxy, and rate limits when Redis is down (issue 16)."""

import logging

import pytest

from tests.factories import make_user

LIMITED = {"RATELIMIT_ENABLED": True, "LOGIN_RATE_LIMIT": "3 per day"}


@pytest.fixture(autouse=True)
def _storage_alive():
    # The Limiter is one object for every app of the process and remembers a dead storage
    # (Flask-Limiter's own state): each test starts from a live one, as a new worker does.
    from survey_app.extensions import limiter

    limiter._storage_dead = False
    yield
    limiter._storage_dead = False


def _failed_logins(client, count, **environ):
    return [client.post("/auth/login", data={"username": "nobody", "password": "x" * 9},
                        **environ).status_code for _ in range(count)]


def test_without_trusted_proxies_a_forwarded_header_is_ignored(make_app):
    app = make_app(RATELIMIT_STORAGE_URI="memory://", **LIMITED)
    client = app.test_client()
    # A client that forges X-Forwarded-For gains nothing: it is still one address.
    codes = [client.post("/auth/login", data={"username": "n", "password": "x" * 9},
                         headers={"X-Forwarded-For": f"203.0.113.{i}"}).status_code
             for i in range(4)]
    assert codes == [200, 200, 200, 429]


def test_behind_one_trusted_proxy_each_client_has_its_own_limit(make_app):
    app = make_app(RATELIMIT_STORAGE_URI="memory://", TRUSTED_PROXIES=1, **LIMITED)
    client = app.test_client()
    proxy = {"REMOTE_ADDR": "127.0.0.1"}
    attacker = {"headers": {"X-Forwarded-For": "203.0.113.7"}, "environ_base": proxy}
    resident = {"headers": {"X-Forwarded-For": "198.51.100.20"}, "environ_base": proxy}
    assert _failed_logins(client, 4, **attacker) == [200, 200, 200, 429]
    # The attacker's guesses do not lock out another client behind the same proxy.
    assert _failed_logins(client, 1, **resident) == [200]
    # Only the proxy's own entry is believed: a spoofed first hop does not reset the count.
    spoofed = {"headers": {"X-Forwarded-For": "10.9.9.9, 203.0.113.7"}, "environ_base": proxy}
    assert _failed_logins(client, 1, **spoofed) == [429]


def test_redis_down_keeps_pages_up_and_logins_limited(make_app, session, caplog):
    # Nothing listens on port 1: every storage call fails.
    app = make_app(RATELIMIT_STORAGE_URI="redis://127.0.0.1:1/0", **LIMITED)
    make_user(session)
    client = app.test_client()
    with caplog.at_level(logging.WARNING):
        assert client.get("/").status_code == 200
        assert _failed_logins(client, 4) == [200, 200, 200, 429]
    assert any("storage" in r.getMessage().lower() for r in caplog.records)


@pytest.mark.parametrize("hops", [0, 2])
def test_trusted_proxies_is_read_from_the_environment(hops):
    from survey_app.config import environment_overrides

    assert environment_overrides({"SURVEY_TRUSTED_PROXIES": str(hops)}) == {
        "TRUSTED_PROXIES": hops}


def test_redis_down_counts_failed_link_lookups_in_memory(make_app, caplog):
    app = make_app(RATELIMIT_STORAGE_URI="redis://127.0.0.1:1/0", RATELIMIT_ENABLED=True,
                   TOKEN_RATE_LIMIT="2 per day")
    client = app.test_client()
    with caplog.at_level(logging.WARNING):
        codes = [client.get(f"/s/guess{i}").status_code for i in range(3)]
    assert codes == [404, 404, 429]
    warnings = [r for r in caplog.records if "counting failed link lookups" in r.getMessage()]
    # Once per outage, not once per guess (a guesser must not be able to fill the log).
    assert len(warnings) == 1


def test_api_token_guesses_are_throttled_per_address_and_a_valid_token_is_not(
        make_app, session):
    from survey_app.models import Role
    from survey_app.services import api_tokens
    from tests.factories import make_user

    app = make_app(RATELIMIT_ENABLED=True, TOKEN_RATE_LIMIT="2 per day")
    valid = api_tokens.create_api_token(make_user(session, Role.EVALUATOR), session=session)
    session.flush()
    client = app.test_client()
    codes = [client.get("/api/v1/campaigns", headers={"Authorization": f"Bearer guess{i}"}
                        ).status_code for i in range(3)]
    assert codes == [401, 401, 429]
    assert client.get("/api/v1/campaigns", headers={
        "Authorization": f"Bearer {valid}"}).status_code == 200


def _in_network(suffix: str) -> dict:
    return {"environ_base": {"REMOTE_ADDR": f"2001:db8:1:2:{suffix}"}}


def test_an_ipv6_client_is_counted_by_its_network_not_each_address(make_app):
    """A home connection's /64 holds 2**64 addresses: a guesser that changes address on
    every request is still one client (attack3 finding: every limit was endless)."""
    app = make_app(RATELIMIT_STORAGE_URI="memory://", TOKEN_RATE_LIMIT="2 per day", **LIMITED)
    client = app.test_client()
    codes = [client.get(f"/s/guess{i}", **_in_network(f"{i}::1")).status_code for i in range(3)]
    assert codes == [404, 404, 429]
    logins = [_failed_logins(client, 1, **_in_network(f"{i}:0:0:7"))[0] for i in range(4)]
    assert logins == [200, 200, 200, 429]
    # Another network, or an IPv4 client, has its own budget.
    assert client.get("/s/guess", environ_base={"REMOTE_ADDR": "2001:db8:1:3::1"}
                      ).status_code == 404
    assert client.get("/s/guess", environ_base={"REMOTE_ADDR": "198.51.100.7"}
                      ).status_code == 404


def test_unverified_open_answers_from_one_ipv6_network_share_its_limit(make_app, session):
    import uuid

    from tests.public.conftest import RELOCATED_ANSWERS, build_survey_campaign, form_data

    campaign = build_survey_campaign(session).campaign
    session.flush()
    app = make_app(RATELIMIT_STORAGE_URI="memory://", RATELIMIT_ENABLED=True,
                   OPEN_LINK_RATE_LIMIT="2 per hour", OPEN_LINK_DEVICE_LIMIT="100 per hour")
    # A fresh browser each time (no "answered" cookie), a new address of the same /64.
    codes = [app.test_client().post(f"/c/{campaign.slug}/relocated",
                         data=form_data(RELOCATED_ANSWERS, str(uuid.uuid4())),
                         **_in_network(f"{i}::{i}")).status_code for i in range(3)]
    assert codes == [302, 302, 429]


def test_a_device_changing_its_ipv6_address_keeps_its_device_limit(make_app, session):
    """The device limit (address and browser, stricter than the address's) counts an IPv6
    client by its /64 too: keyed on the full address, a new address of the same network on
    every answer escaped it and had the address's larger budget."""
    import uuid

    from tests.public.conftest import RELOCATED_ANSWERS, build_survey_campaign, form_data

    campaign = build_survey_campaign(session).campaign
    session.flush()
    app = make_app(RATELIMIT_STORAGE_URI="memory://", RATELIMIT_ENABLED=True,
                   OPEN_LINK_RATE_LIMIT="100 per hour", OPEN_LINK_DEVICE_LIMIT="2 per hour")
    codes = [app.test_client().post(f"/c/{campaign.slug}/relocated",
                         data=form_data(RELOCATED_ANSWERS, str(uuid.uuid4())),
                         **_in_network(f"{i}::{i}")).status_code for i in range(3)]
    assert codes == [302, 302, 429]
