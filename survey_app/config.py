"""Configuration: in-code defaults, then ``instance/config.py``, then ``SURVEY_*``
environment variables, then the mapping passed to ``create_app`` (tests)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

PLACEHOLDER = "change-me"

# Keys a deployment may set through the environment as SURVEY_<KEY>. The type of
# the default decides how the environment string is parsed.
DEFAULTS: dict[str, Any] = {
    "SECRET_KEY": PLACEHOLDER,
    # Key for keyed hashes (HMAC-SHA256) of ID card numbers and phone numbers.
    "PII_KEY": PLACEHOLDER,
    # Key of the contact vault (AES-256-GCM, derived with HKDF): names, addresses and phones
    # of roster households, shown only to the field worker (services.contact_vault). Not the
    # PII key: rotating it (`survey-app contacts rotate-key`) must not break matching.
    "CONTACT_KEY": PLACEHOLDER,
    # Key of the encrypted link copies that let letters be printed again
    # (services.link_copies); empty: derived from PII_KEY.
    "LINK_KEY": "",
    "DATABASE_URL": "",  # empty: SQLite file in the instance folder
    # A PostgreSQL streaming replica for evaluators' and the API's reads and exports
    # (survey_app.db); empty: no replica, everything on DATABASE_URL.
    "DATABASE_REPLICA_URL": "",
    # After a browser session commits a write, its reads stay on the primary this long.
    "DATABASE_REPLICA_STICKY_SECONDS": 10,
    # A replica that refuses or times out a connection (after this many seconds; libpq's
    # connect_timeout), or lags more than DATABASE_REPLICA_MAX_LAG_SECONDS (0: not asked),
    # sends its reads to the primary for DATABASE_REPLICA_RETRY_SECONDS, then is tried again.
    "DATABASE_REPLICA_CONNECT_TIMEOUT_SECONDS": 3,
    "DATABASE_REPLICA_MAX_LAG_SECONDS": 60,
    "DATABASE_REPLICA_RETRY_SECONDS": 30,
    "RATELIMIT_STORAGE_URI": "memory://",
    "RATELIMIT_ENABLED": True,
    "RATELIMIT_HEADERS_ENABLED": True,  # Retry-After on 429
    "RATELIMIT_KEY_PREFIX": "survey",
    # Redis down: limits go on per process in memory (a warning is logged) instead of every
    # limited page failing with 500.
    "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
    # Reverse proxies in front of the app that set X-Forwarded-For/-Proto (nginx: 1). 0
    # trusts no header: behind a proxy every client would then share the proxy's address
    # and its rate limits.
    "TRUSTED_PROXIES": 0,
    "LOGIN_RATE_LIMIT": "10 per minute",
    "TOKEN_RATE_LIMIT": "30 per minute",
    # Open-link answers that identify no household (stored unverified, counted nowhere by
    # default): per client address and per device (survey_app.guessing.open_submit_refused).
    "OPEN_LINK_RATE_LIMIT": "60 per hour",
    "OPEN_LINK_DEVICE_LIMIT": "5 per hour",
    "DEFAULT_LOCALE": "zh",
    "PUBLIC_BASE_URL": "http://127.0.0.1:5000",
    # The survey is meant for phones on one local network: private addresses in
    # PUBLIC_BASE_URL are then intended, not warned about (services.public_address).
    "PUBLIC_URL_LAN_ONLY": False,
    "SESSION_COOKIE_SECURE": False,
    "MAX_CONTENT_LENGTH": 8 * 1024 * 1024,
    "SQLITE_BUSY_TIMEOUT_MS": 30_000,
    # PostgreSQL: a pooled connection idle this long is tested before use (survey_app.db).
    "DATABASE_PING_IDLE_SECONDS": 5,
    # A survey post may reuse what its open link resolved to this recently; 0: never
    # (services.survey_session.OpenLinks).
    "OPEN_LINK_CACHE_SECONDS": 60,
    # A scores document is kept only once its newest change is this old (services.score_cache).
    "SCORE_CACHE_SETTLE_SECONDS": 120,
    # Scores documents kept per worker (a county's: ~0.3 MB); a province's roll-up reads one
    # per county, so a province deployment sets more than its counties (docs/SCALE.md).
    "SCORE_CACHE_MAX_ENTRIES": 32,
    # SMS invitations and reminders (services.sms_gateways, `survey-app outbox send`):
    # "console" writes each message to SMS_CONSOLE_FILE (development), "aliyun" sends
    # through Alibaba Cloud SMS (SendSms, template SMS_TEMPLATE_* signed SMS_SIGN_NAME).
    "SMS_GATEWAY": "console",
    "SMS_CONSOLE_FILE": "",  # empty: sms-console.txt in the instance folder
    "SMS_SIGN_NAME": "",  # 签名, as approved by the provider
    "SMS_TEMPLATE_INVITATION": "",  # 模板 codes (Alibaba Cloud: SMS_123456789)
    "SMS_TEMPLATE_REMINDER": "",
    "SMS_ALIYUN_ACCESS_KEY_ID": "",
    "SMS_ALIYUN_ACCESS_KEY_SECRET": "",
    "SMS_ALIYUN_ENDPOINT": "https://dysmsapi.aliyuncs.com/",
    "SMS_ALIYUN_REGION": "cn-hangzhou",
    "SMS_HTTP_TIMEOUT_SECONDS": 10,
    # A claimed message whose sender has not finished it this long is looked up at the
    # provider and sent again only if the provider has no record of it.
    "SMS_CLAIM_TIMEOUT_SECONDS": 300,
    "SMS_MAX_ATTEMPTS": 3,
    # Beijing times between which nothing is sent (the sender waits); empty: none.
    "SMS_QUIET_HOURS": "21:00-08:00",
    # Delivery receipts and replies (TD) from the provider: the URL carries this secret
    # (?key=...); empty: the callbacks answer 404.
    "SMS_CALLBACK_SECRET": "",
    "SMS_CALLBACK_RATE_LIMIT": "120 per minute",
    # Optional: every callback post must carry X-Survey-Signature: t=<unix seconds>,
    # sha256=<HMAC-SHA256 of "<t>." and the raw body under this key> (gateway/routes.py,
    # services.sms_callback_signatures); empty: no signature asked.
    "SMS_CALLBACK_SIGNING_KEY": "",
    # With a signing key: how far (seconds) a signature's timestamp may be from now; a post
    # outside it is refused "stale", the same signature twice "replayed".
    "SMS_CALLBACK_SIGNATURE_WINDOW_SECONDS": 300,
    # Items (receipts or replies) one callback post may carry; more: 413, nothing applied.
    "SMS_CALLBACK_MAX_RECEIPTS": 1000,
    # Background jobs (exports, the Word report, letters, roster imports; services.jobs).
    # A Redis URL: jobs go to the RQ queue JOB_QUEUE_NAME and a separate worker runs them
    # (`survey-app jobs worker`). Empty: each job runs in a thread of the web process that
    # started it ("inline", the SQLite pilot's `make run`).
    "JOB_REDIS_URL": "",
    # Without JOB_REDIS_URL: False leaves jobs queued for `survey-app jobs run` (tests).
    "JOB_RUN_INLINE": True,
    "JOB_QUEUE_NAME": "survey-jobs",
    "JOB_FILES_DIR": "",  # empty: jobs/ in the instance folder
    # A running job whose worker has not reported this long is given to the queue again.
    "JOB_LEASE_SECONDS": 60,
    "JOB_MAX_ATTEMPTS": 3,
    # Jobs one user may have queued or running at once; one more is refused (ask later).
    "JOB_MAX_PENDING_PER_USER": 4,
    # Roster files larger than this (bytes) are imported by a background job.
    "JOB_ROSTER_BYTES": 256 * 1024,
    # Rows between two progress reports of an export.
    "JOB_PROGRESS_ROWS": 500,
    # Tests only: a pause after every progress report, so a job can be watched or killed.
    "JOB_TEST_STEP_DELAY_MS": 0,
    # werkzeug's password hash; its default scrypt is n=2**15, r=8, p=1. Tests lower the cost.
    "PASSWORD_HASH_METHOD": "scrypt",
}


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _parse(name: str, raw: str, default: Any) -> Any:
    """``raw`` as the type of ``default``; a value that is not one refuses the start, naming
    the variable (a typo must not silently become ``false``)."""
    if isinstance(default, bool):
        value = raw.strip().lower()
        if value not in _TRUE | _FALSE:
            raise ConfigurationError(f"{name}={raw!r}: expected true or false (1/0, yes/no, "
                                     f"on/off)")
        return value in _TRUE
    if isinstance(default, int):
        try:
            return int(raw)
        except ValueError:
            raise ConfigurationError(f"{name}={raw!r}: expected a whole number "
                                     f"(default {default})") from None
    return raw


def environment_overrides(environ: os._Environ[str] | dict[str, str]) -> dict[str, Any]:
    """Return the settings given as ``SURVEY_<KEY>`` environment variables."""
    found = {}
    for key, default in DEFAULTS.items():
        raw = environ.get(f"SURVEY_{key}")
        if raw is not None:
            found[key] = _parse(f"SURVEY_{key}", raw, default)
    return found


def instance_path(environ: os._Environ[str] | dict[str, str] = os.environ) -> str | None:
    """The instance folder named by ``SURVEY_INSTANCE_PATH`` (made absolute), or None for
    Flask's own: ``instance/`` beside a checkout, ``<venv>/var/survey_app-instance`` for an
    installed package, which a new virtual environment would lose."""
    path = environ.get("SURVEY_INSTANCE_PATH")
    return os.path.abspath(path) if path else None


def default_database_url(instance_path: str) -> str:
    return f"sqlite:///{Path(instance_path) / 'survey.db'}"


class ConfigurationError(RuntimeError):
    """The app was asked to start with settings that are unsafe or invalid."""


#: Settings that must not keep the placeholder outside debug and testing.
SECRET_KEYS = ("SECRET_KEY", "PII_KEY", "CONTACT_KEY")


def refuse_placeholders(config: dict[str, Any], instance_path: str = "instance") -> None:
    """Outside debug and testing, refuse to run with placeholder secrets."""
    bad = [key for key in SECRET_KEYS if config.get(key) in (None, "", PLACEHOLDER)]
    if bad:
        names = ", ".join(f"SURVEY_{key}" for key in bad)
        verb = "has" if len(bad) == 1 else "have"
        raise ConfigurationError(
            f"Refusing to start: {names} still {verb} the placeholder value. Run "
            f"`survey-app init-instance` (writes {Path(instance_path) / 'config.py'} with "
            f"random secrets), or set a long random value in the environment (e.g. "
            f"`python3 -c 'import secrets; print(secrets.token_hex(32))'`)."
        )
    if config.get("CONTACT_KEY") == config.get("PII_KEY"):
        # One leaked or rotated key must not expose or break the other's data.
        raise ConfigurationError("Refusing to start: SURVEY_CONTACT_KEY must differ from "
                                 "SURVEY_PII_KEY (the vault key is rotated on its own).")


def check_public_base_url(url: str) -> None:
    """The printed links and QR codes need a whole web address: without ``http(s)://`` a
    phone's scanner shows the text instead of opening it."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query \
            or parts.fragment:
        raise ConfigurationError(
            f"SURVEY_PUBLIC_BASE_URL={url!r}: expected an address such as "
            f"https://survey.example.gov.cn (http:// or https://, a host, no ? or #); it is "
            f"printed on the letters and in their QR codes")


def check_database_url(name: str, url: str) -> None:
    """A database URL this app can use (SQLite or PostgreSQL), or a ConfigurationError
    naming the variable (the password never shown)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    example = ("postgresql+psycopg://user:password@host:5432/survey or "
               "sqlite:////absolute/path/survey.db")
    try:
        backend = make_url(url).get_backend_name()
    except ArgumentError:
        raise ConfigurationError(f"{name} is not a database URL: expected {example}") from None
    if backend not in ("postgresql", "sqlite"):
        raise ConfigurationError(f"{name} names the database {backend!r}: expected {example}")
