"""Locale choice: Simplified Chinese unless the visitor picked English."""

from __future__ import annotations

import functools

from babel import support
from flask import Flask, current_app, has_request_context, request, session
from flask_babel import get_locale
from wtforms.i18n import messages_path

SUPPORTED_LOCALES = ("zh", "en")


@functools.cache
def wtforms_translations(locale: str) -> support.Translations:
    """WTForms' own message catalogue for ``locale``, read from disk once per process."""
    return support.Translations.load(messages_path(), [locale], domain="wtforms")


def select_locale() -> str:
    if not has_request_context():  # a command or a job: the default language
        return current_app.config["DEFAULT_LOCALE"]
    chosen = session.get("locale")
    if chosen in SUPPORTED_LOCALES:
        return chosen
    return current_app.config["DEFAULT_LOCALE"]


def init_app(app: Flask) -> None:
    @app.before_request
    def _remember_locale_choice() -> None:
        # ?lang=en on any page switches the language for the rest of the visit.
        lang = request.args.get("lang")
        if lang in SUPPORTED_LOCALES:
            session["locale"] = lang

    @app.before_request
    def _share_wtforms_translations() -> None:
        # Flask-WTF reads WTForms' catalogue from disk in every request that builds a form
        # (an eighth of a survey page's CPU) unless request.wtforms_translations holds it.
        request.wtforms_translations = wtforms_translations(str(get_locale()))

    @app.context_processor
    def _locale_context() -> dict:
        return {"current_locale": select_locale(), "supported_locales": SUPPORTED_LOCALES}
