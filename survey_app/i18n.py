"""Locale choice: Simplified Chinese unless the visitor picked English."""

from __future__ import annotations

from flask import Flask, current_app, request, session

SUPPORTED_LOCALES = ("zh", "en")


def select_locale() -> str:
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

    @app.context_processor
    def _locale_context() -> dict:
        return {"current_locale": select_locale(), "supported_locales": SUPPORTED_LOCALES}
