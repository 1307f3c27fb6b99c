"""Flask web application for resident-satisfaction surveys of public housing.

``create_app`` builds the app: configuration, extensions, blueprints (one per role),
CLI commands. Nothing here runs at import time.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from flask import Flask

from survey_app import config as config_module
from survey_app.extensions import babel, csrf, db, limiter, login_manager


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the application.

    Settings are applied in order: in-code defaults, ``instance/config.py``,
    ``SURVEY_*`` environment variables, then ``config`` (tests).
    """
    app = Flask(__name__, instance_relative_config=True,
                instance_path=config_module.instance_path())
    app.config.from_mapping(config_module.DEFAULTS)
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_mapping(config_module.environment_overrides(os.environ))
    if config:
        app.config.from_mapping(config)
    if not app.config["DATABASE_URL"]:
        os.makedirs(app.instance_path, exist_ok=True)
        app.config["DATABASE_URL"] = config_module.default_database_url(app.instance_path)
    if not (app.debug or app.testing):
        config_module.refuse_placeholders(app.config, app.instance_path)
    config_module.check_public_base_url(app.config["PUBLIC_BASE_URL"])
    config_module.check_database_url("SURVEY_DATABASE_URL", app.config["DATABASE_URL"])
    if app.config["DATABASE_REPLICA_URL"]:
        config_module.check_database_url("SURVEY_DATABASE_REPLICA_URL",
                                         app.config["DATABASE_REPLICA_URL"])
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    if app.config["PUBLIC_BASE_URL"].startswith("https://"):
        # Served over HTTPS: cookies must never travel over plain HTTP.
        app.config["SESSION_COOKIE_SECURE"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"

    _init_logging(app)
    _trust_proxies(app)
    _init_extensions(app)
    _register_blueprints(app)
    _register_cli(app)
    return app


def _init_extensions(app: Flask) -> None:
    from survey_app import errors, i18n, labels, security
    from survey_app.i18n_catalogs import translation_directories

    db.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    babel.init_app(
        app,
        locale_selector=i18n.select_locale,
        default_locale=app.config["DEFAULT_LOCALE"],
        default_translation_directories=translation_directories(),
    )
    i18n.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None
    security.init_app(app)
    errors.init_app(app)
    labels.init_app(app)
    from survey_app.services.jobs import failure_reason

    app.add_template_filter(failure_reason, "job_failure_reason")


def _trust_proxies(app: Flask) -> None:
    # Only the given number of proxies' headers are believed: a client can send its own
    # X-Forwarded-For, and the rate limits must not key on what it wrote.
    hops = app.config["TRUSTED_PROXIES"]
    if hops > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)


def _init_logging(app: Flask) -> None:
    import logging

    from survey_app import log_redaction

    # Every record of this process, whoever logs it (werkzeug's access log shows survey
    # tokens in paths; a module's error may quote an ID number), printed by any handler.
    log_redaction.install()
    # Flask-Limiter warns of a Redis outage (limits falling back to memory) on its own
    # logger, which has only a NullHandler: under gunicorn the warning reached no log.
    from flask.logging import default_handler

    limiter_log = logging.getLogger("flask-limiter")
    if default_handler not in limiter_log.handlers:
        limiter_log.addHandler(default_handler)


def _register_blueprints(app: Flask) -> None:
    from survey_app import admin, api, auth, entry, evaluate, gateway, public

    app.register_blueprint(public.bp)
    app.register_blueprint(auth.bp, url_prefix="/auth")
    app.register_blueprint(entry.bp, url_prefix="/entry")
    app.register_blueprint(evaluate.bp, url_prefix="/evaluate")
    app.register_blueprint(admin.bp, url_prefix="/admin")
    app.register_blueprint(api.bp, url_prefix="/api/v1")
    csrf.exempt(api.bp)  # bearer-token API, no cookies
    app.register_blueprint(gateway.bp, url_prefix="/gateway")
    csrf.exempt(gateway.bp)  # the SMS provider's callbacks: a shared secret, no cookies


def _register_cli(app: Flask) -> None:
    from survey_app.cli import register

    register(app)
